/* migrate.h -- schema migrations, the admin account and server settings (blocking; commands and start-up only). */
#ifndef SW_MIGRATE_H
#define SW_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

/* Applies schema_dir/NNN_*.sql not yet recorded in schema_migrations, in
 * order, each in its own transaction, under an advisory lock so that two
 * processes never migrate at once. *applied counts the new ones.
 * Returns 0, or -1 with a message naming the file and the database error. */
int migrate_run(PGconn *c, const char *schema_dir, int *applied, char *err, size_t errlen);

/* Creates the `admin` account if there is none. The password is `password`
 * when non-NULL/non-empty, else generated into `generated` (>= 17 bytes).
 * *created says whether an account was made. 0 or -1. */
int migrate_ensure_admin(PGconn *c, const char *password, int *created, char *generated,
			 char *err, size_t errlen);

/* Reads the token/auth signing key from settings, creating it on first use. */
int settings_load_key(PGconn *c, uint8_t key[AUTH_KEY_LEN], char *err, size_t errlen);

/* Makes monthly position partitions from a year back to three months ahead. */
int migrate_ensure_partitions(PGconn *c, char *err, size_t errlen);

#endif
