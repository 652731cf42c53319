/* idmap.c -- open-addressing (linear probing) id -> pointer map. */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#define TOMB UINT64_MAX

static size_t slot_of(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

void idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
	m->next_id = 1;
}

void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	idmap_init(m);
}

static int grow(struct idmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i;
	uint64_t *ok = m->keys;
	void **ov = m->vals;
	size_t ocap = m->cap;

	/* rehash in place of the same size when mostly tombstones */
	if (m->cap && m->live * 4 < m->cap)
		ncap = m->cap;
	m->keys = calloc(ncap, sizeof(*m->keys));
	m->vals = calloc(ncap, sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		free(m->keys);
		free(m->vals);
		m->keys = ok;
		m->vals = ov;
		return -1;
	}
	m->cap = ncap;
	m->used = m->live = 0;
	for (i = 0; i < ocap; i++) {
		if (ok[i] && ok[i] != TOMB) {
			size_t s = slot_of(ok[i], ncap);
			while (m->keys[s])
				s = (s + 1) & (ncap - 1);
			m->keys[s] = ok[i];
			m->vals[s] = ov[i];
			m->used++;
			m->live++;
		}
	}
	free(ok);
	free(ov);
	return 0;
}

uint64_t idmap_add(struct idmap *m, void *val)
{
	uint64_t id;
	size_t s;

	if ((m->used + 1) * 4 >= m->cap * 3 && grow(m))
		return 0;
	id = m->next_id++;
	if (m->next_id == TOMB)
		m->next_id = 1;
	s = slot_of(id, m->cap);
	while (m->keys[s] && m->keys[s] != TOMB)
		s = (s + 1) & (m->cap - 1);
	if (!m->keys[s])
		m->used++;
	m->keys[s] = id;
	m->vals[s] = val;
	m->live++;
	return id;
}

static size_t find(const struct idmap *m, uint64_t id);

int idmap_put(struct idmap *m, uint64_t id, void *val)
{
	size_t s;

	if (!id || id == TOMB)
		return 0;
	if ((s = find(m, id)) != SIZE_MAX) {
		m->vals[s] = val;
		return 1;
	}
	if ((m->used + 1) * 4 >= m->cap * 3 && grow(m))
		return 0;
	s = slot_of(id, m->cap);
	while (m->keys[s] && m->keys[s] != TOMB)
		s = (s + 1) & (m->cap - 1);
	if (!m->keys[s])
		m->used++;
	m->keys[s] = id;
	m->vals[s] = val;
	m->live++;
	return 1;
}

static size_t find(const struct idmap *m, uint64_t id)
{
	size_t s, n;

	if (!m->cap || !id || id == TOMB)
		return SIZE_MAX;
	s = slot_of(id, m->cap);
	for (n = 0; n < m->cap && m->keys[s]; n++) {
		if (m->keys[s] == id)
			return s;
		s = (s + 1) & (m->cap - 1);
	}
	return SIZE_MAX;
}

void *idmap_get(const struct idmap *m, uint64_t id)
{
	size_t s = find(m, id);

	return s == SIZE_MAX ? NULL : m->vals[s];
}

void idmap_del(struct idmap *m, uint64_t id)
{
	size_t s = find(m, id);

	if (s == SIZE_MAX)
		return;
	m->keys[s] = TOMB;
	m->vals[s] = NULL;
	m->live--;
}
