/*
 * Streaming decoder of the chunked transfer-coding (RFC 9112 section 7.1),
 * private to runtime/.  It validates the framing of a body as it passes
 * through the proxy and says which bytes are data, so the caller can
 * either forward the input verbatim or re-emit the data with framing of
 * its own.  All state lives in the caller's struct chunk_dec; nothing is
 * allocated, and input may arrive split at any byte.
 */
#ifndef CHUNK_H
#define CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "view.h"

#ifndef PARSE_BAD
#define PARSE_BAD (-1)		/* malformed input: answer and close */
#define PARSE_INCOMPLETE (-2)	/* a prefix of valid input: read more */
#endif

/* Decoder state; the fields are private to chunk.c. */
struct chunk_dec {
	int state;		/* where in the grammar the next byte goes */
	uint64_t size;		/* data bytes left in the current chunk */
	size_t line_len;	/* bytes of the current chunk-size line */
	size_t trailer_len;	/* bytes of the trailer section */
};

/*
 * What one chunk_feed() call found.  data[] are views into its <in>, in
 * order; every other consumed byte was framing (chunk-size lines with
 * their extensions, the CRLF after each chunk's data, the last chunk, the
 * trailer section and the final CRLF).
 */
struct chunk_out {
	struct view data[MAX_CHUNK_SPANS];
	size_t ndata;
	int done;		/* the body ended with the last consumed byte */
};

/* Starts decoding a new body. */
void chunk_init(struct chunk_dec *dec);

/*
 * Consumes as much of <in> (<n> bytes) as it can and fills <out>.  Stops
 * early when the body ends (out->done; the rest of <in> belongs to the
 * next message) or when MAX_CHUNK_SPANS data spans were reported (call
 * again with the rest).  Returns the number of bytes consumed (0 only when
 * <n> is 0 or the body had already ended), or PARSE_BAD for bad framing: a
 * chunk-size that is not hex or exceeds MAX_CHUNK_SIZE, a chunk-size line
 * longer than MAX_CHUNK_LINE or with a chunk-ext that is not
 * *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ), data
 * not followed by CRLF, a trailer field line with bad syntax or a trailer
 * section longer than MAX_CHUNK_TRAILER, a bare LF or CR.  After
 * PARSE_BAD the decoder stays failed.  At most INT_MAX bytes are looked at
 * per call.  Borrows <in>; never reads at or past in + n.
 */
int chunk_feed(struct chunk_dec *dec, const char *in, size_t n,
    struct chunk_out *out) __attribute__((warn_unused_result));

/* The name of the decoder's state, for debug logs: "data", "bad", ... */
const char *chunk_state_str(const struct chunk_dec *dec);

/* Whether the whole body, trailer section included, has been consumed. */
int chunk_done(const struct chunk_dec *dec);

#endif
