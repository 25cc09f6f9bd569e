/*
 * Deterministic generator of realistic allowlist policies and of requests
 * aimed at them, for the benchmarks (tests/bench/README.md).  Everything is
 * driven by one fixed-seed PRNG, so a run is repeatable byte for byte.
 *
 * A policy of n rules looks like a large organisation's allowlist: mostly
 * exact API hosts (api.<word><i>.<tld>), some leading wildcards
 * (*.<word><i>.<tld>), a few middle wildcards (api.*.<word><i>.<tld>),
 * method lists on a quarter of the rules, path lists of literal and
 * wildcard segments (a trailing '*' after /v1, /api/<word>, ...) on about a
 * third, and two universal rules (domain=* with a path)
 * at one third and two thirds of the list.
 *
 * Header-only; every function is static and marked unused so that a
 * benchmark may use any subset of them under -Werror.
 */
#ifndef GEN_POLICY_H
#define GEN_POLICY_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GEN_UNUSED __attribute__((unused))
#define GEN_TEXT_MAX 256	/* rule text, request host or path */

/* ---- PRNG: splitmix64 ---------------------------------------------------- */

struct gen_rng {
	uint64_t s;
};

static GEN_UNUSED uint64_t
gen_next(struct gen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias is negligible). */
static GEN_UNUSED uint32_t
gen_below(struct gen_rng *r, uint32_t n)
{
	return (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* 1 with probability pct/100. */
static GEN_UNUSED int
gen_pct(struct gen_rng *r, uint32_t pct)
{
	return gen_below(r, 100) < pct;
}

/* ---- vocabulary ---------------------------------------------------------- */

static const char *const gen_words[] = {
	"github", "npmjs", "pypi", "docker", "golang", "rustlang", "maven",
	"gradle", "nuget", "rubygems", "cargo", "hashicorp", "cloudflare",
	"fastly", "akamai", "stripe", "twilio", "sentry", "datadog", "grafana",
	"elastic", "mongo", "redis", "postgres", "mysql", "kafka", "stack",
	"openai", "anthropic", "huggingface", "jfrog", "sonatype", "gitlab",
	"bitbucket", "atlassian", "slack", "zoom", "okta", "auth0", "vercel",
	"netlify", "heroku", "render", "fly", "supabase", "firebase", "azure",
	"amazon", "google", "oracle", "ibm", "intel", "nvidia", "debian",
	"ubuntu", "fedora", "alpine", "arch", "gentoo", "nix", "brew", "conda",
	"jupyter", "kaggle",
};
#define GEN_NWORDS (sizeof(gen_words) / sizeof(gen_words[0]))

static const char *const gen_tlds[] = {
	"com", "com", "com", "io", "io", "org", "net", "dev", "co.uk",
};
#define GEN_NTLDS (sizeof(gen_tlds) / sizeof(gen_tlds[0]))

static const char *const gen_prefixes[] = {
	"api", "api", "www", "cdn", "static", "auth", "registry", "uploads",
	"docs", "download",
};
#define GEN_NPREFIXES (sizeof(gen_prefixes) / sizeof(gen_prefixes[0]))

/* Path patterns; %w is replaced by a word, %d by a digit 1-3. */
static const char *const gen_path_templates[] = {
	"/v1/*", "/v2/*,/v1/*", "/api/%w/*", "/repos/*/*/git/*", "/%w",
	"/%w/*/edit", "/static/*,/favicon.ico", "/simple/*",
	"/-/v1/search,/-/v1/login", "/api/v%d/%w", "/v%d/users/*/profile",
	"/graphql", "/%w/%w", "/download/*",
};
#define GEN_NPATHS (sizeof(gen_path_templates) / sizeof(gen_path_templates[0]))

static const char *const gen_method_lists[] = {
	"GET,HEAD", "GET,HEAD", "GET,HEAD", "GET,HEAD", "GET,HEAD",
	"GET,POST,PUT,DELETE", "POST",
};
#define GEN_NMETHODLISTS (sizeof(gen_method_lists) / sizeof(gen_method_lists[0]))

static const char *const gen_methods[] = {
	"GET", "GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST",
	"HEAD", "PUT", "DELETE", "PATCH", "OPTIONS",
};
#define GEN_NMETHODS (sizeof(gen_methods) / sizeof(gen_methods[0]))

/* ---- policies -------------------------------------------------------------- */

enum gen_host_kind {
	GEN_HOST_EXACT,		/* api.stripe12.com */
	GEN_HOST_LEADING,	/* *.stripe12.com */
	GEN_HOST_MIDDLE,	/* api.*.stripe12.com */
	GEN_HOST_ANY		/* domain=* */
};

struct gen_rule {
	enum gen_host_kind kind;
	char host[GEN_TEXT_MAX];	/* the domain pattern as written */
	char paths[GEN_TEXT_MAX];	/* the path list, "" when none */
	const char *methods;		/* the method list, NULL when none */
	char text[GEN_TEXT_MAX];	/* the whole rule */
};

/* Appends <s> to the NUL-terminated <buf> of capacity GEN_TEXT_MAX. */
static GEN_UNUSED void
gen_cat(char *buf, const char *s)
{
	size_t n = strlen(buf), m = strlen(s);

	if (n + m >= GEN_TEXT_MAX)
		m = GEN_TEXT_MAX - 1 - n;
	memcpy(buf + n, s, m);
	buf[n + m] = '\0';
}

/* Expands %w and %d of a path template into <out>. */
static GEN_UNUSED void
gen_expand(struct gen_rng *r, const char *tpl, char *out)
{
	char one[2] = { 0, 0 };

	out[0] = '\0';
	for (; *tpl != '\0'; tpl++) {
		if (tpl[0] == '%' && tpl[1] == 'w') {
			gen_cat(out, gen_words[gen_below(r, GEN_NWORDS)]);
			tpl++;
		} else if (tpl[0] == '%' && tpl[1] == 'd') {
			one[0] = (char)('1' + gen_below(r, 3));
			gen_cat(out, one);
			tpl++;
		} else {
			one[0] = *tpl;
			gen_cat(out, one);
		}
	}
}

/*
 * Fills rules[0, n) with a policy.  Rule texts are distinct: every host
 * pattern carries the rule's index.
 */
static GEN_UNUSED void
gen_policy(struct gen_rng *r, uint32_t n, struct gen_rule *rules)
{
	uint32_t i, u1 = n / 3, u2 = 2 * n / 3;
	char num[16];

	for (i = 0; i < n; i++) {
		struct gen_rule *g = &rules[i];
		uint32_t k = gen_below(r, 100);
		const char *w = gen_words[gen_below(r, GEN_NWORDS)];
		const char *tld = gen_tlds[gen_below(r, GEN_NTLDS)];

		memset(g, 0, sizeof(*g));
		snprintf(num, sizeof(num), "%u", i);
		if (n >= 3 && (i == u1 || i == u2)) {
			g->kind = GEN_HOST_ANY;
			strcpy(g->host, "*");
			if (i == u1)
				strcpy(g->paths, "/healthz");
			else {
				strcpy(g->paths, "/robots.txt");
				g->methods = "GET,HEAD";
			}
		} else {
			if (k < 78) {
				g->kind = GEN_HOST_EXACT;
				gen_cat(g->host, gen_prefixes[gen_below(r,
				    GEN_NPREFIXES)]);
				gen_cat(g->host, ".");
			} else if (k < 96) {
				g->kind = GEN_HOST_LEADING;
				gen_cat(g->host, "*.");
			} else {
				g->kind = GEN_HOST_MIDDLE;
				gen_cat(g->host, "api.*.");
			}
			gen_cat(g->host, w);
			gen_cat(g->host, num);
			gen_cat(g->host, ".");
			gen_cat(g->host, tld);
			if (gen_pct(r, 25))
				g->methods = gen_method_lists[gen_below(r,
				    GEN_NMETHODLISTS)];
			if (gen_pct(r, 33))
				gen_expand(r, gen_path_templates[gen_below(r,
				    GEN_NPATHS)], g->paths);
		}
		if (g->methods != NULL) {
			gen_cat(g->text, "method=");
			gen_cat(g->text, g->methods);
			gen_cat(g->text, " ");
		}
		gen_cat(g->text, "domain=");
		gen_cat(g->text, g->host);
		if (g->paths[0] != '\0') {
			gen_cat(g->text, " path=");
			gen_cat(g->text, g->paths);
		}
	}
}

/* ---- requests -------------------------------------------------------------- */

/*
 * A host matching the domain pattern <pat> (not "*"): a leading '*' becomes
 * one to three random labels, any other '*' one label.
 */
static GEN_UNUSED void
gen_host_for(struct gen_rng *r, const char *pat, char *out)
{
	const char *p = pat;
	int first = 1;

	out[0] = '\0';
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (len == 1 && *p == '*') {
			uint32_t k, nl = first ? 1 + gen_below(r, 3) : 1;

			for (k = 0; k < nl; k++) {
				if (k > 0)
					gen_cat(out, ".");
				gen_cat(out, gen_prefixes[gen_below(r,
				    GEN_NPREFIXES)]);
			}
		} else {
			char lab[GEN_TEXT_MAX];

			memcpy(lab, p, len);
			lab[len] = '\0';
			gen_cat(out, lab);
		}
		if (dot == NULL)
			break;
		gen_cat(out, ".");
		p = dot + 1;
		first = 0;
	}
}

/*
 * A path matching one pattern of the list <pats> (comma-separated): '*'
 * becomes one word, a trailing '*' one to three words.
 */
static GEN_UNUSED void
gen_path_for(struct gen_rng *r, const char *pats, char *out)
{
	const char *start[32], *p = pats;
	size_t len[32];
	uint32_t n = 0, pick;
	const char *s, *end;

	while (n < 32) {
		const char *c = strchr(p, ',');
		start[n] = p;
		len[n] = c ? (size_t)(c - p) : strlen(p);
		n++;
		if (c == NULL)
			break;
		p = c + 1;
	}
	pick = gen_below(r, n);
	s = start[pick];
	end = s + len[pick];
	out[0] = '\0';
	if (s + 1 == end && *s == '*') {
		gen_cat(out, "/");
		gen_cat(out, gen_words[gen_below(r, GEN_NWORDS)]);
		return;
	}
	while (s < end) {
		const char *seg = s + 1, *slash;
		size_t sl;

		slash = memchr(seg, '/', (size_t)(end - seg));
		sl = slash ? (size_t)(slash - seg) : (size_t)(end - seg);
		if (sl == 1 && *seg == '*') {
			uint32_t k, ns = slash == NULL ? 1 + gen_below(r, 3) : 1;

			for (k = 0; k < ns; k++) {
				gen_cat(out, "/");
				gen_cat(out, gen_words[gen_below(r, GEN_NWORDS)]);
			}
		} else {
			char tmp[GEN_TEXT_MAX];

			memcpy(tmp, s, sl + 1);
			tmp[sl + 1] = '\0';
			gen_cat(out, tmp);
		}
		s = seg + sl;
	}
}

/* A random path of one to four segments. */
static GEN_UNUSED void
gen_random_path(struct gen_rng *r, char *out)
{
	uint32_t k, ns = 1 + gen_below(r, 4);

	out[0] = '\0';
	for (k = 0; k < ns; k++) {
		gen_cat(out, "/");
		if (gen_pct(r, 30)) {
			char num[16];
			snprintf(num, sizeof(num), "%u", gen_below(r, 100000));
			gen_cat(out, num);
		} else
			gen_cat(out, gen_words[gen_below(r, GEN_NWORDS)]);
	}
}

#endif
