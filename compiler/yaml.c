/*
 * config.yaml (compiler/config.h) read with libyaml's event API.  Knows the
 * Go tool's keys and their types (../shared/reference/boundary-facts.md
 * section 1.2) and nothing of rule syntax: rule strings are handed over
 * with the position of their first byte.
 *
 * Positions: libyaml marks count characters, and its lines also end at a
 * lone CR, NEL, LS and PS.  Diagnostics count bytes in lines ended by LF,
 * so every mark is mapped back to a byte offset by walking the text with
 * libyaml's rules (struct cursor) and then given in LF lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "../runtime/limits.h"
#include "config.h"
#include "suggest.h"

enum key_id {
	K_ALLOWLIST,		/* list of rule strings */
	K_INJECT_TARGETS,	/* list of rule strings */
	K_LOG_LEVEL,		/* error warn info debug, any case */
	K_LOG_DIR,		/* non-empty string */
	K_JAIL_TYPE,		/* nsjail landjail */
	K_PROXY_PORT,		/* 1..65535 */
	K_PPROF_PORT,		/* 1..65535 */
	K_PPROF_ENABLED,	/* booleans from here on */
	K_USE_REAL_DNS,
	K_NO_USER_NAMESPACE,
	K_DISABLE_AUDIT_LOGS,
	K_SESSION_CORRELATION,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {
	[K_ALLOWLIST] = "allowlist",
	[K_INJECT_TARGETS] = "session_id_inject_targets",
	[K_LOG_LEVEL] = "log_level",
	[K_LOG_DIR] = "log_dir",
	[K_JAIL_TYPE] = "jail_type",
	[K_PROXY_PORT] = "proxy_port",
	[K_PPROF_PORT] = "pprof_port",
	[K_PPROF_ENABLED] = "pprof_enabled",
	[K_USE_REAL_DNS] = "use_real_dns",
	[K_NO_USER_NAMESPACE] = "no_user_namespace",
	[K_DISABLE_AUDIT_LOGS] = "disable_audit_logs",
	[K_SESSION_CORRELATION] = "session_correlation_enabled",
};

