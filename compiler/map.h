/*
 * A deterministic hash map from byte strings to uint32_t, in the arena.
 * Keys are borrowed: they must outlive the map.  Used for interning
 * strings, automaton states, lists and candidate sets.
 */
#ifndef MAP_H
#define MAP_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct map_slot;

struct map {
	struct arena *a;
	struct map_slot *slots;
	uint32_t cap, n;
};

void map_init(struct map *, struct arena *);
/*
 * Looks <key> up, inserting it (value 0) if absent; sets *found.  Returns
 * the value's slot, valid until the next map_put on this map.
 */
uint32_t *map_put(struct map *, const void *key, size_t len, int *found);
/* The same, but a newly inserted key is first copied into the arena. */
uint32_t *map_put_copy(struct map *, const void *key, size_t len, int *found);
/* The stored (borrowed or copied) key of a value slot from map_put*. */
const void *map_key(const uint32_t *val);

#endif
