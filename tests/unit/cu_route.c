/* cu_route.c -- unit tests for the API router's path matching and the route table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http.h"

static int match(const char *pattern, const char *path, struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->path, path);
	return http_route_match(pattern, r);
}

static void test_match(void **state)
{
	struct http_req r;

	(void)state;
	assert_true(match("/api/vessels", "/api/vessels", &r));
	assert_true(match("/api/vessels", "/api/vessels/", &r));
	assert_false(match("/api/vessels", "/api/vesselsx", &r));
	assert_false(match("/api/vessels", "/api/vessel", &r));
	assert_false(match("/api/vessels", "/api/vessels//", &r));
	assert_true(match("/api/vessels/{}", "/api/vessels/42", &r));
	assert_string_equal(r.params[0], "42");
	assert_false(match("/api/vessels/{}", "/api/vessels/", &r));
	assert_false(match("/api/vessels/{}", "/api/vessels/42/track", &r));
	assert_true(match("/api/vessels/{}/track", "/api/vessels/7/track", &r));
	assert_string_equal(r.params[0], "7");
	assert_true(match("/collections/{}/items", "/collections/岸线项目/items", &r));
	assert_string_equal(r.params[0], "岸线项目");
	assert_true(match("/tiles/{}/{}/{}/{}", "/tiles/zones/12/3401/1680", &r));
	assert_string_equal(r.params[0], "zones");
	assert_string_equal(r.params[3], "1680");
}

/* Every route of every table declares a role; only the public three need
 * none (the OGC landing page and conformance need a viewer like the rest). */
static void test_route_roles(void **state)
{
	const struct http_route *const tables[] = { api_routes, tiles_routes, layers_routes, upload_routes,
						     alerts_routes, track_routes };
	const struct http_route *rt;
	int public_routes = 0;
	size_t t;

	(void)state;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (rt = tables[t]; rt->pattern; rt++) {
			assert_non_null(rt->fn);
			assert_true(rt->method >= HM_GET && rt->method <= HM_HEAD);
			if (rt->need == ROLE_NONE) {
				public_routes++;
				assert_true(!strcmp(rt->pattern, "/api/health") ||
					    !strcmp(rt->pattern, "/api/config") ||
					    !strcmp(rt->pattern, "/api/login"));
			}
			/* writes need more than a viewer; a query sent as a POST body
			 * (the within-polygon history query) reads only */
			if (rt->method != HM_GET && strcmp(rt->pattern, "/api/query/within"))
				assert_true(rt->need == ROLE_NONE || rt->need >= ROLE_ENFORCER);
		}
	}
	assert_int_equal(public_routes, 3);
}

/* Enforcement acknowledges; only an administrator changes permits and
 * closed seasons; everyone logged in reads them. */
static void test_alert_routes(void **state)
{
	static const struct {
		int method;
		const char *path;
		enum sw_role need;
	} want[] = {
		{ HM_GET, "/api/alerts", ROLE_VIEWER },      { HM_GET, "/api/alerts/7", ROLE_VIEWER },
		{ HM_POST, "/api/alerts/7/ack", ROLE_ENFORCER }, { HM_GET, "/api/permits", ROLE_VIEWER },
		{ HM_POST, "/api/permits", ROLE_ADMIN },     { HM_PATCH, "/api/permits/3", ROLE_ADMIN },
		{ HM_DELETE, "/api/permits/3", ROLE_ADMIN }, { HM_GET, "/api/closed-seasons", ROLE_VIEWER },
		{ HM_POST, "/api/closed-seasons", ROLE_ADMIN }, { HM_DELETE, "/api/closed-seasons/2", ROLE_ADMIN },
		{ HM_GET, "/api/rules", ROLE_VIEWER },       { HM_GET, "/api/fleet", ROLE_VIEWER },
	};
	const struct http_route *rt;
	struct http_req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int found = 0;

		for (rt = alerts_routes; rt->pattern; rt++)
			if (rt->method == want[i].method && match(rt->pattern, want[i].path, &r)) {
				found++;
				assert_int_equal(rt->need, want[i].need);
			}
		assert_int_equal(found, 1);
	}
	assert_false(auth_role_allows(ROLE_VIEWER, ROLE_ENFORCER));
	assert_false(auth_role_allows(ROLE_PLANNER, ROLE_ENFORCER));
	assert_true(auth_role_allows(ROLE_ENFORCER, ROLE_ENFORCER));
	assert_true(auth_role_allows(ROLE_ADMIN, ROLE_ENFORCER));
}

/* The OGC API Features routes exist and need a viewer. */
static void test_ogc_routes(void **state)
{
	static const char *const paths[] = { "/", "/api", "/conformance", "/collections",
					      "/collections/x", "/collections/x/items",
					      "/collections/x/items/1", "/api/layers/x/versions",
					      "/api/layers/x/diff" };
	const struct http_route *rt;
	struct http_req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int found = 0;

		for (rt = layers_routes; rt->pattern; rt++) {
			if (rt->method == HM_GET && match(rt->pattern, paths[i], &r)) {
				found++;
				assert_int_equal(rt->need, ROLE_VIEWER);
			}
		}
		assert_int_equal(found, 1);
	}
	assert_false(match("/", "/index.html", &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_route_roles),
		cmocka_unit_test(test_ogc_routes),
		cmocka_unit_test(test_alert_routes),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
