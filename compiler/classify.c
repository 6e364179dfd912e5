/*
 * classify.c - recognise what one statement does from its leading tokens.
 *
 * Trusts: nothing about the text; tokens come from pgb_lex_token(), so a
 * keyword inside a string, a quoted identifier, a dollar-quoted body or a
 * comment is never seen as one.  An unterminated construct simply ends
 * the token stream.  Keywords match case-insensitively; identifiers in
 * double quotes never match keywords.
 *
 * Rejects: nothing.  This recognises statement heads, not the grammar:
 * what it does not know stays plain (no txctl, no notx, not idempotent,
 * no lint), which the compiler treats as the cautious answer.  The notx
 * list is PostgreSQL 15's PreventInTransactionBlock() callers that can be
 * seen from the text; a procedure that commits cannot.  What a statement
 * leaves in the session (cls_session) errs the other way: anything that
 * might is named, and only a statement that shows none of it keeps the
 * session as its transaction found it.
 */
#include <string.h>

#include "bounds.h"
#include "classify.h"
#include "diag.h"
#include "lex.h"
#include "banned.h"

/*
 * PostgreSQL cuts identifiers to NAMEDATALEN - 1 bytes.  The server's
 * rule, followed to name objects as it does: not a cap on input.
 */
#define IDENT_MAX	63
/* Names of up to three parts (database.schema.name). */
#define QNAME_PARTS	3
/*
 * Keywords find_kw_head() looks through for IF [NOT] EXISTS: the head of
 * a CREATE, ALTER or DROP, before the object's name, has fewer.  Private
 * to the heuristic.
 */
#define HEAD_WORDS	8

#if PGB_NAME_MAX < QNAME_PARTS * IDENT_MAX + QNAME_PARTS - 1
#error "PGB_NAME_MAX cannot hold a normalised three-part name"
#endif

struct cur {
	const char		*s;
	size_t			 len;
	size_t			 pos;	/* just after 't' */
	struct pgb_lex_token	 t;	/* current token; EOF at the end */
	size_t			 depth;	/* parentheses open before 't' */
};

struct qname {
	size_t			 n;
	struct pgb_lex_token	 part[QNAME_PARTS];
	char			 esc[QNAME_PARTS];	/* U&"" escape */
};

static void	fetch(struct cur *);
static void	adv(struct cur *);
static int	is_kw(const struct cur *, const char *);
static int	is_char(const struct cur *, char);
static int	is_name(const struct cur *);
static int	at_end(const struct cur *);
static int	accept(struct cur *, const char *);
static int	accept2(struct cur *, const char *, const char *);
static int	accept3(struct cur *, const char *, const char *,
		    const char *);
static int	find_kw_head(struct cur *, const char *, const char *,
		    const char *);
static int	is_false_value(const struct cur *);
static int	option_false(struct cur, const char *);
static int	name_token(struct cur *, struct pgb_lex_token *, char *);
static int	parse_qname(struct cur *, struct qname *);
static int	hexval(char);
static size_t	put_utf8(char *, unsigned long);
static int	decode_part(const char *, const struct pgb_lex_token *, char,
		    char *, size_t, size_t *);
static void	normalise(const char *, const struct qname *, char *);
static int	append_written(const char *, const struct pgb_lex_token *,
		    char, char *, size_t *);
static void	index_text(const char *, const struct pgb_lex_token *, char,
		    const struct qname *, char *);
static void	skip_action(struct cur *);
static int	is_serial(const struct cur *);
static int	add_column(struct cur *, struct pgb_class *);
static int	table_action(struct cur *, struct pgb_class *, int, int);
static void	cls_create(struct cur *, struct pgb_class *);
static void	cls_create_index(struct cur *, struct pgb_class *);
static void	cls_drop(struct cur *, struct pgb_class *);
static void	cls_alter(struct cur *, struct pgb_class *);
static void	cls_alter_table(struct cur *, struct pgb_class *);
static void	cls_alter_subscription(struct cur *, struct pgb_class *);
static void	cls_alter_generic(struct cur *, struct pgb_class *);
static void	cls_commit(struct cur *, struct pgb_class *, int);
static void	cls_reindex(struct cur *, struct pgb_class *);
static void	cls_cluster(struct cur *, struct pgb_class *);
static void	cls_copy(struct cur *, struct pgb_class *);
static int	is_fname(const struct cur *, const char *);
static int	is_true_value(const struct cur *);
static int	config_is_local(struct cur);
static const char *session_head(struct cur *);
static const char *session_token(const struct cur *);
static void	cls_session(const char *, size_t, struct pgb_class *);

