/*
 * Chunked transfer-coding decoder (RFC 9112 section 7.1): a hand-written
 * state machine, because it must stop after any byte and resume in the
 * next call with its state in struct chunk_dec.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk   = 1*"0" [ chunk-ext ] CRLF
 *   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   ext-val      = token / quoted-string
 *   trailer-section = *( field-line CRLF )
 *
 * Data bytes are reported as views into the caller's input; the decoder
 * never copies them.
 */
#include <string.h>

#include "chunk.h"

/*
 * INT_MAX, the most one call can return; not from <limits.h>, which the
 * fuzz and generated-code builds shadow with runtime/limits.h (-Iruntime).
 */
#define FEED_MAX ((size_t)(~0u >> 1))

/* Where the next byte goes. */
enum chunk_state {
	ST_SIZE0,	/* first hex digit of a chunk-size */
	ST_SIZE,	/* further hex digits, or what follows the size */
	ST_BWS_SEMI,	/* BWS, then ";" */
	ST_EXT_NAME0,	/* BWS, then the first byte of an ext-name */
	ST_EXT_NAME,	/* ext-name bytes, or what follows the name */
	ST_BWS_SEMI_EQ,	/* BWS after an ext-name: then ";" or "=" */
	ST_EXT_VAL0,	/* BWS after "=", then a token or quoted-string */
	ST_EXT_VAL,	/* token ext-val */
	ST_EXT_QS,	/* inside a quoted-string ext-val */
	ST_EXT_QP,	/* after a backslash in a quoted-string */
	ST_EXT_QEND,	/* after the closing quote */
	ST_SIZE_LF,	/* LF ending the chunk-size line */
	ST_DATA,	/* chunk-data, size bytes left */
	ST_DATA_CR,	/* CR after the data */
	ST_DATA_LF,	/* LF after the data */
	ST_TRL0,	/* start of a trailer line, or CR of the final CRLF */
	ST_TRL_NAME,	/* field-name bytes, then ":" */
	ST_TRL_VALUE,	/* field-value bytes, then CR */
	ST_TRL_LF,	/* LF ending a trailer line */
	ST_END_LF,	/* LF of the final CRLF */
	ST_DONE,	/* the body has ended */
	ST_BAD,		/* bad framing was seen; stays here */
	ST_COUNT
};

static const char *const state_name[ST_COUNT] = {
	[ST_SIZE0] = "size0", [ST_SIZE] = "size",
	[ST_BWS_SEMI] = "bws-semi", [ST_EXT_NAME0] = "ext-name0",
	[ST_EXT_NAME] = "ext-name", [ST_BWS_SEMI_EQ] = "bws-semi-eq",
	[ST_EXT_VAL0] = "ext-val0", [ST_EXT_VAL] = "ext-val",
	[ST_EXT_QS] = "ext-qs", [ST_EXT_QP] = "ext-qp",
	[ST_EXT_QEND] = "ext-qend", [ST_SIZE_LF] = "size-lf",
	[ST_DATA] = "data", [ST_DATA_CR] = "data-cr",
	[ST_DATA_LF] = "data-lf", [ST_TRL0] = "trailer0",
	[ST_TRL_NAME] = "trailer-name", [ST_TRL_VALUE] = "trailer-value",
	[ST_TRL_LF] = "trailer-lf", [ST_END_LF] = "end-lf",
	[ST_DONE] = "done", [ST_BAD] = "bad",
};

const char *
chunk_state_str(const struct chunk_dec *dec)
{
	int st = dec->state;

	if (st < 0 || st >= ST_COUNT || state_name[st] == NULL)
		return "?";
	return state_name[st];
}

/* RFC 9110 section 5.6.2 */
static int
is_tchar(unsigned c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL;
}