static const char *const log_levels[] = { "error", "warn", "info", "debug" };
static const char *const jail_types[] = { "nsjail", "landjail" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Longest piece of a user's value quoted in a message. */
#define SHOW_MAX 60

/* A place in the text, both as libyaml counts it and as we do. */
struct cursor {
	size_t off;		/* byte offset */
	size_t yline, ycol;	/* libyaml's line and column (characters) */
	unsigned line;		/* 1-based LF-ended line */
	size_t bol;		/* offset of that line's first byte */
};

struct list {
	struct cfg_string **v;
	uint32_t *n;
	size_t cap;
	int full;		/* "too many" was reported */
};

struct loader {
	struct arena *a;
	struct diag *d;
	struct config *cfg;
	yaml_parser_t parser;
	yaml_event_t ev;	/* the current event */
	int have_ev;		/* ev must be deleted */
	int broken;		/* a syntax error was reported: stop */
	int errors;		/* errors we reported */
	struct cursor cur;	/* where the last mark lookup ended */
	struct srcpos first[K_COUNT]; /* where each key was seen; line 0: not */
	struct list lists[2];	/* allowlist, session_id_inject_targets */
};

static void
rewind_cursor(struct cursor *c)
{
	memset(c, 0, sizeof(*c));
	c->line = 1;
}

/* Moves <c> over one character of <t> (libyaml's notion, in UTF-8). */
static void
step(struct cursor *c, const unsigned char *t, size_t len)
{
	size_t rest = len - c->off, w = 1;
	unsigned char b = t[c->off];

	if (b == '\r' && rest > 1 && t[c->off + 1] == '\n') {
		c->off += 2;
		c->yline++;
		c->ycol = 0;
		c->line++;
		c->bol = c->off;
		return;
	}
	if (b == '\n') {
		c->off++;
		c->yline++;
		c->ycol = 0;
		c->line++;
		c->bol = c->off;
		return;
	}
	if (b >= 0xf0)
		w = 4;
	else if (b >= 0xe0)
		w = 3;
	else if (b >= 0xc0)
		w = 2;
	if (w > rest)
		w = rest;
	if (b == '\r' || (w == 2 && b == 0xc2 && t[c->off + 1] == 0x85) ||
	    (w == 3 && b == 0xe2 && t[c->off + 1] == 0x80 &&
	    (t[c->off + 2] == 0xa8 || t[c->off + 2] == 0xa9))) {
		/* CR, NEL, LS, PS: a new line for libyaml, not for us */
		c->yline++;
		c->ycol = 0;
	} else
		c->ycol++;
	c->off += w;
}

static struct srcpos
cursor_pos(const struct loader *l)
{
	struct srcpos p = { &l->cfg->src, l->cur.line,
	    (unsigned)(l->cur.off - l->cur.bol + 1) };

	return p;
}

/* Byte offset of libyaml mark <m>; its position in *pos. */
static size_t
locate(struct loader *l, yaml_mark_t m, struct srcpos *pos)
{
	const unsigned char *t = (const unsigned char *)l->cfg->src.text;
	size_t len = l->cfg->src.len;
	struct cursor *c = &l->cur;

	if (m.line < c->yline || (m.line == c->yline && m.column < c->ycol))
		rewind_cursor(c);
	while (c->off < len && (c->yline < m.line ||
	    (c->yline == m.line && c->ycol < m.column)))
		step(c, t, len);
	*pos = cursor_pos(l);
	return c->off;
}

static struct srcpos
locate_offset(struct loader *l, size_t off)
{
	const unsigned char *t = (const unsigned char *)l->cfg->src.text;
	size_t len = l->cfg->src.len;

	if (off < l->cur.off)
		rewind_cursor(&l->cur);
	while (l->cur.off < len && l->cur.off < off)
		step(&l->cur, t, len);
	return cursor_pos(l);
}

static struct srcpos
mark_pos(struct loader *l, yaml_mark_t m)
{
	struct srcpos p;

	(void)locate(l, m, &p);
	return p;
}

/*
 * The text of <n> bytes at <s>, fit for a message: at most SHOW_MAX bytes,
 * control bytes as \xHH.  <buf> holds at least 4 * SHOW_MAX + 4 bytes.
 */
static const char *
show(char *buf, const char *s, size_t n)
{
	size_t i, k = 0, m = n > SHOW_MAX ? SHOW_MAX : n;
	static const char hex[] = "0123456789abcdef";

	/* do not cut a UTF-8 sequence in two */
	if (m < n)
		while (m > 0 && ((unsigned char)s[m] & 0xc0) == 0x80)
			m--;
	for (i = 0; i < m; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b < 0x20 || b == 0x7f) {
			buf[k++] = '\\';
			buf[k++] = 'x';
			buf[k++] = hex[b >> 4];
			buf[k++] = hex[b & 15];
		} else
			buf[k++] = (char)b;
	}
	if (m < n) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

#define SHOW_BUF (4 * SHOW_MAX + 4)

static void
error_at(struct loader *l, struct srcpos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
error_at(struct loader *l, struct srcpos pos, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(l->d, pos, "%s", msg);
	l->errors++;
}

static void
syntax_error(struct loader *l)
{
	yaml_parser_t *p = &l->parser;
	struct srcpos none = { &l->cfg->src, 0, 0 };
	const char *problem = p->problem ? p->problem : "syntax error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		error_at(l, none, "out of memory while reading YAML");
		break;
	case YAML_READER_ERROR:
		error_at(l, locate_offset(l, p->problem_offset),
		    "invalid YAML: %s", problem);
		break;
	default:
		error_at(l, mark_pos(l, p->problem_mark), "invalid YAML: %s%s%s",
		    problem, p->context ? " " : "",
		    p->context ? p->context : "");
		break;
	}
}

/* Reads the next event into l->ev; -1 after a syntax error. */
static int
next(struct loader *l)
{
	if (l->have_ev) {
		yaml_event_delete(&l->ev);
		l->have_ev = 0;
	}
	if (l->broken)
		return -1;
	if (!yaml_parser_parse(&l->parser, &l->ev)) {
		syntax_error(l);
		l->broken = 1;
		return -1;
	}
	l->have_ev = 1;
	if (l->ev.type == YAML_NO_EVENT) {
		/* past the end of the stream: libyaml is out of step */
		l->broken = 1;
		return -1;
	}
	return 0;
}

/* Skips the node whose first event is l->ev. */
static int
skip_node(struct loader *l)
{
	size_t depth = 0;

	for (;;) {
		switch (l->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (depth == 0)
			return 0;
		if (next(l) == -1)
			return -1;
	}
}

static const char *
node_kind(const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_SCALAR_EVENT:
		return "a string";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "a node";
	}
}

/* Anchors and tags are not part of our format: each is an error. */
static void
check_props(struct loader *l)
{
	const yaml_event_t *e = &l->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char buf[SHOW_BUF];

	switch (e->type) {
	case YAML_SCALAR_EVENT:
		anchor = e->data.scalar.anchor;
		tag = e->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = e->data.sequence_start.anchor;
		tag = e->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = e->data.mapping_start.anchor;
		tag = e->data.mapping_start.tag;
		break;
	default:
		return;
	}
	if (anchor != NULL)
		error_at(l, mark_pos(l, e->start_mark),
		    "YAML anchors ('&%s') are not supported",
		    show(buf, (const char *)anchor, strlen((const char *)anchor)));
	if (tag != NULL)
		error_at(l, mark_pos(l, e->start_mark),
		    "YAML tags ('%s') are not supported",
		    show(buf, (const char *)tag, strlen((const char *)tag)));
}

static void
alias_error(struct loader *l)
{
	char buf[SHOW_BUF];
	const char *a = (const char *)l->ev.data.alias.anchor;

	error_at(l, mark_pos(l, l->ev.start_mark),
	    "YAML aliases ('*%s') are not supported",
	    show(buf, a, a ? strlen(a) : 0));
}

static struct view
scalar_view(const yaml_event_t *e)
{
	return view_make((const char *)e->data.scalar.value,
	    e->data.scalar.length);
}

/* A plain ~, null, Null, NULL or nothing at all. */
static int
is_null(const yaml_event_t *e)
{
	struct view v;

	if (e->type != YAML_SCALAR_EVENT ||
	    e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    e->data.scalar.tag != NULL)
		return 0;
	v = scalar_view(e);
	return v.n == 0 || view_eq_cstr(v, "~") || view_eq_cstr(v, "null") ||
	    view_eq_cstr(v, "Null") || view_eq_cstr(v, "NULL");
}

/*
 * Where the value of scalar event <e> starts (after the opening quote of a
 * quoted scalar), and whether byte k of it is at (line, col + k).
 */
static struct rule_loc
scalar_loc(struct loader *l, const yaml_event_t *e)
{
	const char *t = l->cfg->src.text;
	struct view v = scalar_view(e);
	struct rule_loc loc;
	struct srcpos pos, endpos;
	size_t s, end;

	s = locate(l, e->start_mark, &pos);
	loc.src = pos.src;
	loc.line = pos.line;
	loc.col = pos.col;
	loc.exact = 0;
	switch (e->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		if (s >= l->cfg->src.len)
			return loc;
		loc.col++;
		s++;
		end = locate(l, e->end_mark, &endpos);
		if (end > s)
			end--;	/* the closing quote */
		break;
	case YAML_PLAIN_SCALAR_STYLE:
		end = locate(l, e->end_mark, &endpos);
		break;
	default:
		/* block scalars never are where their value's bytes are */
		return loc;
	}
	/*
	 * The source bytes are the value's only when no escape, folding or
	 * line break came between: then, and only then, they are equal.
	 */
	loc.exact = end >= s && end - s == v.n &&
	    (v.n == 0 || memcmp(t + s, v.p, v.n) == 0) &&
	    memchr(v.p, '\n', v.n) == NULL;
	return loc;
}

static struct srcpos
value_pos(struct loader *l, const yaml_event_t *e)
{
	struct rule_loc loc;
	struct srcpos p;

	if (e->type != YAML_SCALAR_EVENT)
		return mark_pos(l, e->start_mark);
	loc = scalar_loc(l, e);
	p.src = loc.src;
	p.line = loc.line;
	p.col = loc.col;
	return p;
}

static void
list_add(struct loader *l, enum key_id id, struct list *li)
{
	struct view v = scalar_view(&l->ev);
	struct cfg_string *s;

	if (*li->n >= MAX_RULES) {
		if (!li->full)
			error_at(l, value_pos(l, &l->ev),
			    "too many entries in %s (the limit is %u)",
			    key_names[id], (unsigned)MAX_RULES);
		li->full = 1;
		return;
	}
	if (*li->n == li->cap)
		*li->v = arena_grow(l->a, *li->v, *li->n, &li->cap,
		    sizeof(**li->v));
	s = &(*li->v)[(*li->n)++];
	s->text = view_make(arena_strndup(l->a, v.p, v.n), v.n);
	s->loc = scalar_loc(l, &l->ev);
}

/* allowlist, session_id_inject_targets: the value is the current event. */
static void
do_list(struct loader *l, enum key_id id)
{
	struct list *li = &l->lists[id == K_ALLOWLIST ? 0 : 1];
	const char *name = key_names[id];

	switch (l->ev.type) {
	case YAML_SCALAR_EVENT:
		check_props(l);
		if (is_null(&l->ev))
			return;		/* "allowlist:" with nothing: empty */
		diag_warn(l->d, W_CONFIG, value_pos(l, &l->ev),
		    "%s should be a list", name);
		list_add(l, id, li);
		return;
	case YAML_ALIAS_EVENT:
		alias_error(l);
		return;
	case YAML_MAPPING_START_EVENT:
		error_at(l, mark_pos(l, l->ev.start_mark),
		    "%s must be a list of strings, not a mapping", name);
		(void)skip_node(l);
		return;
	case YAML_SEQUENCE_START_EVENT:
		break;
	default:
		return;
	}
	check_props(l);
	while (next(l) == 0 && l->ev.type != YAML_SEQUENCE_END_EVENT) {
		switch (l->ev.type) {
		case YAML_SCALAR_EVENT:
			check_props(l);
			if (is_null(&l->ev))
				error_at(l, mark_pos(l, l->ev.start_mark),
				    "null element in %s; write a string", name);
			else
				list_add(l, id, li);
			break;
		case YAML_ALIAS_EVENT:
			alias_error(l);
			break;
		default:
			error_at(l, mark_pos(l, l->ev.start_mark),
			    "elements of %s must be strings, not %s", name,
			    node_kind(&l->ev));
			if (skip_node(l) == -1)
				return;
			break;
		}
	}
}

/*
 * The value of a key that takes one string: 0 with it in *v and *pos, or
 * -1 once the problem is reported and the node skipped.
 */
static int
scalar_value(struct loader *l, enum key_id id, struct srcpos keypos,
    struct view *v, struct srcpos *pos)
{
	char buf[SHOW_BUF];

	switch (l->ev.type) {
	case YAML_SCALAR_EVENT:
		check_props(l);
		if (is_null(&l->ev)) {
			error_at(l, keypos, "missing value for '%s'",
			    key_names[id]);
			return -1;
		}
		*v = scalar_view(&l->ev);
		*pos = value_pos(l, &l->ev);
		if (memchr(v->p, '\0', v->n) != NULL) {
			error_at(l, *pos, "invalid %s '%s': contains a NUL byte",
			    key_names[id], show(buf, v->p, v->n));
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		alias_error(l);
		return -1;
	default:
		error_at(l, mark_pos(l, l->ev.start_mark),
		    "%s must be a single value, not %s", key_names[id],
		    node_kind(&l->ev));
		(void)skip_node(l);
		return -1;
	}
}

/* "; did you mean 'x'?" or "" */
static const char *
did_you_mean(char *buf, size_t size, const char *sug)
{
	if (sug == NULL)
		return "";
	snprintf(buf, size, "; did you mean '%s'?", sug);
	return buf;
}

static void
do_log_level(struct loader *l, struct view v, struct srcpos pos)
{
	char buf[SHOW_BUF], dym[64];
	const char *sug;
	size_t i;

	for (i = 0; i < NELEM(log_levels); i++)
		if (view_case_eq(v, view_cstr(log_levels[i]))) {
			l->cfg->log_level = log_levels[i];
			return;
		}
	sug = suggest_word(v.p, v.n, log_levels, NELEM(log_levels));
	/* "warning", "information", "err": one is a prefix of the other */
	for (i = 0; sug == NULL && v.n >= 3 && i < NELEM(log_levels); i++) {
		size_t m = strlen(log_levels[i]), k = v.n < m ? v.n : m;

		if (view_case_eq(view_make(v.p, k), view_make(log_levels[i], k)))
			sug = log_levels[i];
	}
	error_at(l, pos, "invalid log_level '%s': expected error, warn, info "
	    "or debug%s", show(buf, v.p, v.n),
	    did_you_mean(dym, sizeof(dym), sug));
}

static void
do_jail_type(struct loader *l, struct view v, struct srcpos pos)
{
	char buf[SHOW_BUF], dym[64];
	size_t i;

	for (i = 0; i < NELEM(jail_types); i++)
		if (view_eq_cstr(v, jail_types[i])) {
			l->cfg->jail_type = jail_types[i];
			return;
		}
	error_at(l, pos, "invalid jail_type '%s': expected nsjail or "
	    "landjail%s", show(buf, v.p, v.n), did_you_mean(dym, sizeof(dym),
	    suggest_word(v.p, v.n, jail_types, NELEM(jail_types))));
}

/* A decimal port 1..65535 (leading zeros allowed, as ParseInt does). */
static int64_t
parse_port(struct view v)
{
	int64_t n = 0;
	size_t i;

	if (v.n == 0)
		return -1;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
		if (n > 65535)
			return -1;
	}
	return n >= 1 ? n : -1;
}

/* strconv.ParseBool's spellings, and true/false in any case. */
static int
parse_bool(struct view v)
{
	static const char *const yes[] = { "1", "t", "T" };
	static const char *const no[] = { "0", "f", "F" };
	size_t i;

	if (view_case_eq(v, VIEW_LIT("true")))
		return 1;
	if (view_case_eq(v, VIEW_LIT("false")))
		return 0;
	for (i = 0; i < NELEM(yes); i++) {
		if (view_eq_cstr(v, yes[i]))
			return 1;
		if (view_eq_cstr(v, no[i]))
			return 0;
	}
	return -1;
}

static enum cfg_bool *
bool_field(struct config *cfg, enum key_id id)
{
	switch (id) {
	case K_PPROF_ENABLED:
		return &cfg->pprof_enabled;
	case K_USE_REAL_DNS:
		return &cfg->use_real_dns;
	case K_NO_USER_NAMESPACE:
		return &cfg->no_user_namespace;
	case K_DISABLE_AUDIT_LOGS:
		return &cfg->disable_audit_logs;
	default:
		return &cfg->session_correlation_enabled;
	}
}

/* The value of key <id> is the current event. */
static void
do_value(struct loader *l, enum key_id id, struct srcpos keypos)
{
	char buf[SHOW_BUF];
	struct srcpos pos;
	struct view v;
	int64_t port;
	int b;

	if (id == K_ALLOWLIST || id == K_INJECT_TARGETS) {
		do_list(l, id);
		return;
	}
	if (scalar_value(l, id, keypos, &v, &pos) == -1)
		return;
	switch (id) {
	case K_LOG_LEVEL:
		do_log_level(l, v, pos);
		break;
	case K_LOG_DIR:
		if (v.n == 0)
			error_at(l, pos, "log_dir must not be empty");
		else
			l->cfg->log_dir = arena_strndup(l->a, v.p, v.n);
		break;
	case K_JAIL_TYPE:
		do_jail_type(l, v, pos);
		break;
	case K_PROXY_PORT:
	case K_PPROF_PORT:
		port = parse_port(v);
		if (port == -1)
			error_at(l, pos, "invalid %s '%s': expected a port "
			    "number from 1 to 65535", key_names[id],
			    show(buf, v.p, v.n));
		else if (id == K_PROXY_PORT)
			l->cfg->proxy_port = port;
		else
			l->cfg->pprof_port = port;
		break;
	default:
		b = parse_bool(v);
		if (b == -1)
			error_at(l, pos, "invalid %s '%s': expected true or "
			    "false", key_names[id], show(buf, v.p, v.n));
		else
			*bool_field(l->cfg, id) = b ? CFG_TRUE : CFG_FALSE;
		break;
	}
}

/* One "key: value" of the top mapping; the key's event is current. */
static void
do_pair(struct loader *l)
{
	char buf[SHOW_BUF], dym[64];
	struct view key = scalar_view(&l->ev);
	struct srcpos keypos = value_pos(l, &l->ev);
	const char *sug;
	size_t id;

	check_props(l);
	for (id = 0; id < K_COUNT; id++)
		if (view_eq_cstr(key, key_names[id]))
			break;
	if (id == K_COUNT) {
		if (view_eq_cstr(key, "allow"))
			sug = key_names[K_ALLOWLIST];	/* the CLI's name */
		else
			sug = suggest_word(key.p, key.n, key_names, K_COUNT);
		error_at(l, keypos, "unknown key '%s'%s", show(buf, key.p,
		    key.n), did_you_mean(dym, sizeof(dym), sug));
		if (next(l) == 0)
			(void)skip_node(l);
		return;
	}
	if (l->first[id].line != 0) {
		error_at(l, keypos, "duplicate key '%s'", key_names[id]);
		diag_note(l->d, l->first[id], "'%s' was first given here",
		    key_names[id]);
	} else
		l->first[id] = keypos;
	if (next(l) == -1)
		return;
	do_value(l, (enum key_id)id, keypos);
}

/* The top-level mapping; its start event is current. */
static void
do_mapping(struct loader *l)
{
	check_props(l);
	while (next(l) == 0 && l->ev.type != YAML_MAPPING_END_EVENT) {
		if (l->ev.type == YAML_SCALAR_EVENT) {
			do_pair(l);
			continue;
		}
		if (l->ev.type == YAML_ALIAS_EVENT)
			alias_error(l);
		else
			error_at(l, mark_pos(l, l->ev.start_mark),
			    "keys must be strings, not %s",
			    node_kind(&l->ev));
		if (skip_node(l) == -1 || next(l) == -1 || skip_node(l) == -1)
			return;
	}
}

static void
load(struct loader *l)
{
	/* STREAM-START, then DOCUMENT-START or STREAM-END */
	if (next(l) == -1 || next(l) == -1 ||
	    l->ev.type != YAML_DOCUMENT_START_EVENT)
		return;
	if (next(l) == -1)
		return;
	if (l->ev.type == YAML_MAPPING_START_EVENT)
		do_mapping(l);
	else if (!is_null(&l->ev)) {
		error_at(l, mark_pos(l, l->ev.start_mark),
		    "the top level must be a mapping (key: value), not %s",
		    node_kind(&l->ev));
		if (skip_node(l) == -1)
			return;
	}
	/* DOCUMENT-END, then STREAM-END or another document */
	if (next(l) == -1 || next(l) == -1)
		return;
	if (l->ev.type == YAML_DOCUMENT_START_EVENT)
		error_at(l, mark_pos(l, l->ev.start_mark),
		    "more than one YAML document; a config file holds one");
}

static void
config_init(struct config *cfg, const char *name)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->src.name = name;
	cfg->proxy_port = -1;
	cfg->pprof_port = -1;
	cfg->pprof_enabled = CFG_UNSET;
	cfg->use_real_dns = CFG_UNSET;
	cfg->no_user_namespace = CFG_UNSET;
	cfg->disable_audit_logs = CFG_UNSET;
	cfg->session_correlation_enabled = CFG_UNSET;
}

