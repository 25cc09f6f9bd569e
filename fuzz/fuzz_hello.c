/*
 * libFuzzer target for runtime/hello.c: hello_parse() on arbitrary bytes.
 * Beyond "no crash, no over-read", checks the contract: a success consumes
 * at most the input and HELLO_MAX_LEN, reparsing exactly the consumed bytes
 * gives the same answer, and the SNI is a valid lowercase host name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hello h, h2;
	size_t i;
	int r;

	r = hello_parse(data, size, &h);
	if (r != HELLO_BAD && r != HELLO_INCOMPLETE && r <= 0)
		abort();
	if (r <= 0)
		return 0;
	if ((size_t)r > size || (size_t)r > HELLO_MAX_LEN)
		abort();
	if (h.sni.n > MAX_HOST_LEN || (h.sni.n > 0 && h.sni.p != h.host))
		abort();
	for (i = 0; i < h.sni.n; i++) {
		char c = h.host[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			abort();
	}
	if (h.sni.n > 0 && h.host[h.sni.n] != '\0')
		abort();
	if (hello_parse(data, (size_t)r, &h2) != r ||
	    !view_eq(h.sni, h2.sni) || h.alpn_http11 != h2.alpn_http11 ||
	    h.alpn_h2 != h2.alpn_h2)
		abort();
	/* one byte less is a prefix: never a success */
	if (hello_parse(data, (size_t)r - 1, &h2) > 0)
		abort();
	return 0;
}
