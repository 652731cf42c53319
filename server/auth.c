/* auth.c -- passwords (Argon2id via libsodium), HMAC-signed tokens, roles. */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static const char *role_names[] = { "none", "viewer", "enforcer", "planner", "admin" };

enum sw_role auth_role_parse(const char *s)
{
	int i;

	for (i = ROLE_VIEWER; i <= ROLE_ADMIN; i++)
		if (s && !strcmp(s, role_names[i]))
			return (enum sw_role)i;
	return ROLE_NONE;
}

const char *auth_role_name(enum sw_role r)
{
	return (r >= ROLE_NONE && r <= ROLE_ADMIN) ? role_names[r] : "none";
}

int auth_role_allows(enum sw_role have, enum sw_role need)
{
	if (need == ROLE_NONE)
		return 1;
	if (have == ROLE_NONE)
		return 0;
	if (have == ROLE_ADMIN || need == ROLE_VIEWER)
		return 1;
	return have == need;
}

int auth_password_hash(const char *password, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str(out, password, strlen(password),
				 crypto_pwhash_OPSLIMIT_INTERACTIVE,
				 crypto_pwhash_MEMLIMIT_INTERACTIVE) ? -1 : 0;
}

int auth_password_verify(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void auth_random_password(char *buf, size_t n)
{
	static const char alpha[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = alpha[randombytes_uniform(sizeof(alpha) - 1)];
	buf[n] = '\0';
}

void auth_random_key_hex(char out[2 * AUTH_KEY_LEN + 1])
{
	uint8_t k[AUTH_KEY_LEN];

	randombytes_buf(k, sizeof(k));
	sodium_bin2hex(out, 2 * AUTH_KEY_LEN + 1, k, sizeof(k));
}

int auth_key_from_hex(const char *hex, uint8_t key[AUTH_KEY_LEN])
{
	size_t n = 0;

	if (sodium_hex2bin(key, AUTH_KEY_LEN, hex, strlen(hex), NULL, &n, NULL) ||
	    n != AUTH_KEY_LEN)
		return -1;
	return 0;
}

static void mac(const uint8_t key[AUTH_KEY_LEN], const char *msg, size_t len,
		uint8_t out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, AUTH_KEY_LEN);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
	crypto_auth_hmacsha256_final(&st, out);
}

int auth_token_make(const uint8_t key[AUTH_KEY_LEN], const struct auth_identity *id,
		    char *out, size_t outlen)
{
	char payload[160];
	uint8_t sig[crypto_auth_hmacsha256_BYTES];
	size_t plen, b64p, b64s;
	int n;

	n = snprintf(payload, sizeof(payload), "%d:%s:%lld:%s", id->user_id,
		     auth_role_name(id->role), (long long)id->expires, id->username);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return -1;
	plen = (size_t)n;
	mac(key, payload, plen, sig);
	b64p = sodium_base64_ENCODED_LEN(plen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	b64s = sodium_base64_ENCODED_LEN(sizeof(sig), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (outlen < b64p + b64s + 1)
		return -1;
	sodium_bin2base64(out, b64p, (const unsigned char *)payload, plen,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = (int)strlen(out);
	out[n++] = '.';
	sodium_bin2base64(out + n, b64s, sig, sizeof(sig), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

int auth_token_check(const uint8_t key[AUTH_KEY_LEN], const char *token, int64_t now,
		     struct auth_identity *id)
{
	const char *dot;
	char payload[161], role[16];
	uint8_t sig[crypto_auth_hmacsha256_BYTES], want[crypto_auth_hmacsha256_BYTES];
	size_t plen = 0, slen = 0;
	long long exp;
	int uid, consumed = 0;

	if (!token || !(dot = strchr(token, '.')))
		return -1;
	if (sodium_base642bin((unsigned char *)payload, sizeof(payload) - 1, token,
			      (size_t)(dot - token), NULL, &plen, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return -1;
	payload[plen] = '\0';
	if (sodium_base642bin(sig, sizeof(sig), dot + 1, strlen(dot + 1), NULL, &slen, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    slen != sizeof(sig))
		return -1;
	mac(key, payload, plen, want);
	if (sodium_memcmp(sig, want, sizeof(sig)))
		return -1;
	if (sscanf(payload, "%d:%15[a-z]:%lld:%n", &uid, role, &exp, &consumed) != 3 || !consumed)
		return -1;
	if (exp < now)
		return -1;
	memset(id, 0, sizeof(*id));
	id->user_id = uid;
	id->role = auth_role_parse(role);
	id->expires = exp;
	snprintf(id->username, sizeof(id->username), "%s", payload + consumed);
	return id->role == ROLE_NONE ? -1 : 0;
}

void auth_terminal_code(const uint8_t key[AUTH_KEY_LEN], const char *phone, char out[17])
{
	char msg[64];
	uint8_t m[crypto_auth_hmacsha256_BYTES];
	int n = snprintf(msg, sizeof(msg), "jt808-auth:%s", phone);

	mac(key, msg, (size_t)n, m);
	sodium_bin2hex(out, 17, m, 8);
}

int auth_terminal_code_ok(const uint8_t key[AUTH_KEY_LEN], const char *phone, const char *code)
{
	char want[17];

	auth_terminal_code(key, phone, want);
	if (strlen(code) != 16)
		return 0;
	return sodium_memcmp(want, code, 16) == 0;
}
