/* api_tiles.c -- Mapbox Vector Tiles of layers (ST_AsMVT) and their TileJSON. */
#include "http.h"

const struct http_route tiles_routes[] = {
	{ 0, NULL, ROLE_NONE, NULL },
};
