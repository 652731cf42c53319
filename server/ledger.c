/* ledger.c -- shoreline ledger: mapping checks and the call of sw_ledger_fill() (schema/004_ledger.sql). */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Keep in step with sw_ledger_default_mapping() in schema/004_ledger.sql. */
static const char ledger_default[] =
	"{\"project_name\": [\"项目名称\", \"名称\", \"project_name\", \"name\"],"
	" \"approval_no\": [\"批复文号\", \"批准文号\", \"审批文号\", \"approval_no\"],"
	" \"owner\": [\"业主单位\", \"建设单位\", \"权属人\", \"owner\"],"
	" \"use_type\": [\"利用类型\", \"用途\", \"项目类型\", \"use_type\"],"
	" \"function_zone\": [\"功能区\", \"岸线功能区\", \"function_zone\"],"
	" \"approved_on\": [\"批复日期\", \"批准日期\", \"审批日期\", \"approved_on\"],"
	" \"valid_from\": [\"起始日期\", \"有效期起\", \"valid_from\"],"
	" \"valid_to\": [\"终止日期\", \"有效期止\", \"valid_to\"]}";

static const char *const ledger_fields[] = {
	"project_name", "approval_no", "owner",      "use_type",
	"function_zone", "approved_on", "valid_from", "valid_to", NULL,
};

const char *ledger_default_mapping(void)
{
	return ledger_default;
}

static int ledger_field_known(const char *k)
{
	size_t i;

	for (i = 0; ledger_fields[i]; i++)
		if (!strcmp(k, ledger_fields[i]))
			return 1;
	return 0;
}

/* Checks a parsed mapping; the same rules as sw_ledger_mapping() in SQL. */
static int ledger_map_check_json(const json_t *m, char *err, size_t errlen)
{
	const char *k;
	json_t *v, *e;
	size_t i;

	if (!json_is_object(m)) {
		snprintf(err, errlen, "ledger mapping must be a JSON object of field: [column names]");
		return LEDGER_ERR_MAP;
	}
	json_object_foreach((json_t *)m, k, v) {
		if (!ledger_field_known(k)) {
			snprintf(err, errlen,
				 "ledger mapping: \"%s\" is not a ledger field (project_name, approval_no,"
				 " owner, use_type, function_zone, approved_on, valid_from, valid_to)",
				 k);
			return LEDGER_ERR_MAP;
		}
		if (!json_is_array(v))
			goto not_strings;
		json_array_foreach(v, i, e)
			if (!json_is_string(e))
				goto not_strings;
		continue;
not_strings:
		snprintf(err, errlen, "ledger mapping: \"%s\" must be an array of column names (strings)",
			 k);
		return LEDGER_ERR_MAP;
	}
	return 0;
}

int ledger_map_check(const char *json, char *err, size_t errlen)
{
	json_error_t je;
	json_t *m;
	int rc;

	m = json ? json_loads(json, 0, &je) : NULL;
	if (!m) {
		snprintf(err, errlen, "ledger mapping is not JSON: %s (line %d)",
			 json ? je.text : "empty", json ? je.line : 0);
		return LEDGER_ERR_MAP;
	}
	rc = ledger_map_check_json(m, err, errlen);
	json_decref(m);
	return rc;
}

char *ledger_map_read(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	char why[400];
	json_t *m;
	char *out;

	m = json_load_file(path, 0, &je);
	if (!m) {
		snprintf(err, errlen, "ledger_map %s: %s (line %d)", path, je.text, je.line);
		return NULL;
	}
	if (ledger_map_check_json(m, why, sizeof(why))) {
		snprintf(err, errlen, "ledger_map %s: %s", path, why);
		json_decref(m);
		return NULL;
	}
	out = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!out)
		snprintf(err, errlen, "ledger_map %s: out of memory", path);
	return out;
}

/* Copies the server's message of res (first line, without "ERROR:  ") into err. */
static void ledger_db_message(PGconn *c, const PGresult *res, char *err, size_t errlen)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t n;

	if (!m)
		m = PQerrorMessage(c);
	n = strcspn(m, "\n");
	snprintf(err, errlen, "%.*s", (int)n, m);
}

int ledger_fill(PGconn *c, int version_id, const char *mapping_json, char *err, size_t errlen)
{
	char vid[24];
	const char *p[2];
	PGresult *res;
	int rows;

	if (err && errlen)
		err[0] = '\0';
	if (mapping_json && ledger_map_check(mapping_json, err, errlen))
		return LEDGER_ERR_MAP;
	snprintf(vid, sizeof(vid), "%d", version_id);
	p[0] = vid;
	p[1] = mapping_json;
	res = PQexecParams(c, "SELECT sw_ledger_fill($1::integer, $2::jsonb)", 2, NULL, p, NULL,
			   NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		ledger_db_message(c, res, err, errlen);
		PQclear(res);
		return LEDGER_ERR_DB;
	}
	rows = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);

	/* A second statement: the first one's snapshot cannot see the rows its function made.
	 * Counts the dates that did not parse and names at most 3 for the load report. The join
	 * on the version as well as the id lets the planner read only that version's partition
	 * of features (schema/005). */
	res = PQexecParams(c,
		"WITH bad AS (SELECT coalesce(f.fid::text, '?') AS fid, d.key, d.value"
		"   FROM ledger_projects lp JOIN features f ON f.id = lp.feature_id"
		"   AND f.layer_version_id = lp.layer_version_id,"
		"   jsonb_each_text(lp.bad_dates) d WHERE lp.layer_version_id = $1::integer)"
		" SELECT count(*), (SELECT string_agg(format('fid %s %s \"%s\"', fid, key, value), ', ')"
		"   FROM (SELECT * FROM bad ORDER BY fid, key LIMIT 3) b) FROM bad",
		1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		ledger_db_message(c, res, err, errlen);
		PQclear(res);
		return LEDGER_ERR_DB;
	}
	if (atol(PQgetvalue(res, 0, 0)) > 0 && err && errlen)
		snprintf(err, errlen, "ledger: %s date(s) not understood, left empty: %s%s",
			 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
			 atol(PQgetvalue(res, 0, 0)) > 3 ? ", ..." : "");
	PQclear(res);
	return rows;
}

int ledger_fill_file(PGconn *c, int version_id, const char *map_path, char *err, size_t errlen)
{
	char *m = NULL;
	int rc;

	if (map_path && map_path[0] && !(m = ledger_map_read(map_path, err, errlen)))
		return LEDGER_ERR_MAP;
	rc = ledger_fill(c, version_id, m, err, errlen);
	free(m);
	return rc;
}
