/* auth.h -- password hashing (libsodium Argon2id), signed login tokens, roles,
 * and JT/T 808 authentication codes. */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include <stddef.h>
#include <stdint.h>

enum sw_role {
	ROLE_NONE = 0,   /* route needs no login */
	ROLE_VIEWER,
	ROLE_ENFORCER,
	ROLE_PLANNER,
	ROLE_ADMIN,
};

#define AUTH_KEY_LEN 32

/* Call once before any other function (libsodium init). 0 or -1. */
int auth_init(void);

/* "viewer" -> ROLE_VIEWER ...; ROLE_NONE for unknown names. */
enum sw_role auth_role_parse(const char *s);
const char *auth_role_name(enum sw_role r);
/* Whether a user holding `have` may use a route that needs `need`: admin
 * may do everything; enforcer and planner each add their own rights to a
 * viewer's. */
int auth_role_allows(enum sw_role have, enum sw_role need);

/* Argon2id hash string into out (crypto_pwhash_STRBYTES). Slow by design:
 * call from a worker thread, never the service thread. 0 or -1. */
int auth_password_hash(const char *password, char *out, size_t outlen);
/* 1 if the password matches the stored hash, else 0. Slow, as above. */
int auth_password_verify(const char *hash, const char *password);

/* Fills buf with n random characters from an unambiguous alphabet. */
void auth_random_password(char *buf, size_t n);
/* Random key as lowercase hex (2 * AUTH_KEY_LEN chars + NUL). */
void auth_random_key_hex(char out[2 * AUTH_KEY_LEN + 1]);
/* Parses a hex key. 0 or -1. */
int auth_key_from_hex(const char *hex, uint8_t key[AUTH_KEY_LEN]);

struct auth_identity {
	int user_id;
	enum sw_role role;
	int64_t expires;          /* unix seconds */
	char username[64];
};

/* Token: base64url(payload) "." base64url(HMAC-SHA256(key, payload)).
 * Returns 0 or -1 (buffer too small). */
int auth_token_make(const uint8_t key[AUTH_KEY_LEN], const struct auth_identity *id,
		    char *out, size_t outlen);
/* Verifies signature and expiry against `now`. 0 and *id filled, or -1. */
int auth_token_check(const uint8_t key[AUTH_KEY_LEN], const char *token, int64_t now,
		     struct auth_identity *id);

/* JT/T 808 auth code for a terminal: derived from the server key and the
 * terminal's phone number, so it survives restarts and needs no storage.
 * 16 hex characters + NUL. */
void auth_terminal_code(const uint8_t key[AUTH_KEY_LEN], const char *phone, char out[17]);
/* Constant-time comparison of the expected and presented codes: 1 if equal. */
int auth_terminal_code_ok(const uint8_t key[AUTH_KEY_LEN], const char *phone, const char *code);

#endif
