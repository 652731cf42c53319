/* migrate.c -- applies schema/ migrations in order, records them, seeds admin and settings. */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int is_migration(const char *name)
{
	size_t n = strlen(name);
	size_t i = 0;

	while (name[i] >= '0' && name[i] <= '9')
		i++;
	return i > 0 && name[i] == '_' && n > 4 && !strcmp(name + n - 4, ".sql");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

int migrate_run(PGconn *c, const char *schema_dir, int *applied, char *err, size_t errlen)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = -1;

	*applied = 0;
	dir = opendir(schema_dir);
	if (!dir) {
		snprintf(err, errlen, "%s: %s", schema_dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		if (!is_migration(de->d_name))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);

	if (exec_ok(c, "SELECT pg_advisory_lock(80808080)", err, errlen, "lock"))
		goto out;
	if (exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		       " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
		    err, errlen, "schema_migrations"))
		goto unlock;
	for (i = 0; i < n; i++) {
		const char *params[1] = { names[i] };
		PGresult *r = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
					   1, NULL, params, NULL, NULL, 0);
		int done = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
		char path[2048], *sql;

		PQclear(r);
		if (done)
			continue;
		snprintf(path, sizeof(path), "%s/%s", schema_dir, names[i]);
		sql = read_file(path);
		if (!sql) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto unlock;
		}
		if (exec_ok(c, "BEGIN", err, errlen, names[i])) {
			free(sql);
			goto unlock;
		}
		if (exec_ok(c, sql, err, errlen, names[i])) {
			free(sql);
			PQclear(PQexec(c, "ROLLBACK"));
			goto unlock;
		}
		free(sql);
		r = PQexecParams(c, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, NULL,
				 params, NULL, NULL, 0);
		PQclear(r);
		if (exec_ok(c, "COMMIT", err, errlen, names[i]))
			goto unlock;
		log_info("migrate: applied %s", names[i]);
		(*applied)++;
	}
	rc = 0;
unlock:
	PQclear(PQexec(c, "SELECT pg_advisory_unlock(80808080)"));
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int migrate_ensure_admin(PGconn *c, const char *password, int *created, char *generated,
			 char *err, size_t errlen)
{
	PGresult *r;
	char hash[256];
	const char *params[2];
	int exists;

	*created = 0;
	generated[0] = '\0';
	r = PQexec(c, "SELECT 1 FROM users WHERE username = 'admin'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "users: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	exists = PQntuples(r) > 0;
	PQclear(r);
	if (exists)
		return 0;
	if (!password || !*password) {
		auth_random_password(generated, 16);
		password = generated;
	}
	if (auth_password_hash(password, hash, sizeof(hash))) {
		snprintf(err, errlen, "password hashing failed (out of memory?)");
		return -1;
	}
	params[0] = hash;
	r = PQexecParams(c, "INSERT INTO users (username, password_hash, role) "
			    "VALUES ('admin', $1, 'admin') ON CONFLICT (username) DO NOTHING",
			 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "creating admin: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	*created = atoi(PQcmdTuples(r)) > 0;
	PQclear(r);
	return 0;
}

int settings_load_key(PGconn *c, uint8_t key[AUTH_KEY_LEN], char *err, size_t errlen)
{
	char hex[2 * AUTH_KEY_LEN + 1];
	const char *params[1] = { hex };
	PGresult *r;
	int rc = -1;

	auth_random_key_hex(hex);
	/* first writer wins; everyone then reads the same key */
	r = PQexecParams(c, "INSERT INTO settings (key, value) VALUES ('token_key', $1) "
			    "ON CONFLICT (key) DO NOTHING", 1, NULL, params, NULL, NULL, 0);
	PQclear(r);
	r = PQexec(c, "SELECT value FROM settings WHERE key = 'token_key'");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    auth_key_from_hex(PQgetvalue(r, 0, 0), key) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "cannot read the signing key from settings: %s",
			 PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

int migrate_ensure_partitions(PGconn *c, char *err, size_t errlen)
{
	return exec_ok(c, "SELECT sw_ensure_position_partitions(now() - interval '12 months', "
			  "now() + interval '3 months')", err, errlen, "partitions");
}
