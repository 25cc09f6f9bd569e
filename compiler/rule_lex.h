/*
 * Tokens of one allowlist rule string, produced by the re2c lexers of
 * grammar/rule.re (build/gen/rule.c) and consumed by compiler/rule.c.
 * Private to compiler/.
 *
 * Every lexer takes the bytes [<p>, <lim>) -- never reads <lim> or beyond --
 * and returns one token, storing its end in *<end>.  RT_END has *end == p.
 */
#ifndef RULE_LEX_H
#define RULE_LEX_H

enum rule_tok {
	RT_END,			/* no more input */
	RT_BLANKS,		/* space, tab or newline, one or more */
	RT_KEY_METHOD,		/* "method=" */
	RT_KEY_DOMAIN,		/* "domain=" */
	RT_KEY_PATH,		/* "path=" */
	RT_BADKEY,		/* a word that is not a key, then '=' ("metod=") */
	RT_WORD,		/* non-blank bytes without any '=' */
	RT_TOKEN,		/* method: RFC 7230 tchar+ */
	RT_LABEL,		/* domain: [A-Za-z0-9-]+ */
	RT_SEGTEXT,		/* path: pchar+ (no ',' or '*'), %XX included */
	RT_STAR,		/* '*' (domain, path) */
	RT_DOT,			/* '.' (domain) */
	RT_COMMA,		/* ',' (method, domain, path) */
	RT_COLON,		/* ':' (domain) */
	RT_SLASH,		/* '/' (domain, path) */
	RT_QUERY,		/* '?' (path) */
	RT_FRAGMENT,		/* '#' (path) */
	RT_BADPCT,		/* '%' not followed by two hex digits (path) */
	RT_BAD			/* one byte, or one UTF-8 character, not allowed */
};

/* Top level: blanks, keys, and whatever else stands where a key should. */
enum rule_tok rule_lex_top(const char *p, const char *lim, const char **end);

/*
 * End of the value that starts at <p>: the first blank, <lim>, or -- when
 * <stop_at_key> -- the first "method=", "domain=" or "path=" (a missing
 * blank), in which case *at_key is set to 1.
 */
const char *rule_lex_value(const char *p, const char *lim, int stop_at_key,
    int *at_key);

/* Values.  <lim> is the end of the value (no blanks inside). */
enum rule_tok rule_lex_method(const char *p, const char *lim, const char **end);
enum rule_tok rule_lex_host(const char *p, const char *lim, const char **end);
enum rule_tok rule_lex_path(const char *p, const char *lim, const char **end);

#endif
