/* cu_auth.c -- unit tests for passwords, tokens, roles and JT/T 808 auth codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "auth.h"

static const uint8_t key[AUTH_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static int setup(void **state)
{
	(void)state;
	return auth_init();
}

static void test_password_roundtrip(void **state)
{
	char hash[256];

	(void)state;
	assert_int_equal(auth_password_hash("岸线 secret", hash, sizeof(hash)), 0);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_true(auth_password_verify(hash, "岸线 secret"));
	assert_false(auth_password_verify(hash, "岸线 secreT"));
	assert_false(auth_password_verify(hash, ""));
	assert_false(auth_password_verify("not a hash", "x"));
	assert_int_equal(auth_password_hash("x", hash, 10), -1);
}

static void test_token_roundtrip(void **state)
{
	struct auth_identity id = { 7, ROLE_ENFORCER, 2000000000, "执法员_li" }, got;
	char tok[512];

	(void)state;
	assert_int_equal(auth_token_make(key, &id, tok, sizeof(tok)), 0);
	assert_int_equal(auth_token_check(key, tok, 1900000000, &got), 0);
	assert_int_equal(got.user_id, 7);
	assert_int_equal(got.role, ROLE_ENFORCER);
	assert_string_equal(got.username, "执法员_li");
	/* expired */
	assert_int_equal(auth_token_check(key, tok, 2000000001, &got), -1);
	/* too small a buffer */
	assert_int_equal(auth_token_make(key, &id, tok, 20), -1);
}

static void test_token_tampering(void **state)
{
	struct auth_identity id = { 1, ROLE_VIEWER, 2000000000, "viewer" }, got;
	uint8_t other[AUTH_KEY_LEN];
	char tok[512], forged[512];
	size_t i;

	(void)state;
	memset(other, 9, sizeof(other));
	assert_int_equal(auth_token_make(key, &id, tok, sizeof(tok)), 0);
	/* another key */
	assert_int_equal(auth_token_check(other, tok, 1, &got), -1);
	/* every single-character change is refused */
	for (i = 0; tok[i]; i++) {
		strcpy(forged, tok);
		forged[i] = forged[i] == 'A' ? 'B' : 'A';
		if (!strcmp(forged, tok))
			continue;
		assert_int_equal(auth_token_check(key, forged, 1, &got), -1);
	}
	/* a payload claiming admin with the viewer's signature */
	id.role = ROLE_ADMIN;
	assert_int_equal(auth_token_make(key, &id, forged, sizeof(forged)), 0);
	strcpy(strchr(forged, '.'), strchr(tok, '.'));
	assert_int_equal(auth_token_check(key, forged, 1, &got), -1);
	assert_int_equal(auth_token_check(key, "", 1, &got), -1);
	assert_int_equal(auth_token_check(key, "abc", 1, &got), -1);
	assert_int_equal(auth_token_check(key, ".", 1, &got), -1);
	assert_int_equal(auth_token_check(key, NULL, 1, &got), -1);
}

static void test_roles(void **state)
{
	(void)state;
	assert_int_equal(auth_role_parse("viewer"), ROLE_VIEWER);
	assert_int_equal(auth_role_parse("admin"), ROLE_ADMIN);
	assert_int_equal(auth_role_parse("root"), ROLE_NONE);
	assert_int_equal(auth_role_parse(NULL), ROLE_NONE);
	assert_string_equal(auth_role_name(ROLE_PLANNER), "planner");
	/* table: have x need */
	{
		static const int want[5][5] = {
			/* need:   none viewer enforcer planner admin */
			/* none */ { 1, 0, 0, 0, 0 },
			/* viewer */ { 1, 1, 0, 0, 0 },
			/* enforcer */ { 1, 1, 1, 0, 0 },
			/* planner */ { 1, 1, 0, 1, 0 },
			/* admin */ { 1, 1, 1, 1, 1 },
		};
		int have, need;

		for (have = ROLE_NONE; have <= ROLE_ADMIN; have++)
			for (need = ROLE_NONE; need <= ROLE_ADMIN; need++)
				assert_int_equal(auth_role_allows(have, need), want[have][need]);
	}
}

static void test_terminal_code(void **state)
{
	char code[17], code2[17];
	uint8_t other[AUTH_KEY_LEN];

	(void)state;
	memset(other, 3, sizeof(other));
	auth_terminal_code(key, "13800000001", code);
	assert_int_equal(strlen(code), 16);
	assert_true(auth_terminal_code_ok(key, "13800000001", code));
	assert_false(auth_terminal_code_ok(key, "13800000002", code));
	assert_false(auth_terminal_code_ok(other, "13800000001", code));
	assert_false(auth_terminal_code_ok(key, "13800000001", ""));
	assert_false(auth_terminal_code_ok(key, "13800000001", "0123456789abcdef0"));
	/* stable across calls (survives restarts: derived, not stored) */
	auth_terminal_code(key, "13800000001", code2);
	assert_string_equal(code, code2);
}

static void test_random(void **state)
{
	char a[17], b[17], hex[2 * AUTH_KEY_LEN + 1];
	uint8_t k[AUTH_KEY_LEN];

	(void)state;
	auth_random_password(a, 16);
	auth_random_password(b, 16);
	assert_int_equal(strlen(a), 16);
	assert_string_not_equal(a, b);
	auth_random_key_hex(hex);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(auth_key_from_hex(hex, k), 0);
	assert_int_equal(auth_key_from_hex("abcd", k), -1);
	assert_int_equal(auth_key_from_hex("zz", k), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_roundtrip), cmocka_unit_test(test_token_roundtrip),
		cmocka_unit_test(test_token_tampering),    cmocka_unit_test(test_roles),
		cmocka_unit_test(test_terminal_code),      cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests_name("auth", tests, setup, NULL);
}
