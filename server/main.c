/* main.c -- the shorewatch command: migrate, serve, load, demo-seed. */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "load.h"
#include "log.h"
#include "migrate.h"
#include "registry.h"
#include "alerts.h"
#include "server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shorewatch [--config FILE] COMMAND [ARGS]\n"
		"commands:\n"
		"  migrate      apply schema/ migrations (idempotent); create the admin account\n"
		"  serve        run the server until SIGTERM/SIGINT\n"
		"  load --kind KIND [--name NAME] [--code-field F] [--s-srs SRS] [--encoding ENC] FILE\n"
		"               load a GIS file as a new version of a layer\n"
		"  demo-seed    load the demo river, zones, parking points and vessels (idempotent)\n"
		"environment: SHOREWATCH_DB, SHOREWATCH_HTTP, SHOREWATCH_JT808, SHOREWATCH_NMEA,\n"
		"  SHOREWATCH_AIS, SHOREWATCH_ADMIN_PASSWORD (see README.md)\n");
}

static int cmd_migrate(const struct sw_config *cfg)
{
	char err[1024], generated[32];
	PGconn *c = db_connect_blocking(cfg->db, err, sizeof(err));
	int applied = 0, created = 0;

	if (!c) {
		fprintf(stderr, "shorewatch migrate: %s\n", err);
		return 1;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	if (migrate_run(c, cfg->schema_dir, &applied, err, sizeof(err)) ||
	    migrate_ensure_partitions(c, err, sizeof(err)) ||
	    migrate_ensure_admin(c, getenv("SHOREWATCH_ADMIN_PASSWORD"), &created, generated, err,
				 sizeof(err))) {
		fprintf(stderr, "shorewatch migrate: %s\n", err);
		PQfinish(c);
		return 1;
	}
	{
		uint8_t key[AUTH_KEY_LEN];
		if (settings_load_key(c, key, err, sizeof(err))) {
			fprintf(stderr, "shorewatch migrate: %s\n", err);
			PQfinish(c);
			return 1;
		}
	}
	printf("migrate: %d migration%s applied\n", applied, applied == 1 ? "" : "s");
	if (created && generated[0])
		printf("admin account created; password: %s (shown once)\n", generated);
	else if (created)
		printf("admin account created with SHOREWATCH_ADMIN_PASSWORD\n");
	PQfinish(c);
	return 0;
}

/* ------------------------------------------------------------- demo-seed */

static int layer_exists(PGconn *c, const char *name)
{
	const char *params[1] = { name };
	PGresult *r = PQexecParams(c, "SELECT 1 FROM layers WHERE name = $1 AND current_version_id IS NOT NULL",
				   1, NULL, params, NULL, NULL, 0);
	int yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;

	PQclear(r);
	return yes;
}

static int cmd_demo_seed(const struct sw_config *cfg)
{
	static const struct {
		const char *file, *name, *kind, *code, *title;
	} layers[] = {
		{ "chang_water.geojson", "chang_water", "river", NULL, "昌江水域 (OSM)" },
		{ "chang_river.geojson", "chang_river", "river", NULL, "昌江河道中心线" },
		{ "mining_zones.geojson", "demo_mining_zones", "mining_zone", "code", "可采区（演示）" },
		{ "parking.geojson", "demo_parking", "parking", "code", "集中停放点（演示）" },
		{ "no_mining.geojson", "demo_no_mining", "no_mining", "code", "禁采区（演示）" },
		{ "protection.geojson", "demo_protection", "protection", "code", "饮用水水源保护区（演示）" },
	};
	char err[1024], path[2048];
	PGconn *c = db_connect_blocking(cfg->db, err, sizeof(err));
	json_t *vessels, *v;
	json_error_t je;
	size_t i, added = 0;

	if (!c) {
		fprintf(stderr, "shorewatch demo-seed: %s\n", err);
		return 1;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	for (i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
		struct load_opts o;
		struct load_result r;

		if (layer_exists(c, layers[i].name))
			continue;
		memset(&o, 0, sizeof(o));
		snprintf(path, sizeof(path), "%s/%s", cfg->demo_dir, layers[i].file);
		o.path = path;
		o.kind = layers[i].kind;
		o.name = layers[i].name;
		o.code_field = layers[i].code;
		o.loaded_by = "demo-seed";
		if (load_file(c, &o, &r, err, sizeof(err))) {
			fprintf(stderr, "shorewatch demo-seed: %s\n", err);
			PQfinish(c);
			return 1;
		}
		printf("layer %s version %d: %ld features\n", r.name, r.version, r.feature_count);
		{
			const char *params[2] = { layers[i].name, layers[i].title };
			PQclear(PQexecParams(c, "UPDATE layers SET title = $2 WHERE name = $1", 2, NULL,
					     params, NULL, NULL, 0));
		}
	}
	snprintf(path, sizeof(path), "%s/vessels.json", cfg->demo_dir);
	vessels = json_load_file(path, 0, &je);
	if (!json_is_array(vessels)) {
		fprintf(stderr, "shorewatch demo-seed: %s:%d: %s\n", path, je.line, je.text);
		json_decref(vessels);
		PQfinish(c);
		return 1;
	}
	json_array_foreach(vessels, i, v) {
		const char *params[5];
		PGresult *r;

		params[0] = json_string_value(json_object_get(v, "name"));
		params[1] = json_string_value(json_object_get(v, "registration"));
		params[2] = json_string_value(json_object_get(v, "kind"));
		params[3] = json_string_value(json_object_get(v, "terminal"));
		params[4] = json_string_value(json_object_get(v, "owner"));
		if (!params[0] || !params[3]) {
			fprintf(stderr, "shorewatch demo-seed: %s: vessel %zu lacks name or terminal\n",
				path, i);
			continue;
		}
		r = PQexecParams(c, "INSERT INTO vessels (name, registration, kind, terminal, owner) "
				    "VALUES ($1, $2, coalesce($3, 'sand_mining'), $4, $5) "
				    "ON CONFLICT DO NOTHING",
				 5, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fprintf(stderr, "shorewatch demo-seed: vessel %s: %s", params[0],
				PQresultErrorMessage(r));
		else
			added += (size_t)atoi(PQcmdTuples(r));
		PQclear(r);
		/* its permit for its zone: this year and next, 06:00-20:00 local */
		params[1] = json_string_value(json_object_get(v, "zone"));
		if (params[1] && params[2] && !strcmp(params[2], "sand_mining")) {
			r = PQexecParams(c,
				"INSERT INTO permits (vessel_id, number, zone_layer, zone_code, valid_from,"
				" valid_to, hours_from, hours_to, note, created_by)"
				" SELECT id, '演示许可-' || right(terminal, 3), 'demo_mining_zones', $2,"
				" date_trunc('year', now())::date,"
				" (date_trunc('year', now()) + interval '2 years - 1 day')::date,"
				" '06:00', '20:00', '演示数据 demo data', 'demo-seed'"
				" FROM vessels WHERE terminal = $1 ON CONFLICT DO NOTHING",
				2, NULL, (const char *[]){ params[3], params[1] }, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				fprintf(stderr, "shorewatch demo-seed: permit of %s: %s", params[0],
					PQresultErrorMessage(r));
			PQclear(r);
		}
	}
	printf("demo vessels: %zu added, %zu in the file\n", added, json_array_size(vessels));
	json_decref(vessels);
	PQfinish(c);
	return 0;
}

/* ---------------------------------------------------------------- serve */

static struct sw_server *the_server;

static void on_signal(int sig)
{
	(void)sig;
	if (the_server) {
		the_server->stop = 1;
		if (the_server->ctx)
			lws_cancel_service(the_server->ctx);
	}
}

/* A layer got a new version (NOTIFY shorewatch_layer from any loader,
 * this process or another): tell the live maps. */
static void layer_notified(const char *payload, void *ctx)
{
	struct sw_server *s = ctx;
	json_t *in = json_loads(payload, 0, NULL), *ev;
	char *text;

	if (!in)
		return;
	ev = json_pack("{s:s,s:O?,s:O?,s:O?,s:O?}", "type", "layer", "layer",
		       json_object_get(in, "layer"), "kind", json_object_get(in, "kind"), "version",
		       json_object_get(in, "version"), "features", json_object_get(in, "features"));
	text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	if (text && s->live)
		live_publish(s->live, text, strlen(text));
	alerts_layer_changed(s, json_string_value(json_object_get(in, "kind")));
	free(text);
	json_decref(ev);
	json_decref(in);
}

static void wake_service(void *ctx)
{
	struct sw_server *s = ctx;

	if (s->ctx)
		lws_cancel_service(s->ctx);
}

static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);
	char buf[1024];

	snprintf(buf, sizeof(buf), "%.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
	sw_log(level == LLL_ERR ? SW_LOG_ERROR : SW_LOG_WARN, "lws: %s", buf);
}

/* A raw TCP listener (one protocol) for a feed; NULL after saying why. */
static struct lws_vhost *raw_vhost(struct lws_context *ctx, const char *name,
				   const struct sw_listen *l, struct lws_protocols *protos)
{
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	memset(&info, 0, sizeof(info));
	info.vhost_name = name;
	info.port = l->port;
	info.iface = l->host[0] ? l->host : NULL;
	info.protocols = protos;
	info.options = LWS_SERVER_OPTION_ONLY_RAW;
	vh = lws_create_vhost(ctx, &info);
	if (!vh)
		fprintf(stderr, "shorewatch serve: cannot listen for %s on %s:%d\n", name, l->host,
			l->port);
	return vh;
}

static int cmd_serve(struct sw_config *cfg)
{
	static struct lws_protocols http_protos[3], jt_protos[2], nmea_protos[2], ais_protos[2];
	static const struct lws_protocol_vhost_options pvo_default = { NULL, NULL, "default", "1" };
	static const struct lws_protocol_vhost_options pvo_live = { NULL, &pvo_default, "shorewatch", "" };
	struct lws_context_creation_info info;
	struct sw_server s;
	struct db_opts dbo;
	struct sigaction sa;
	char err[1024];
	PGconn *c;
	PGresult *r;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	idmap_init(&s.conns);

	/* start-up checks, blocking: the schema, the signing key, partitions */
	c = db_connect_blocking(cfg->db, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "shorewatch serve: %s\n", err);
		return 1;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	r = PQexec(c, "SELECT 1 FROM schema_migrations LIMIT 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
		fprintf(stderr, "shorewatch serve: the database has no schema: run 'shorewatch migrate' first\n");
		PQclear(r);
		PQfinish(c);
		return 1;
	}
	PQclear(r);
	if (settings_load_key(c, s.key, err, sizeof(err)) ||
	    migrate_ensure_partitions(c, err, sizeof(err))) {
		fprintf(stderr, "shorewatch serve: %s\n", err);
		PQfinish(c);
		return 1;
	}
	r = PQexec(c, "SELECT current_setting('server_version'), postgis_lib_version()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		snprintf(s.pg_version, sizeof(s.pg_version), "%s", PQgetvalue(r, 0, 0));
		snprintf(s.postgis_version, sizeof(s.postgis_version), "%s", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	PQfinish(c);

	s.live = live_new(&s, (size_t)cfg->live_ring);
	if (ingest_init(&s)) {
		fprintf(stderr, "shorewatch serve: out of memory\n");
		live_free(s.live);
		return 1;
	}
	memset(&dbo, 0, sizeof(dbo));
	dbo.conninfo = cfg->db;
	dbo.workers = cfg->db_workers;
	dbo.writers = cfg->db_writers;
	dbo.batch_max = cfg->batch_max;
	dbo.batch_ms = cfg->batch_ms;
	dbo.wake = wake_service;
	dbo.committed = ingest_committed;
	dbo.notify_channel = "shorewatch_layer";
	dbo.notified = layer_notified;
	dbo.ctx = &s;
	s.db = s.live ? db_start(&dbo) : NULL;
	s.registry = s.db ? registry_new(&s) : NULL;
	s.tiles = tiles_new();
	if (!s.db || !s.registry || !s.tiles) {
		fprintf(stderr, "shorewatch serve: cannot start the database workers\n");
		live_free(s.live);
		return 1;
	}
	if (alerts_start(&s, err, sizeof(err))) {
		fprintf(stderr, "shorewatch serve: alerts: %s\n", err);
		db_stop(s.db);
		live_free(s.live);
		return 1;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.user = &s;
	s.ctx = lws_create_context(&info);
	if (!s.ctx) {
		fprintf(stderr, "shorewatch serve: cannot create the network context\n");
		db_stop(s.db);
		live_free(s.live);
		return 1;
	}

	http_protos[0] = http_protocol;
	http_protos[1] = live_protocol;
	memset(&info, 0, sizeof(info));
	info.vhost_name = "http";
	info.port = cfg->http.port;
	info.iface = cfg->http.host[0] ? cfg->http.host : NULL;
	info.protocols = http_protos;
	info.mounts = http_mounts(&s);
	info.pvo = &pvo_live;
	info.headers = http_headers;
	info.keepalive_timeout = 30;
	s.http_vh = lws_create_vhost(s.ctx, &info);
	if (!s.http_vh) {
		fprintf(stderr, "shorewatch serve: cannot listen for HTTP on %s:%d\n", cfg->http.host,
			cfg->http.port);
		rc = 1;
		goto out;
	}

	jt_protos[0] = jt808_protocol;
	nmea_protos[0] = nmea_protocol;
	ais_protos[0] = ais_protocol;
	s.jt808_vh = raw_vhost(s.ctx, "jt808", &cfg->jt808, jt_protos);
	s.nmea_vh = s.jt808_vh ? raw_vhost(s.ctx, "nmea", &cfg->nmea, nmea_protos) : NULL;
	/* AIS: TCP lines on a raw vhost, and UDP datagrams on the same port */
	s.ais_vh = s.nmea_vh ? raw_vhost(s.ctx, "ais", &cfg->ais, ais_protos) : NULL;
	if (!s.ais_vh) {
		rc = 1;
		goto out;
	}
	if (!lws_create_adopt_udp(s.ais_vh, cfg->ais.host[0] ? cfg->ais.host : "0.0.0.0",
				  cfg->ais.port, LWS_CAUDP_BIND, "ais", NULL, NULL, NULL, NULL)) {
		fprintf(stderr, "shorewatch serve: cannot listen for AIS over UDP on %s:%d\n",
			cfg->ais.host, cfg->ais.port);
		rc = 1;
		goto out;
	}
	the_server = &s;
	alerts_run(&s);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("shorewatch: serving HTTP on http://%s:%d/, JT/T 808 on %s:%d, NMEA on %s:%d, "
		 "AIS on %s:%d (UDP and TCP); database %s, PostGIS %s",
		 cfg->http.host, cfg->http.port, cfg->jt808.host, cfg->jt808.port, cfg->nmea.host,
		 cfg->nmea.port, cfg->ais.host, cfg->ais.port, s.pg_version, s.postgis_version);
	while (!s.stop)
		if (lws_service(s.ctx, 0) < 0)
			break;
	log_info("shorewatch: stopping; flushing positions");
out:
	lws_context_destroy(s.ctx);
	s.ctx = NULL;
	db_stop(s.db); /* flushes every queued position before returning */
	alerts_stop(&s); /* writes the alert changes still queued */
	registry_free(s.registry);
	tiles_free(&s);
	live_free(s.live);
	ingest_free(&s);
	idmap_free(&s.conns);
	the_server = NULL;
	log_info("shorewatch: stopped (%llu positions accepted, %llu rejected)",
		 (unsigned long long)s.positions_accepted, (unsigned long long)s.positions_rejected);
	return rc;
}

int main(int argc, char **argv)
{
	const char *config_file = NULL;
	struct sw_config cfg;
	char err[1024];
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config_file = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			config_file = argv[i] + 9;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "shorewatch: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (config_load(&cfg, config_file, err, sizeof(err))) {
		fprintf(stderr, "shorewatch: %s\n", err);
		return 2;
	}
	sw_log_set_level((enum sw_log_level)cfg.log_level);
	if (auth_init()) {
		fprintf(stderr, "shorewatch: libsodium failed to initialise\n");
		return 1;
	}
	if (!strcmp(argv[i], "migrate"))
		return cmd_migrate(&cfg);
	if (!strcmp(argv[i], "serve"))
		return cmd_serve(&cfg);
	if (!strcmp(argv[i], "load"))
		return load_main(cfg.db, cfg.ledger_map, argc - i, argv + i);
	if (!strcmp(argv[i], "demo-seed"))
		return cmd_demo_seed(&cfg);
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "shorewatch: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
