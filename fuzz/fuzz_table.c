/*
 * The .bpol loader is the trust boundary (STYLE rule 18): arbitrary bytes
 * must be refused with a message or accepted, never crash or hang, and an
 * accepted table must decide any request safely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/bt_format.h"
#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static const struct {
	const char *m, *h, *p;
} reqs[] = {
	{ "GET", "github.com", "/" },
	{ "GET", "api.github.com", "/repos/x/y" },
	{ "POST", "a.b.c.d.example.org", "/v1/users/" },
	{ "DELETE", "10.0.0.1", "/x/y/z" },
	{ "HEAD", "[::1]", "/" },
	{ "PATCH", "com", "/a%2Fb/c" },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt bt;
	char err[256];
	uint64_t *buf;
	size_t i;

	/* the loader wants 8-byte alignment, as mmap and malloc give */
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	/*
	 * Half of the inputs get a correct checksum, so that mutations reach
	 * the structural validation behind it instead of stopping there.
	 */
	if (size >= sizeof(struct bt_header) && (data[size - 1] & 1)) {
		struct bt_header h;
		memcpy(&h, buf, sizeof(h));
		h.checksum = 0;
		memcpy(buf, &h, sizeof(h));
		h.checksum = bt_checksum((const unsigned char *)buf, size);
		memcpy(buf, &h, sizeof(h));
	}
	if (bt_load_mem(&bt, buf, size, err, sizeof(err)) == 0) {
		for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
			struct bt_req rq = { view_cstr(reqs[i].m),
				view_cstr(reqs[i].h), view_cstr(reqs[i].p) };
			struct verdict v;
			bt_decide(&bt, &rq, &v);
			if (v.reason == REASON_ALLOWED) {
				/* read the whole rule text: it must be in bounds */
				static char text[BT_MAX_RULE_TEXT];
				size_t k, tn = bt_rule_text(&bt, v.rule, text,
				    sizeof(text));
				if (tn > sizeof(text))
					abort();
				for (k = 0; k < tn; k++)
					sink += (unsigned char)text[k];
			} else if (v.rule != BT_NONE)
				abort();
		}
		bt_close(&bt);
	} else if (err[0] == '\0')
		abort();	/* a refusal must say why */
	free(buf);
	return 0;
}
