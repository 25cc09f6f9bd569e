/*
 * Proves that deciding allocates nothing (issue 2, STYLE rule 16) with a
 * counting allocator: this program replaces malloc and friends, loads a
 * compiled policy, canonicalises a list of requests, then decides each of
 * them many times and checks that the allocator was not called once during
 * the decisions.  Built without sanitizers (they bring their own malloc).
 *
 * usage: noalloc POLICY.bpol REQUESTS   (lines "METHOD URL")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/bt_format.h"
#include "runtime/runtime.h"

void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);

static unsigned long long calls;

void *
malloc(size_t n)
{
	calls++;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	calls++;
	return __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	calls++;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	if (p != NULL)
		calls++;
	__libc_free(p);
}

struct rq {
	char host[MAX_HOST_LEN + 8];
	char path[512];
	char method[MAX_METHOD_LEN + 1];
	struct bt_req req;
};

int
main(int argc, char **argv)
{
	static struct rq rqs[4096];
	struct bt bt;
	char err[256], line[8192];
	FILE *f;
	size_t n = 0, i, rounds, allowed = 0;
	unsigned long long before;
	int t = 0, fails = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: noalloc POLICY.bpol REQUESTS\n");
		return 2;
	}
	if (bt_load_file(&bt, argv[1], err, sizeof(err)) == -1) {
		printf("not ok 1 - load %s: %s\n# 0 passed, 1 failed\n", argv[1],
		    err);
		return 1;
	}
	f = fopen(argv[2], "r");
	if (f == NULL) {
		perror(argv[2]);
		return 2;
	}
	while (n < sizeof(rqs) / sizeof(rqs[0]) && fgets(line, sizeof(line), f)) {
		struct rq *r = &rqs[n];
		struct url_parts u;
		enum host_kind kind;
		uint16_t port;
		char *sp = strchr(line, ' ');
		int hn, pn;

		line[strcspn(line, "\r\n")] = '\0';
		if (sp == NULL || (size_t)(sp - line) > MAX_METHOD_LEN)
			continue;
		memcpy(r->method, line, (size_t)(sp - line));
		r->method[sp - line] = '\0';
		if (url_split(view_cstr(sp + 1), &u) == -1)
			continue;
		hn = url_host_canon(u.authority, r->host, sizeof(r->host), &port,
		    &kind);
		pn = url_path_canon(u.path, r->path, sizeof(r->path));
		if (hn == -1 || pn == -1)
			continue;
		r->req.method = view_cstr(r->method);
		r->req.host = view_make(r->host, (size_t)hn);
		r->req.path = view_make(r->path, (size_t)pn);
		n++;
	}
	fclose(f);
	printf("ok %d - %zu requests canonicalised\n", ++t, n);

	rounds = n ? 200000 / n + 1 : 0;
	before = calls;
	for (size_t k = 0; k < rounds; k++)
		for (i = 0; i < n; i++) {
			struct verdict v;
			bt_decide(&bt, &rqs[i].req, &v);
			allowed += v.reason == REASON_ALLOWED;
		}
	if (calls == before && n > 0 && allowed > 0 && allowed < rounds * n)
		printf("ok %d - %zu decisions (%zu allowed), 0 allocator calls\n",
		    ++t, rounds * n, allowed);
	else {
		printf("not ok %d - %llu allocator calls during %zu decisions "
		    "(%zu allowed)\n", ++t, calls - before, rounds * n, allowed);
		fails++;
	}
	/* the hook itself works: a malloc is seen */
	before = calls;
	{
		void *volatile p = malloc(16);
		free(p);
	}
	fails += calls - before != 2;
	printf("%s %d - the counting hook sees allocations\n",
	    calls - before == 2 ? "ok" : "not ok", ++t);
	bt_close(&bt);
	printf("# %d passed, %d failed\n", t - fails, fails);
	return fails != 0;
}
