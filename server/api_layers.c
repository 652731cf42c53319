/* api_layers.c -- layer versions, version diffs and the OGC API Features endpoints. */
#include "http.h"

const struct http_route layers_routes[] = {
	{ 0, NULL, ROLE_NONE, NULL },
};