int
config_load_mem(struct arena *a, struct diag *d, const char *name,
    const char *text, size_t len, struct config *cfg)
{
	struct loader l;
	struct srcpos none;
	unsigned nerrors0 = d->nerrors;
	char *copy;

	config_init(cfg, name);
	none.src = &cfg->src;
	none.line = none.col = 0;
	if (len > MAX_CONFIG_FILE) {
		diag_error(d, none, "cannot read '%s': larger than %u bytes",
		    name, (unsigned)MAX_CONFIG_FILE);
		return -1;
	}
	copy = arena_alloc(a, len + 1);
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	cfg->src.text = copy;
	cfg->src.len = len;

	memset(&l, 0, sizeof(l));
	l.a = a;
	l.d = d;
	l.cfg = cfg;
	rewind_cursor(&l.cur);
	l.lists[0].v = &cfg->allowlist;
	l.lists[0].n = &cfg->nallowlist;
	l.lists[1].v = &cfg->inject_targets;
	l.lists[1].n = &cfg->ninject_targets;
	if (!yaml_parser_initialize(&l.parser)) {
		diag_error(d, none, "out of memory while reading YAML");
		return -1;
	}
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)copy,
	    len);
	yaml_parser_set_encoding(&l.parser, YAML_UTF8_ENCODING);
	load(&l);
	if (l.have_ev)
		yaml_event_delete(&l.ev);
	yaml_parser_delete(&l.parser);
	return l.errors > 0 || d->nerrors > nerrors0 ? -1 : 0;
}

int
config_load(struct arena *a, struct diag *d, const char *path,
    struct config *cfg)
{
	struct srcpos none;
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd, ret = -1;

	config_init(cfg, path);
	none.src = &cfg->src;
	none.line = none.col = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		diag_error(d, none, "cannot read '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	/* read to the end, whatever the file is (a pipe: --config /dev/stdin) */
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16384;
			if (cap > (size_t)MAX_CONFIG_FILE + 1)
				cap = (size_t)MAX_CONFIG_FILE + 1;
			if (len == cap) {
				diag_error(d, none, "cannot read '%s': larger "
				    "than %u bytes", path,
				    (unsigned)MAX_CONFIG_FILE);
				goto fail;
			}
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				diag_error(d, none, "cannot read '%s': %s",
				    path, strerror(errno));
				goto fail;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			diag_error(d, none, "cannot read '%s': %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	ret = config_load_mem(a, d, path, buf, len, cfg);
 fail:
	free(buf);
	close(fd);
	return ret;
}
