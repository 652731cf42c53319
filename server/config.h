/* config.h -- Shorewatch configuration: defaults, config file, environment. */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include "rules.h"
#include <stddef.h>

struct sw_listen {
	char host[128];
	int port;
};

struct sw_config {
	char db[1024];            /* libpq conninfo or URI */
	struct sw_listen http;    /* HTTP + WebSocket */
	struct sw_listen jt808;   /* JT/T 808 TCP */
	struct sw_listen nmea;    /* NMEA 0183 TCP */
	struct sw_listen ais;     /* AIS UDP + TCP */
	char web_root[1024];      /* directory served at / */
	char schema_dir[1024];    /* migrations */
	char demo_dir[1024];      /* demo data (layers, vessels.json) */
	char basemap_url[512];    /* optional raster tile URL template */
	double map_center[2];     /* lon, lat */
	double map_zoom;
	int db_workers;           /* query worker threads */
	int db_writers;           /* position writer threads */
	int batch_max;            /* positions per write batch */
	int batch_ms;             /* longest a position waits for its batch */
	int live_ring;            /* events kept for WebSocket clients */
	int token_ttl_s;          /* login token lifetime */
	int jt808_tz_offset_s;    /* default terminal clock offset (GMT+8) */
	int future_tolerance_s;   /* device times later than now + this are rejected */
	int log_level;            /* 0 debug .. 3 error */
	int upload_max;           /* largest GIS file upload in bytes (413 beyond) */
	char ledger_map[1024];    /* JSON file: ledger field -> source columns; "": built-in */
	int permits_refresh_s;    /* re-read permits, seasons and vessels this often */
	struct rules_config rules; /* alert thresholds: keys rules_<field> */
};

/* Fills defaults, then reads `file` (may be NULL: no file), then applies the
 * SHOREWATCH_* environment variables. The file is `key = value` lines with #
 * comments; keys are the struct's field names (http, jt808, db, ...).
 * Returns 0, or -1 with a message naming the file, line and reason. */
/* The alert thresholds settable as rules_<name> (config file) or
 * SHOREWATCH_RULES_<NAME> (environment); NULL-terminated. type: 'i' int,
 * 'd' double, 'u' uint32 (0x.. allowed). */
struct rules_field {
	const char *name;
	char type;
	size_t offset;
	double lo, hi;
};
extern const struct rules_field rules_fields[];
/* Sets one threshold from text. 0, -1 bad value, -2 unknown name. */
int rules_set(struct rules_config *rc, const char *name, const char *v);

int config_load(struct sw_config *c, const char *file, char *err, size_t errlen);

/* Parses "host:port", "[v6]:port" or ":port". Returns 0 or -1. */
int config_parse_listen(const char *s, struct sw_listen *out);

/* The conninfo of the embedded cluster under ./var/ (used when SHOREWATCH_DB
 * and the config file name no database). */
void config_default_db(char *out, size_t len);

#endif
