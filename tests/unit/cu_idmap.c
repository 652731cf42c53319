/* cu_idmap.c -- unit tests for the id -> pointer map that routes async results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "idmap.h"

static void test_basic(void **state)
{
	struct idmap m;
	int a, b;
	uint64_t ia, ib;

	(void)state;
	idmap_init(&m);
	assert_null(idmap_get(&m, 1));
	ia = idmap_add(&m, &a);
	ib = idmap_add(&m, &b);
	assert_true(ia && ib && ia != ib);
	assert_ptr_equal(idmap_get(&m, ia), &a);
	assert_ptr_equal(idmap_get(&m, ib), &b);
	idmap_del(&m, ia);
	assert_null(idmap_get(&m, ia));
	assert_ptr_equal(idmap_get(&m, ib), &b);
	idmap_del(&m, ia); /* twice is harmless */
	idmap_del(&m, 0);
	assert_null(idmap_get(&m, 0));
	assert_null(idmap_get(&m, UINT64_MAX));
	idmap_free(&m);
}

/* Churn like a server: connections come and go; ids are never reused and a
 * removed id never finds a newer connection. */
static void test_churn(void **state)
{
	enum { N = 20000 };
	struct idmap m;
	uint64_t *ids = calloc(N, sizeof(*ids));
	int *vals = calloc(N, sizeof(*vals));
	int i, round;

	(void)state;
	idmap_init(&m);
	for (round = 0; round < 5; round++) {
		for (i = 0; i < N; i++) {
			ids[i] = idmap_add(&m, &vals[i]);
			assert_true(ids[i] != 0);
		}
		for (i = 0; i < N; i += 2)
			idmap_del(&m, ids[i]);
		for (i = 0; i < N; i++)
			assert_ptr_equal(idmap_get(&m, ids[i]), (i % 2) ? &vals[i] : NULL);
		for (i = 1; i < N; i += 2)
			idmap_del(&m, ids[i]);
		assert_int_equal(m.live, 0);
	}
	/* the table does not grow without bound under churn */
	assert_true(m.cap <= 4 * 65536);
	idmap_free(&m);
	free(ids);
	free(vals);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests_name("idmap", tests, NULL, NULL);
}
