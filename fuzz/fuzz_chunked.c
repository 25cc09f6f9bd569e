/*
 * Fuzz target for the chunked transfer-coding decoder (runtime/chunk.c).
 * The input is decoded once in one piece and then several times in
 * pieces of pseudo-random sizes (seeded from the input), each piece in
 * its own exact-size malloc'ed buffer so ASan sees any over-read.  Aborts
 * when a split changes the verdict (error, end of body, or waiting for
 * more), the number of bytes consumed, or the concatenated data; when a
 * data span lies outside its piece or spans exceed MAX_CHUNK_SPANS; or
 * when a call consumes nothing while input is left and the body is not
 * over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct run {
	int status;		/* PARSE_BAD, 1 done, 0 needs more */
	size_t consumed;
	char *data;		/* concatenated data, at most <size> bytes */
	size_t ndata;
};

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Decodes <data> in pieces; max_piece 0 = one piece. */
static void
decode(const uint8_t *data, size_t size, uint32_t seed, size_t max_piece,
    struct run *res)
{
	struct chunk_dec dec;
	struct chunk_out out;
	size_t off = 0, piece, done, i;
	char *buf;
	int r;

	res->status = 0;
	res->consumed = 0;
	res->ndata = 0;
	chunk_init(&dec);
	while (off < size) {
		piece = size - off;
		if (max_piece > 0)
			piece = 1 + next(&seed) % max_piece;
		if (piece > size - off)
			piece = size - off;
		buf = malloc(piece);
		if (buf == NULL)
			abort();
		memcpy(buf, data + off, piece);
		for (done = 0; done < piece;) {
			r = chunk_feed(&dec, buf + done, piece - done, &out);
			if (r == PARSE_BAD) {
				free(buf);
				res->status = PARSE_BAD;
				return;
			}
			if (r < 0 || (size_t)r > piece - done ||
			    out.ndata > MAX_CHUNK_SPANS)
				abort();
			for (i = 0; i < out.ndata; i++) {
				if (out.data[i].n == 0 ||
				    out.data[i].p < buf + done ||
				    out.data[i].p + out.data[i].n >
				    buf + done + (size_t)r)
					abort();
				if (res->ndata + out.data[i].n > size)
					abort();
				memcpy(res->data + res->ndata, out.data[i].p,
				    out.data[i].n);
				res->ndata += out.data[i].n;
			}
			done += (size_t)r;
			res->consumed += (size_t)r;
			if (out.done) {
				if (!chunk_done(&dec))
					abort();
				free(buf);
				res->status = 1;
				return;
			}
			if (r == 0)
				abort();	/* stuck with input left */
		}
		free(buf);
		off += piece;
	}
	res->status = chunk_done(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = { 1, 2, 3, 7, 64 };
	struct run whole, split;
	uint32_t seed = 2463534242u;
	size_t i;

	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	if (seed == 0)
		seed = 1;
	whole.data = malloc(size + 1);
	split.data = malloc(size + 1);
	if (whole.data == NULL || split.data == NULL)
		abort();
	decode(data, size, seed, 0, &whole);
	for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		decode(data, size, seed + (uint32_t)i, maxes[i], &split);
		if (split.status != whole.status)
			abort();
		if (whole.status != PARSE_BAD &&
		    (split.consumed != whole.consumed ||
		    split.ndata != whole.ndata ||
		    memcmp(split.data, whole.data, whole.ndata) != 0))
			abort();
	}
	free(split.data);
	free(whole.data);
	return 0;
}