/* Read the next token that is not a comment into c->t. */
static void
fetch(struct cur *c)
{
	struct pgb_diag	d;

	do {
		if (pgb_lex_token(c->s, c->len, &c->pos, &c->t, &d) == -1) {
			/* unterminated: nothing more to learn */
			c->t.kind = PGB_TOK_EOF;
			c->pos = c->len;
		}
	} while (c->t.kind == PGB_TOK_COMMENT || c->t.kind == PGB_TOK_BLOCK);
}

/* Step past the current token, counting parentheses; EOF stays EOF. */
static void
adv(struct cur *c)
{
	if (c->t.kind == PGB_TOK_EOF)
		return;
	if (is_char(c, '('))
		c->depth++;
	else if (is_char(c, ')') && c->depth > 0)
		c->depth--;
	fetch(c);
}

static int
is_kw(const struct cur *c, const char *kw)
{
	return c->t.kind == PGB_TOK_IDENT &&
	    pgb_lex_kw_eq(c->s + c->t.off, c->t.len, kw);
}

static int
is_char(const struct cur *c, char ch)
{
	return c->t.kind == PGB_TOK_CHAR && c->s[c->t.off] == ch;
}

static int
is_name(const struct cur *c)
{
	return c->t.kind == PGB_TOK_IDENT || c->t.kind == PGB_TOK_QIDENT;
}

/* The end of the statement: no more tokens, or its ';'. */
static int
at_end(const struct cur *c)
{
	return c->t.kind == PGB_TOK_EOF || (is_char(c, ';') && c->depth == 0);
}

static int
accept(struct cur *c, const char *kw)
{
	if (!is_kw(c, kw))
		return 0;
	adv(c);
	return 1;
}

/* Take the two keywords in a row, or nothing. */
static int
accept2(struct cur *c, const char *a, const char *b)
{
	struct cur	save = *c;

	if (accept(c, a) && accept(c, b))
		return 1;
	*c = save;
	return 0;
}

static int
accept3(struct cur *c, const char *a, const char *b, const char *d)
{
	struct cur	save = *c;

	if (accept(c, a) && accept(c, b) && accept(c, d))
		return 1;
	*c = save;
	return 0;
}

/*
 * Among the next few keywords (the head of a command, before its object's
 * name), is there the sequence a b [d]?  If so, stop after it.
 */
static int
find_kw_head(struct cur *c, const char *a, const char *b, const char *d)
{
	int	i;

	for (i = 0; i < HEAD_WORDS && c->t.kind == PGB_TOK_IDENT; i++) {
		if (d != NULL ? accept3(c, a, b, d) : accept2(c, a, b))
			return 1;
		adv(c);
	}
	return 0;
}

/* false, off, 0 or their quoted forms. */
static int
is_false_value(const struct cur *c)
{
	const char	*p = c->s + c->t.off;
	size_t		 n = c->t.len;

	if (c->t.kind == PGB_TOK_STRING && n >= 2 && p[0] == '\'') {
		p++;
		n -= 2;
	} else if (c->t.kind != PGB_TOK_IDENT && c->t.kind != PGB_TOK_NUMBER)
		return 0;
	return pgb_lex_kw_eq(p, n, "false") || pgb_lex_kw_eq(p, n, "off") ||
	    (n == 1 && p[0] == '0');
}

/* Does the rest of the statement set option 'name' to false? */
static int
option_false(struct cur c, const char *name)
{
	while (!at_end(&c)) {
		if (accept(&c, name)) {
			if (c.t.kind == PGB_TOK_OP && c.t.len == 1 &&
			    c.s[c.t.off] == '=')
				adv(&c);
			if (is_false_value(&c))
				return 1;
			continue;
		}
		adv(&c);
	}
	return 0;
}

/*
 * Take one identifier (and the UESCAPE clause of a U&"" one) into *t and
 * *esc.  0, or -1 if the current token is not a name.
 */
static int
name_token(struct cur *c, struct pgb_lex_token *t, char *esc)
{
	if (!is_name(c))
		return -1;
	*t = c->t;
	*esc = '\\';
	adv(c);
	if (t->kind == PGB_TOK_QIDENT && c->s[t->off] != '"' &&
	    is_kw(c, "uescape")) {
		adv(c);
		if (c->t.kind == PGB_TOK_STRING && c->t.len == 3 &&
		    c->s[c->t.off] == '\'') {
			*esc = c->s[c->t.off + 1];
			adv(c);
		}
	}
	return 0;
}