static int
hex_value(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* HTAB, SP, VCHAR, obs-text: bytes allowed in field values and escapes */
static int
is_fchar(unsigned c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* qdtext (RFC 9110 section 5.6.4) */
static int
is_qdtext(unsigned c)
{
	return c == '\t' || c == ' ' || c == 0x21 ||
	    (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

void
chunk_init(struct chunk_dec *dec)
{
	memset(dec, 0, sizeof(*dec));
	dec->state = ST_SIZE0;
}

int
chunk_done(const struct chunk_dec *dec)
{
	return dec->state == ST_DONE;
}

/*
 * One framing byte <c> in the chunk-size line states: the next state, or
 * ST_BAD.
 */
static int
size_line_byte(struct chunk_dec *dec, unsigned c)
{
	int h;

	/* line_len counts the CR too */
	if (dec->state != ST_SIZE_LF && ++dec->line_len > MAX_CHUNK_LINE + 1)
		return ST_BAD;
	switch (dec->state) {
	case ST_SIZE0:
		h = hex_value(c);
		if (h == -1)
			return ST_BAD;
		dec->size = (uint64_t)h;
		return ST_SIZE;
	case ST_SIZE:
		h = hex_value(c);
		if (h != -1) {
			if (dec->size > (MAX_CHUNK_SIZE - (uint64_t)h) / 16)
				return ST_BAD;
			dec->size = dec->size * 16 + (uint64_t)h;
			return ST_SIZE;
		}
		if (c == ';')
			return ST_EXT_NAME0;
		if (c == ' ' || c == '\t')
			return ST_BWS_SEMI;
		if (c == '\r')
			return ST_SIZE_LF;
		return ST_BAD;
	case ST_BWS_SEMI:
		if (c == ' ' || c == '\t')
			return ST_BWS_SEMI;
		if (c == ';')
			return ST_EXT_NAME0;
		return ST_BAD;
	case ST_EXT_NAME0:
		if (c == ' ' || c == '\t')
			return ST_EXT_NAME0;
		return is_tchar(c) ? ST_EXT_NAME : ST_BAD;
	case ST_EXT_NAME:
		if (is_tchar(c))
			return ST_EXT_NAME;
		if (c == ';')
			return ST_EXT_NAME0;
		if (c == '=')
			return ST_EXT_VAL0;
		if (c == ' ' || c == '\t')
			return ST_BWS_SEMI_EQ;
		if (c == '\r')
			return ST_SIZE_LF;
		return ST_BAD;
	case ST_BWS_SEMI_EQ:
		if (c == ' ' || c == '\t')
			return ST_BWS_SEMI_EQ;
		if (c == ';')
			return ST_EXT_NAME0;
		if (c == '=')
			return ST_EXT_VAL0;
		return ST_BAD;
	case ST_EXT_VAL0:
		if (c == ' ' || c == '\t')
			return ST_EXT_VAL0;
		if (c == '"')
			return ST_EXT_QS;
		return is_tchar(c) ? ST_EXT_VAL : ST_BAD;
	case ST_EXT_VAL:
		if (is_tchar(c))
			return ST_EXT_VAL;
		/* FALLTHROUGH */
	case ST_EXT_QEND:
		if (c == ';')
			return ST_EXT_NAME0;
		if (c == ' ' || c == '\t')
			return ST_BWS_SEMI;
		if (c == '\r')
			return ST_SIZE_LF;
		return ST_BAD;
	case ST_EXT_QS:
		if (c == '"')
			return ST_EXT_QEND;
		if (c == '\\')
			return ST_EXT_QP;
		return is_qdtext(c) ? ST_EXT_QS : ST_BAD;
	case ST_EXT_QP:
		return is_fchar(c) ? ST_EXT_QS : ST_BAD;
	case ST_SIZE_LF:
		if (c != '\n')
			return ST_BAD;
		dec->line_len = 0;
		return dec->size == 0 ? ST_TRL0 : ST_DATA;
	}
	return ST_BAD;
}

/* One byte of the trailer section: the next state, or ST_BAD. */
static int
trailer_byte(struct chunk_dec *dec, unsigned c)
{
	if (++dec->trailer_len > MAX_CHUNK_TRAILER)
		return ST_BAD;
	switch (dec->state) {
	case ST_TRL0:
		if (c == '\r')
			return ST_END_LF;
		return is_tchar(c) ? ST_TRL_NAME : ST_BAD;
	case ST_TRL_NAME:
		if (is_tchar(c))
			return ST_TRL_NAME;
		return c == ':' ? ST_TRL_VALUE : ST_BAD;
	case ST_TRL_VALUE:
		if (c == '\r')
			return ST_TRL_LF;
		return is_fchar(c) ? ST_TRL_VALUE : ST_BAD;
	case ST_TRL_LF:
		return c == '\n' ? ST_TRL0 : ST_BAD;
	case ST_END_LF:
		return c == '\n' ? ST_DONE : ST_BAD;
	}
	return ST_BAD;
}

int
chunk_feed(struct chunk_dec *dec, const char *in, size_t n,
    struct chunk_out *out)
{
	size_t i = 0, take;
	unsigned c;

	out->ndata = 0;
	out->done = 0;
	if (n > FEED_MAX)
		n = FEED_MAX;
	while (i < n) {
		switch (dec->state) {
		case ST_DONE:
			return (int)i;
		case ST_BAD:
			return PARSE_BAD;
		case ST_DATA:
			if (out->ndata == MAX_CHUNK_SPANS)
				return (int)i;
			take = n - i;
			if ((uint64_t)take > dec->size)
				take = (size_t)dec->size;
			out->data[out->ndata++] = view_make(in + i, take);
			dec->size -= take;
			i += take;
			if (dec->size == 0)
				dec->state = ST_DATA_CR;
			continue;
		case ST_DATA_CR:
			dec->state = in[i++] == '\r' ? ST_DATA_LF : ST_BAD;
			continue;
		case ST_DATA_LF:
			dec->state = in[i++] == '\n' ? ST_SIZE0 : ST_BAD;
			continue;
		case ST_TRL0:
		case ST_TRL_NAME:
		case ST_TRL_VALUE:
		case ST_TRL_LF:
		case ST_END_LF:
			c = (unsigned char)in[i++];
			dec->state = trailer_byte(dec, c);
			if (dec->state == ST_DONE) {
				out->done = 1;
				return (int)i;
			}
			continue;
		default:
			c = (unsigned char)in[i++];
			dec->state = size_line_byte(dec, c);
			continue;
		}
	}
	if (dec->state == ST_BAD)
		return PARSE_BAD;
	return (int)i;
}
