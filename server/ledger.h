/* ledger.h -- shoreline ledger: typed project fields mapped from a layer version's source columns. */
#ifndef SW_LEDGER_H
#define SW_LEDGER_H

#include <stddef.h>

#include <libpq-fe.h>

/* Status codes: 0 ok (or a row count), negative errors. */
enum ledger_status {
	LEDGER_ERR_MAP = -1, /* the mapping is not a JSON object of field: [column names] */
	LEDGER_ERR_DB = -2   /* the database refused (unknown version, connection lost, ...) */
};

/* The built-in mapping, a JSON object: ledger field -> source columns tried in order
 * (project_name, approval_no, owner, use_type, function_zone, approved_on, valid_from,
 * valid_to). Static storage; the same text as sw_ledger_default_mapping() in
 * schema/004_ledger.sql. */
const char *ledger_default_mapping(void);

/* Checks that json is a mapping: an object whose keys are ledger fields and whose values are
 * arrays of strings (keys left out keep their built-in columns). Returns 0, or LEDGER_ERR_MAP
 * with one line in err naming the offending key. */
int ledger_map_check(const char *json, char *err, size_t errlen);

/* Reads and checks the mapping file at path. Returns the file's JSON, compacted, owned by the
 * caller (free()), or NULL with one line in err naming the file and the reason. */
char *ledger_map_read(const char *path, char *err, size_t errlen);

/* Fills the ledger rows (ledger_projects) of layer version version_id from its features' props
 * with mapping_json (borrowed; NULL: the built-in mapping), by calling sw_ledger_fill() on c in
 * whatever transaction c is in (the loader's, so a failure rolls the load back). Returns the
 * number of rows filled, with err set to "" or to one line about dates that did not parse
 * (those stay NULL); or a negative ledger_status with one line in err. Blocks on the database:
 * database worker thread or CLI only. */
int ledger_fill(PGconn *c, int version_id, const char *mapping_json, char *err, size_t errlen);

/* ledger_fill with the mapping read from the file map_path (NULL or "": the built-in
 * mapping), e.g. the `ledger_map` setting. Same returns. */
int ledger_fill_file(PGconn *c, int version_id, const char *map_path, char *err, size_t errlen);

#endif
