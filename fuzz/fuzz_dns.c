/*
 * libFuzzer target for runtime/dns.c: dns_parse_query() and the dummy
 * answer builder dns_dummy_reply() on arbitrary bytes (the jail's DNS
 * queries are untrusted input).  Beyond "no crash, no over-read", checks
 * the contract: a reply is at most DNS_UDP_MAX bytes and exists unless the
 * message is dropped; it always keeps the ID, is a response and never
 * says RA; FORMERR/NOTIMP replies are bare headers; an answer echoes the
 * question byte for byte, answers only A/AAAA in class IN with the dummy
 * addresses, and is never NXDOMAIN; the parsed name obeys the label and
 * length limits (checked again here by a separate walk); and a reply fed
 * back in is dropped (two servers can never ping-pong).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An independent walk of the question name: its wire length, or 0. */
static size_t
name_len(const uint8_t *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		if (p[off] == 0)
			return off + 1 <= DNS_MAX_NAME ? off + 1 : 0;
		if (p[off] > 63)
			return 0;
		off += 1u + p[off];
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t a[] = DNS_DUMMY_A, aaaa[] = DNS_DUMMY_AAAA;
	uint8_t out[DNS_UDP_MAX], again[DNS_UDP_MAX], tmp[DNS_UDP_MAX];
	struct dns_query q, q2;
	enum dns_parse st;
	size_t n, an, qlen;

	st = dns_parse_query(data, size, &q);
	if ((unsigned)st >= DNS_PARSE_COUNT)
		abort();
	n = dns_dummy_reply(data, size, out, sizeof(out));
	if (n > DNS_UDP_MAX || (n == 0) != (st == DNS_PARSE_DROP))
		abort();
	if (n == 0) {
		/* Only short messages and responses are dropped. */
		if (size >= DNS_HDR_LEN && !(data[2] & 0x80))
			abort();
		return 0;
	}
	if (out[0] != data[0] || out[1] != data[1] || !(out[2] & 0x80) ||
	    (out[3] & 0x80) || (out[2] & 0x01) != (data[2] & 0x01))
		abort();
	/* A reply is a response: fed back, it gets nothing. */
	if (dns_dummy_reply(out, n, again, sizeof(again)) != 0)
		abort();
	if (st != DNS_PARSE_OK) {
		if (n != DNS_HDR_LEN ||
		    (out[3] & 0x0f) !=
		        (st == DNS_PARSE_NOTIMP ? DNS_RCODE_NOTIMP
		                                : DNS_RCODE_FORMERR))
			abort();
		if ((st == DNS_PARSE_NOTIMP) != ((data[2] & 0x78) != 0))
			abort();
		return 0;
	}

	/* DNS_PARSE_OK: the question. */
	qlen = name_len(data + DNS_HDR_LEN, size - DNS_HDR_LEN);
	if (qlen == 0 || qlen != q.qname_len ||
	    q.q_end != DNS_HDR_LEN + qlen + 4 || q.q_end > size ||
	    q.id != (uint16_t)(data[0] << 8 | data[1]))
		abort();
	if (q.edns ? (q.opt_off != q.q_end || q.opt_off + 11 > size ||
	                 data[q.opt_off] != 0)
	           : size != q.q_end)
		abort();
	if (memcmp(out + DNS_HDR_LEN, data + DNS_HDR_LEN,
	        q.q_end - DNS_HDR_LEN) != 0)
		abort();
	/*
	 * QR, OPCODE 0, AA, no TC (RD as checked above); RA, Z, AD, CD clear,
	 * NOERROR; one question, no authority or additional records.
	 */
	if ((out[2] & 0xfe) != 0x84 || out[3] != DNS_RCODE_NOERROR ||
	    out[4] != 0 || out[5] != 1 || out[6] != 0 || out[8] != 0 ||
	    out[9] != 0 || out[10] != 0 || out[11] != 0)
		abort();
	an = out[7];
	if (q.qclass == DNS_CLASS_IN && q.qtype == DNS_TYPE_A) {
		if (an != 1 || n != q.q_end + 12 + sizeof(a) ||
		    memcmp(out + n - sizeof(a), a, sizeof(a)) != 0)
			abort();
	} else if (q.qclass == DNS_CLASS_IN && q.qtype == DNS_TYPE_AAAA) {
		if (an != 1 || n != q.q_end + 12 + sizeof(aaaa) ||
		    memcmp(out + n - sizeof(aaaa), aaaa, sizeof(aaaa)) != 0)
			abort();
	} else if (an != 0 || n != q.q_end)
		abort();
	if (an == 1 && (out[q.q_end] != 0xc0 || out[q.q_end + 1] != 12))
		abort();

	/* The echoed question, as a query again, parses the same. */
	memcpy(tmp, out, q.q_end);
	tmp[2] = (uint8_t)(data[2] & 0x01);
	tmp[3] = 0;
	tmp[7] = 0;
	if (dns_parse_query(tmp, q.q_end, &q2) != DNS_PARSE_OK ||
	    q2.qname_len != q.qname_len || q2.qtype != q.qtype ||
	    q2.qclass != q.qclass || q2.edns)
		abort();
	return 0;
}
