/* Open-addressed byte-string map; see map.h. */
#include <stddef.h>
#include <string.h>

#include "../runtime/bt_format.h"
#include "map.h"

struct map_slot {
	uint64_t hash;
	const void *key;
	size_t len;
	uint32_t val;
	int used;
};

void
map_init(struct map *m, struct arena *a)
{
	m->a = a;
	m->cap = 64;
	m->n = 0;
	m->slots = arena_zalloc(a, m->cap * sizeof(*m->slots));
}

static void
grow(struct map *m)
{
	struct map_slot *old = m->slots;
	uint32_t oldcap = m->cap, i, j;

	m->cap *= 2;
	m->slots = arena_zalloc(m->a, m->cap * sizeof(*m->slots));
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		j = (uint32_t)old[i].hash & (m->cap - 1);
		while (m->slots[j].used)
			j = (j + 1) & (m->cap - 1);
		m->slots[j] = old[i];
	}
}

static uint32_t *
put(struct map *m, const void *key, size_t len, int *found, int copy)
{
	uint64_t h = bt_hash_bytes(key, len, 0x6d61706d61706d61ull);
	uint32_t i;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	i = (uint32_t)h & (m->cap - 1);
	while (m->slots[i].used) {
		struct map_slot *s = &m->slots[i];
		if (s->hash == h && s->len == len &&
		    (len == 0 || memcmp(s->key, key, len) == 0)) {
			*found = 1;
			return &s->val;
		}
		i = (i + 1) & (m->cap - 1);
	}
	if (copy && len > 0) {
		void *k = arena_alloc(m->a, len);
		memcpy(k, key, len);
		key = k;
	}
	m->slots[i].used = 1;
	m->slots[i].hash = h;
	m->slots[i].key = key;
	m->slots[i].len = len;
	m->slots[i].val = 0;
	m->n++;
	*found = 0;
	return &m->slots[i].val;
}

uint32_t *
map_put(struct map *m, const void *key, size_t len, int *found)
{
	return put(m, key, len, found, 0);
}

uint32_t *
map_put_copy(struct map *m, const void *key, size_t len, int *found)
{
	return put(m, key, len, found, 1);
}

const void *
map_key(const uint32_t *val)
{
	const struct map_slot *s = (const struct map_slot *)(const void *)
	    ((const char *)val - offsetof(struct map_slot, val));
	return s->key;
}