/* name [. name [. name]]; -1 if there is none or it has too many parts. */
static int
parse_qname(struct cur *c, struct qname *q)
{
	q->n = 0;
	for (;;) {
		if (q->n == QNAME_PARTS ||
		    name_token(c, &q->part[q->n], &q->esc[q->n]) == -1)
			return -1;
		q->n++;
		if (!is_char(c, '.'))
			return 0;
		adv(c);
	}
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Write code point 'u' (at most U+10FFFF) as UTF-8; returns its length. */
static size_t
put_utf8(char *p, unsigned long u)
{
	if (u < 0x80) {
		p[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		p[0] = (char)(0xc0 | (u >> 6));
		p[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		p[0] = (char)(0xe0 | (u >> 12));
		p[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		p[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	p[0] = (char)(0xf0 | (u >> 18));
	p[1] = (char)(0x80 | ((u >> 12) & 0x3f));
	p[2] = (char)(0x80 | ((u >> 6) & 0x3f));
	p[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/*
 * The identifier 't' as the server stores it, into out[0..cap), cut to
 * IDENT_MAX bytes on a character boundary.  -1 on a bad U&"" escape.
 */
static int
decode_part(const char *s, const struct pgb_lex_token *t, char esc,
    char *out, size_t cap, size_t *outlen)
{
	const char	*p = s + t->off, *e = s + t->off + t->len;
	char		 buf[4 * 256];
	size_t		 n = 0, k, i;
	unsigned long	 u;
	int		 uni = 0, h;

	if (t->kind == PGB_TOK_IDENT) {
		for (; p < e && n < sizeof(buf); p++)
			buf[n++] = (*p >= 'A' && *p <= 'Z') ?
			    (char)(*p - 'A' + 'a') : *p;
	} else {
		if (*p != '"') {
			uni = 1;
			p += 2;
		}
		p++;		/* opening quote */
		e--;		/* closing quote */
		while (p < e && n + 4 <= sizeof(buf)) {
			if (*p == '"') {
				buf[n++] = '"';
				p += 2;
			} else if (uni && *p == esc) {
				if (p + 1 < e && p[1] == esc) {
					buf[n++] = esc;
					p += 2;
					continue;
				}
				k = (p + 1 < e && p[1] == '+') ? 6 : 4;
				p += k == 6 ? 2 : 1;
				if ((size_t)(e - p) < k)
					return -1;
				for (u = 0, i = 0; i < k; i++) {
					if ((h = hexval(p[i])) < 0)
						return -1;
					u = u * 16 + (unsigned long)h;
				}
				if (u == 0 || u > 0x10ffff ||
				    (u >= 0xd800 && u <= 0xdfff))
					return -1;
				n += put_utf8(buf + n, u);
				p += k;
			} else
				buf[n++] = *p++;
		}
	}
	if (n > IDENT_MAX) {
		n = IDENT_MAX;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
	}
	if (n > cap)
		return -1;
	memcpy(out, buf, n);
	*outlen = n;
	return 0;
}

/* The normalised "a.b.c" form of 'q' into out[PGB_NAME_MAX + 1]. */
static void
normalise(const char *s, const struct qname *q, char *out)
{
	size_t	i, n = 0, k;

	for (i = 0; i < q->n; i++) {
		if (i > 0)
			out[n++] = '.';
		if (decode_part(s, &q->part[i], q->esc[i], out + n,
		    PGB_NAME_MAX - n, &k) == -1) {
			out[0] = '\0';
			return;
		}
		n += k;
	}
	out[n] = '\0';
}

/*
 * Append identifier 't' to out (PGB_NAME_MAX + 1 bytes) as SQL that
 * names it: as written, except that a U&"" identifier is re-quoted.
 */
static int
append_written(const char *s, const struct pgb_lex_token *t, char esc,
    char *out, size_t *n)
{
	char	buf[IDENT_MAX];
	size_t	k, i;

	if (t->kind == PGB_TOK_IDENT || s[t->off] == '"') {
		if (t->len > PGB_NAME_MAX - *n)
			return -1;
		memcpy(out + *n, s + t->off, t->len);
		*n += t->len;
		return 0;
	}
	if (decode_part(s, t, esc, buf, sizeof(buf), &k) == -1)
		return -1;
	if (*n >= PGB_NAME_MAX)
		return -1;
	out[(*n)++] = '"';
	for (i = 0; i < k; i++) {
		if (PGB_NAME_MAX - *n < 2)
			return -1;
		if (buf[i] == '"')
			out[(*n)++] = '"';
		out[(*n)++] = buf[i];
	}
	if (*n >= PGB_NAME_MAX)
		return -1;
	out[(*n)++] = '"';
	return 0;
}

/* [schema.]index into out, or an empty string if it does not fit. */
static void
index_text(const char *s, const struct pgb_lex_token *idx, char esc,
    const struct qname *table, char *out)
{
	size_t	n = 0;

	if (table->n >= 2) {
		if (append_written(s, &table->part[table->n - 2],
		    table->esc[table->n - 2], out, &n) == -1 ||
		    n >= PGB_NAME_MAX) {
			out[0] = '\0';
			return;
		}
		out[n++] = '.';
	}
	if (append_written(s, idx, esc, out, &n) == -1) {
		out[0] = '\0';
		return;
	}
	out[n] = '\0';
}

/* Up to the ',' that ends this ALTER TABLE action, or the end. */
static void
skip_action(struct cur *c)
{
	while (!at_end(c) && !(is_char(c, ',') && c->depth == 0))
		adv(c);
}

static int
is_serial(const struct cur *c)
{
	return is_kw(c, "serial") || is_kw(c, "serial2") ||
	    is_kw(c, "serial4") || is_kw(c, "serial8") ||
	    is_kw(c, "smallserial") || is_kw(c, "bigserial");
}

/*
 * ADD [COLUMN] [IF NOT EXISTS] name type constraints..., after ADD.
 * Sets the NOT NULL lint; returns whether it is repeatable.
 */
static int
add_column(struct cur *c, struct pgb_class *o)
{
	int	ifne, notnull = 0, fill = 0, after_set = 0;

	accept(c, "column");
	ifne = accept3(c, "if", "not", "exists");
	if (!is_name(c))
		return 0;
	adv(c);
	if (is_serial(c))
		fill = 1;
	while (!at_end(c) && !(is_char(c, ',') && c->depth == 0)) {
		if (c->depth == 0 && accept2(c, "not", "null"))
			notnull = 1;
		else if (c->depth == 0 && accept2(c, "primary", "key"))
			notnull = 1;
		else if (c->depth == 0 && !after_set &&
		    accept(c, "default")) {
			/* DEFAULT NULL fills nothing */
			if (!is_kw(c, "null"))
				fill = 1;
		} else if (c->depth == 0 && accept(c, "generated"))
			fill = 1;
		else {
			/* ON DELETE SET DEFAULT is no column default */
			after_set = is_kw(c, "set");
			adv(c);
			continue;
		}
		after_set = 0;
	}
	if (notnull && !fill)
		o->lint |= PGB_LINT_NOT_NULL;
	return ifne;
}

/*
 * One ALTER TABLE action at the cursor.  'ife' is ALTER TABLE IF EXISTS,
 * 'qual' whether the table name is qualified.  Returns whether running
 * the action again is harmless.
 */
static int
table_action(struct cur *c, struct pgb_class *o, int ife, int qual)
{
	int	r;

	if (accept(c, "add")) {
		if (is_kw(c, "constraint") || is_kw(c, "primary") ||
		    is_kw(c, "unique") || is_kw(c, "check") ||
		    is_kw(c, "foreign") || is_kw(c, "exclude"))
			return 0;
		return add_column(c, o);
	}
	if (accept(c, "drop")) {
		if (accept(c, "constraint"))
			return accept2(c, "if", "exists");
		accept(c, "column");
		r = accept2(c, "if", "exists");
		if (is_name(c))
			o->lint |= PGB_LINT_DROP_COLUMN;
		return r;
	}
	if (accept(c, "alter")) {
		if (accept(c, "constraint"))
			return 1;
		accept(c, "column");
		if (!is_name(c))
			return 0;
		adv(c);
		if (accept(c, "type") || accept3(c, "set", "data", "type")) {
			o->lint |= PGB_LINT_ALTER_TYPE;
			return 1;
		}
		if (accept(c, "drop")) {
			if (is_kw(c, "default") || is_kw(c, "not"))
				return 1;
			adv(c);	/* IDENTITY, EXPRESSION */
			return accept2(c, "if", "exists");
		}
		return is_kw(c, "set") || is_kw(c, "reset") ||
		    is_kw(c, "restart");
	}
	if (accept(c, "rename"))
		return ife && is_kw(c, "to");
	if (accept(c, "set")) {
		if (is_kw(c, "schema"))
			return ife && qual;
		return 1;	/* TABLESPACE, LOGGED, WITHOUT ..., (...) */
	}
	if (accept(c, "detach")) {
		while (!at_end(c) && !(is_char(c, ',') && c->depth == 0)) {
			if (is_kw(c, "concurrently"))
				o->notx = "ALTER TABLE ... DETACH PARTITION ... "
				    "CONCURRENTLY";
			adv(c);
		}
		return 0;
	}
	if (accept(c, "no"))
		return is_kw(c, "force");
	return is_kw(c, "reset") || is_kw(c, "owner") ||
	    is_kw(c, "cluster") || is_kw(c, "enable") ||
	    is_kw(c, "disable") || is_kw(c, "force") ||
	    is_kw(c, "replica") || is_kw(c, "validate");
}

static void
cls_alter_table(struct cur *c, struct pgb_class *o)
{
	struct qname	q;
	int		ife, all = 1;
	size_t		n = 0;

	if (is_kw(c, "all"))
		return;		/* ALL IN TABLESPACE ... */
	ife = accept2(c, "if", "exists");
	accept(c, "only");
	if (parse_qname(c, &q) == -1)
		return;
	if (c->t.kind == PGB_TOK_OP && c->t.len == 1 && c->s[c->t.off] == '*')
		adv(c);
	while (!at_end(c)) {
		n++;
		if (!table_action(c, o, ife, q.n >= 2))
			all = 0;
		skip_action(c);
		if (is_char(c, ','))
			adv(c);
	}
	o->idempotent = n > 0 && all;
}

static void
cls_create_index(struct cur *c, struct pgb_class *o)
{
	struct pgb_lex_token	idx;
	struct qname		q;
	char			esc = '\\';
	int			conc, ifne, named = 0;

	conc = accept(c, "concurrently");
	ifne = accept3(c, "if", "not", "exists");
	if (is_name(c) && !is_kw(c, "on")) {
		if (name_token(c, &idx, &esc) == -1)
			return;
		named = 1;
	}
	if (!accept(c, "on"))
		return;
	accept(c, "only");
	if (parse_qname(c, &q) == -1)
		return;
	normalise(c->s, &q, o->table);
	o->idempotent = ifne;
	if (!conc) {
		o->lint |= PGB_LINT_INDEX_LOCKS;
		return;
	}
	o->notx = "CREATE INDEX CONCURRENTLY";
	if (named)
		index_text(c->s, &idx, esc, &q, o->index);
}

static void
cls_create(struct cur *c, struct pgb_class *o)
{
	struct qname	q;

	if (accept2(c, "or", "replace"))
		o->idempotent = 1;
	while (accept(c, "global") || accept(c, "local") ||
	    accept(c, "temp") || accept(c, "temporary") ||
	    accept(c, "unlogged"))
		;
	if (accept(c, "unique")) {
		if (accept(c, "index"))
			cls_create_index(c, o);
		return;
	}
	if (accept(c, "index")) {
		cls_create_index(c, o);
		return;
	}
	if (accept(c, "table") || accept2(c, "materialized", "view")) {
		o->creates_table = 1;
		if (accept3(c, "if", "not", "exists"))
			o->idempotent = 1;
		if (parse_qname(c, &q) == 0)
			normalise(c->s, &q, o->table);
		return;
	}
	if (is_kw(c, "database"))
		o->notx = "CREATE DATABASE";
	else if (is_kw(c, "tablespace"))
		o->notx = "CREATE TABLESPACE";
	else if (is_kw(c, "subscription")) {
		/* Without a slot to create, it runs in a transaction. */
		if (!option_false(*c, "connect") &&
		    !option_false(*c, "create_slot"))
			o->notx = "CREATE SUBSCRIPTION";
		return;
	}
	if (find_kw_head(c, "if", "not", "exists"))
		o->idempotent = 1;
}

static void
cls_drop(struct cur *c, struct pgb_class *o)
{
	if (accept(c, "table")) {
		o->lint |= PGB_LINT_DROP_TABLE;
		o->idempotent = accept2(c, "if", "exists");
		return;
	}
	if (accept(c, "index")) {
		if (accept(c, "concurrently"))
			o->notx = "DROP INDEX CONCURRENTLY";
		o->idempotent = accept2(c, "if", "exists");
		return;
	}
	if (is_kw(c, "database"))
		o->notx = "DROP DATABASE";
	else if (is_kw(c, "tablespace"))
		o->notx = "DROP TABLESPACE";
	else if (is_kw(c, "subscription"))
		o->notx = "DROP SUBSCRIPTION";
	o->idempotent = find_kw_head(c, "if", "exists", NULL);
}

static void
cls_alter_subscription(struct cur *c, struct pgb_class *o)
{
	if (!is_name(c))
		return;
	adv(c);
	if (is_kw(c, "refresh")) {
		o->notx = "ALTER SUBSCRIPTION ... REFRESH PUBLICATION";
		o->idempotent = 1;
		return;
	}
	if (is_kw(c, "rename"))
		return;
	if (accept2(c, "set", "publication")) {
		if (!option_false(*c, "refresh"))
			o->notx = "ALTER SUBSCRIPTION ... SET PUBLICATION";
		o->idempotent = 1;
		return;
	}
	if (accept2(c, "add", "publication")) {
		if (!option_false(*c, "refresh"))
			o->notx = "ALTER SUBSCRIPTION ... ADD PUBLICATION";
		return;
	}
	if (accept2(c, "drop", "publication")) {
		if (!option_false(*c, "refresh"))
			o->notx = "ALTER SUBSCRIPTION ... DROP PUBLICATION";
		return;
	}
	o->idempotent = 1;	/* CONNECTION, SET (...), ENABLE, OWNER TO */
}

/*
 * ALTER of anything but a table or a subscription: repeatable unless it
 * renames (without IF EXISTS), moves schema, adds, drops, attaches or
 * detaches something.
 */
static void
cls_alter_generic(struct cur *c, struct pgb_class *o)
{
	struct cur	head = *c;
	struct qname	q;
	int		ife;

	ife = find_kw_head(&head, "if", "exists", NULL);
	if (accept(c, "type") && parse_qname(c, &q) == 0 &&
	    accept2(c, "add", "value")) {
		o->idempotent = accept3(c, "if", "not", "exists");
		return;
	}
	while (!at_end(c)) {
		if (c->depth == 0 && accept(c, "rename")) {
			if (!(ife && is_kw(c, "to")))
				return;
			continue;
		}
		if (c->depth == 0 && accept2(c, "set", "schema"))
			return;
		if (c->depth == 0 && (is_kw(c, "add") || is_kw(c, "drop") ||
		    is_kw(c, "attach") || is_kw(c, "detach") ||
		    is_kw(c, "depends") || is_kw(c, "inherit")))
			return;
		adv(c);
	}
	o->idempotent = 1;
}

static void
cls_alter(struct cur *c, struct pgb_class *o)
{
	if (accept(c, "table")) {
		cls_alter_table(c, o);
		return;
	}
	if (accept(c, "system")) {
		o->notx = "ALTER SYSTEM";
		o->idempotent = 1;
		return;
	}
	if (accept(c, "subscription")) {
		cls_alter_subscription(c, o);
		return;
	}
	if (is_kw(c, "database")) {
		struct cur	d = *c;

		adv(&d);
		if (is_name(&d)) {
			adv(&d);
			if (accept2(&d, "set", "tablespace")) {
				/* moving to where it is already is a no-op */
				o->notx = "ALTER DATABASE ... SET TABLESPACE";
				o->idempotent = 1;
				return;
			}
		}
	}
	cls_alter_generic(c, o);
}

/* COMMIT or END (is_end) [WORK|TRANSACTION] [AND [NO] CHAIN]. */
static void
cls_commit(struct cur *c, struct pgb_class *o, int is_end)
{
	if (!is_end && accept(c, "prepared")) {
		o->txctl = PGB_TXCTL_OTHER;
		o->notx = "COMMIT PREPARED";
		return;
	}
	if (!accept(c, "work"))
		accept(c, "transaction");
	if (accept(c, "and") && !accept(c, "no"))
		o->txctl = PGB_TXCTL_OTHER;	/* AND CHAIN begins anew */
	else
		o->txctl = PGB_TXCTL_COMMIT;
}

static void
cls_reindex(struct cur *c, struct pgb_class *o)
{
	int	conc = 0;

	o->idempotent = 1;
	if (is_char(c, '(')) {
		adv(c);
		while (!at_end(c) && c->depth > 0) {
			if (accept(c, "concurrently")) {
				if (!is_false_value(c))
					conc = 1;
				continue;
			}
			adv(c);
		}
	}
	if (accept(c, "database"))
		o->notx = "REINDEX DATABASE";
	else if (accept(c, "system"))
		o->notx = "REINDEX SYSTEM";
	else if (accept(c, "schema"))
		o->notx = "REINDEX SCHEMA";
	else if (!accept(c, "table"))
		accept(c, "index");
	if (accept(c, "concurrently"))
		conc = 1;
	if (o->notx == NULL && conc)
		o->notx = "REINDEX CONCURRENTLY";
}

/* Only CLUSTER without a table (all clustered tables) refuses. */
static void
cls_cluster(struct cur *c, struct pgb_class *o)
{
	o->idempotent = 1;
	if (is_char(c, '(')) {
		adv(c);
		while (!at_end(c) && c->depth > 0)
			adv(c);
	}
	accept(c, "verbose");
	if (at_end(c))
		o->notx = "CLUSTER";
}

/*
 * COPY's direction is its first FROM or TO outside parentheses (those of
 * "COPY (query) TO" hold the query's own FROM).  The grammar takes STDIN
 * and STDOUT alike as the client (copy_file_name): "COPY t TO STDIN"
 * writes to it too.
 */
static void
cls_copy(struct cur *c, struct pgb_class *o)
{
	while (!at_end(c)) {
		if (c->depth == 0 && accept(c, "from")) {
			o->is_copy_stdin = is_kw(c, "stdin") ||
			    is_kw(c, "stdout");
			return;
		}
		if (c->depth == 0 && accept(c, "to")) {
			if (is_kw(c, "stdout"))
				o->copy_out = "COPY ... TO STDOUT";
			else if (is_kw(c, "stdin"))
				o->copy_out = "COPY ... TO STDIN";
			return;
		}
		adv(c);
	}
}

/*
 * A function name: an identifier in any case, or the same in double
 * quotes (lowercase, as the server stores it).
 */
static int
is_fname(const struct cur *c, const char *name)
{
	size_t	n = strlen(name);

	if (c->t.kind == PGB_TOK_IDENT)
		return pgb_lex_kw_eq(c->s + c->t.off, c->t.len, name);
	return c->t.kind == PGB_TOK_QIDENT && c->t.len == n + 2 &&
	    c->s[c->t.off] == '"' && memcmp(c->s + c->t.off + 1, name, n) == 0;
}

/* true, or a string the server reads as true ('true', 't', 'on', ...). */
static int
is_true_value(const struct cur *c)
{
	static const char *const yes[] = { "true", "t", "on", "yes", "y",
	    "1", NULL };
	const char	*p = c->s + c->t.off;
	size_t		 i;

	if (is_kw(c, "true"))
		return 1;
	if (c->t.kind != PGB_TOK_STRING || c->t.len < 2 || p[0] != '\'')
		return 0;
	for (i = 0; yes[i] != NULL; i++)
		if (pgb_lex_kw_eq(p + 1, c->t.len - 2, yes[i]))
			return 1;
	return 0;
}

/*
 * At the '(' after set_config: 1 when its third argument is literally
 * true (SET LOCAL), 0 for false or anything the text does not settle.
 */
static int
config_is_local(struct cur c)
{
	size_t	depth, commas = 0;

	adv(&c);
	depth = c.depth;
	while (c.t.kind != PGB_TOK_EOF && c.depth >= depth) {
		if (c.depth == depth && is_char(&c, ',') && ++commas == 2) {
			adv(&c);
			if (!is_true_value(&c))
				return 0;
			adv(&c);
			return is_char(&c, ')');
		}
		adv(&c);
	}
	return 0;
}

/*
 * What the statement's head leaves in the session: SET (but SET LOCAL,
 * SET TRANSACTION and SET CONSTRAINTS end with the transaction), RESET,
 * DISCARD, PREPARE (not PREPARE TRANSACTION), DEALLOCATE, LISTEN,
 * UNLISTEN, DECLARE ... WITH HOLD, LOAD, CREATE TEMP ..., and DO and
 * CALL, whose code is not read here.  NULL for any other head.
 */
static const char *
session_head(struct cur *c)
{
	if (accept(c, "set")) {
		if (is_kw(c, "local") || is_kw(c, "transaction") ||
		    is_kw(c, "constraints"))
			return NULL;
		accept(c, "session");
		if (is_kw(c, "role"))
			return "SET ROLE";
		if (is_kw(c, "authorization"))
			return "SET SESSION AUTHORIZATION";
		return "SET";
	}
	if (accept(c, "prepare"))
		return is_kw(c, "transaction") ? NULL : "PREPARE";
	if (accept(c, "declare")) {
		while (!at_end(c) && !(c->depth == 0 && is_kw(c, "for"))) {
			if (c->depth == 0 && accept2(c, "with", "hold"))
				return "a cursor WITH HOLD";
			adv(c);
		}
		return NULL;
	}
	if (accept(c, "create")) {
		accept2(c, "or", "replace");
		while (accept(c, "global") || accept(c, "local") ||
		    accept(c, "unlogged"))
			;
		return is_kw(c, "temp") || is_kw(c, "temporary") ?
		    "a temporary object" : NULL;
	}
	return is_kw(c, "reset") ? "RESET" : is_kw(c, "discard") ? "DISCARD" :
	    is_kw(c, "deallocate") ? "DEALLOCATE" : is_kw(c, "listen") ?
	    "LISTEN" : is_kw(c, "unlisten") ? "UNLISTEN" : is_kw(c, "load") ?
	    "LOAD" : is_kw(c, "do") ? "DO" : is_kw(c, "call") ? "CALL" : NULL;
}

/*
 * Anywhere in the statement: a call of set_config() that is not local,
 * of a session-level advisory lock function, setseed() or
 * dblink_connect(); a pg_temp schema; SELECT ... INTO TEMP.
 */
static const char *
session_token(const struct cur *c)
{
	static const char *const locks[] = { "pg_advisory_lock",
	    "pg_advisory_lock_shared", "pg_try_advisory_lock",
	    "pg_try_advisory_lock_shared", "pg_advisory_unlock",
	    "pg_advisory_unlock_shared", "pg_advisory_unlock_all", NULL };
	struct cur	n = *c;
	size_t		i;

	if (!is_name(c))
		return NULL;
	adv(&n);
	if (is_char(&n, '(')) {
		if (is_fname(c, "set_config"))
			return config_is_local(n) ? NULL :
			    "set_config(..., false)";
		for (i = 0; locks[i] != NULL; i++)
			if (is_fname(c, locks[i]))
				return "a session advisory lock";
		if (is_fname(c, "setseed"))
			return "setseed()";
		if (is_fname(c, "dblink_connect") ||
		    is_fname(c, "dblink_connect_u"))
			return "a dblink connection";
		return NULL;
	}
	if (is_char(&n, '.') && c->t.kind == PGB_TOK_IDENT &&
	    c->t.len >= 7 && pgb_lex_kw_eq(c->s + c->t.off, 7, "pg_temp") &&
	    (c->t.len == 7 || c->s[c->t.off + 7] == '_'))
		return "a temporary object";
	if (is_kw(c, "into")) {
		if (!accept(&n, "local"))
			accept(&n, "global");
		if (is_kw(&n, "temp") || is_kw(&n, "temporary"))
			return "a temporary object";
	}
	return NULL;
}

/* Set o->session: see classify.h. */
static void
cls_session(const char *sql, size_t len, struct pgb_class *o)
{
	struct cur	c;

	memset(&c, 0, sizeof(c));
	c.s = sql;
	c.len = len;
	fetch(&c);
	if ((o->session = session_head(&c)) != NULL)
		return;
	memset(&c, 0, sizeof(c));
	c.s = sql;
	c.len = len;
	fetch(&c);
	for (; c.t.kind != PGB_TOK_EOF; adv(&c))
		if ((o->session = session_token(&c)) != NULL)
			return;
}

int
pgb_classify(const char *sql, size_t len, struct pgb_class *out)
{
	struct cur	 c;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.s = sql;
	c.len = len;
	fetch(&c);

	if (accept(&c, "begin")) {
		if (!is_kw(&c, "atomic"))
			out->txctl = PGB_TXCTL_BEGIN;
	} else if (accept(&c, "start")) {
		if (is_kw(&c, "transaction"))
			out->txctl = PGB_TXCTL_BEGIN;
	} else if (accept(&c, "commit"))
		cls_commit(&c, out, 0);
	else if (accept(&c, "end"))
		cls_commit(&c, out, 1);
	else if (accept(&c, "rollback")) {
		out->txctl = PGB_TXCTL_OTHER;
		if (is_kw(&c, "prepared"))
			out->notx = "ROLLBACK PREPARED";
	} else if (is_kw(&c, "abort") || is_kw(&c, "savepoint") ||
	    is_kw(&c, "release"))
		out->txctl = PGB_TXCTL_OTHER;
	else if (accept(&c, "prepare")) {
		if (is_kw(&c, "transaction"))
			out->txctl = PGB_TXCTL_OTHER;
	} else if (accept(&c, "set")) {
		out->idempotent = 1;
		if (is_kw(&c, "transaction"))
			out->txctl = PGB_TXCTL_OTHER;
	} else if (accept(&c, "create"))
		cls_create(&c, out);
	else if (accept(&c, "drop"))
		cls_drop(&c, out);
	else if (accept(&c, "alter"))
		cls_alter(&c, out);
	else if (accept(&c, "vacuum")) {
		out->notx = "VACUUM";
		out->idempotent = 1;
	} else if (accept(&c, "reindex"))
		cls_reindex(&c, out);
	else if (accept(&c, "cluster"))
		cls_cluster(&c, out);
	else if (accept(&c, "discard")) {
		out->idempotent = 1;
		if (is_kw(&c, "all"))
			out->notx = "DISCARD ALL";
	} else if (is_kw(&c, "analyze") || is_kw(&c, "analyse") ||
	    is_kw(&c, "reset") || is_kw(&c, "grant") ||
	    is_kw(&c, "revoke") || is_kw(&c, "checkpoint") ||
	    accept2(&c, "comment", "on") ||
	    accept2(&c, "security", "label") ||
	    accept2(&c, "refresh", "materialized"))
		out->idempotent = 1;
	else if (accept(&c, "insert")) {
		while (!at_end(&c)) {
			/* ON CONFLICT ... DO NOTHING; DO UPDATE may not be */
			if (c.depth == 0 && accept2(&c, "do", "nothing")) {
				out->idempotent = 1;
				break;
			}
			adv(&c);
		}
	} else if (accept(&c, "copy"))
		cls_copy(&c, out);
	cls_session(sql, len, out);
	return 0;
}

const char *
pgb_lint_rule(unsigned bit)
{
	switch (bit) {
	case PGB_LINT_DROP_TABLE:
		return "drop-table";
	case PGB_LINT_DROP_COLUMN:
		return "drop-column";
	case PGB_LINT_INDEX_LOCKS:
		return "index-locks";
	case PGB_LINT_NOT_NULL:
		return "not-null-no-default";
	case PGB_LINT_ALTER_TYPE:
		return "alter-type";
	default:
		return NULL;
	}
}
