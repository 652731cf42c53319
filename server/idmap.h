/* idmap.h -- open-addressing hash map from 64-bit ids to borrowed pointers.
 *
 * Used to route asynchronous results (database jobs) back to a connection that
 * may have closed meanwhile: the connection registers under a fresh id and
 * removes itself on close; a result whose id is gone is dropped. Not
 * thread-safe: service thread only. */
#ifndef SW_IDMAP_H
#define SW_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	uint64_t *keys;  /* 0 = empty, UINT64_MAX = deleted */
	void **vals;
	size_t cap;      /* power of two */
	size_t used;     /* live + deleted slots */
	size_t live;
	uint64_t next_id;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* Returns a new id (never 0) mapped to val, or 0 on allocation failure. */
uint64_t idmap_add(struct idmap *m, void *val);
/* Maps a chosen id (not 0) to val, replacing any value it had (the map is
 * then keyed by the caller, e.g. database ids; do not mix with idmap_add on
 * the same map). 1, or 0 on allocation failure. */
int idmap_put(struct idmap *m, uint64_t id, void *val);
void *idmap_get(const struct idmap *m, uint64_t id);
void idmap_del(struct idmap *m, uint64_t id);

#endif
