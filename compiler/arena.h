/*
 * One bump arena per compiler run (STYLE rule 14): everything the compiler
 * builds comes from here and is released at once by arena_free().
 * Allocation failure is fatal (the compiler is a batch tool).
 */
#ifndef ARENA_H
#define ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t total;		/* bytes handed out, for statistics */
};

void *arena_alloc(struct arena *, size_t n) __attribute__((malloc));
void *arena_zalloc(struct arena *, size_t n) __attribute__((malloc));
char *arena_strndup(struct arena *, const char *s, size_t n);
/* Growable array in the arena: returns a new block of 2x, copies n*size. */
void *arena_grow(struct arena *, void *old, size_t n, size_t *cap, size_t size);
void arena_free(struct arena *);

#endif
