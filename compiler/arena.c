/*
 * Bump allocator for one compiler run.  Blocks are at least ARENA_BLOCK
 * bytes; a larger request gets a block of its own.  Memory is 16-byte
 * aligned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_BLOCK (1u << 20)
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < n) {
		fprintf(stderr, "boundary-compile: allocation too large\n");
		exit(2);
	}
	if (b == NULL || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		b = malloc(sizeof(*b) + size);
		if (b == NULL) {
			fprintf(stderr, "boundary-compile: out of memory\n");
			exit(2);
		}
		b->size = size;
		b->used = 0;
		if (a->head != NULL && need > ARENA_BLOCK) {
			/* keep filling the current block; file the big one behind */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->used;
	b->used += need;
	a->total += need;
	return p;
}

void *
arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *
arena_grow(struct arena *a, void *old, size_t n, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p;

	if (ncap > SIZE_MAX / size) {
		fprintf(stderr, "boundary-compile: allocation too large\n");
		exit(2);
	}
	p = arena_alloc(a, ncap * size);
	if (n > 0)
		memcpy(p, old, n * size);
	*cap = ncap;
	return p;
}

void
arena_free(struct arena *a)
{
	struct arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->total = 0;
}
