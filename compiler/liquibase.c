/*
 * liquibase.c - split a Liquibase formatted SQL file into its changesets
 * (liquibase.h), line by line as Liquibase reads it: a "--changeset"
 * line starts one wherever it stands, even inside a dollar quote.
 *
 * Trusts: nothing in the text.  Rejects, at the line: what Liquibase
 * would decide at run time and a bundle cannot (contexts, labels,
 * preconditions, properties, runAlways, runOnChange), what changes how
 * statements split (an endDelimiter other than ';', ignoreLines), and
 * what this reader does not take (includes, multi-line rollback blocks,
 * quoted authors or ids).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "lex.h"
#include "liquibase.h"
#include "banned.h"

/* One line of the file: [off, end) without the newline; 'next' after. */
struct line {
	size_t		 off, end, next;
	unsigned	 no;
};

struct parse {
	const char	*text;
	size_t		 len;
	struct pgb_changeset *v;
	size_t		 n;
	int		 started;	/* a changeset line was seen */
	unsigned	*errline;
	char		*why;
	size_t		 whylen;
};

static int	fail(struct parse *, unsigned, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
fail(struct parse *p, unsigned line, const char *fmt, ...)
{
	va_list	ap;

	*p->errline = line;
	va_start(ap, fmt);
	vsnprintf(p->why, p->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f';
}

/* The line at l->next, or 0 at the end. */
static int
next_line(const struct parse *p, struct line *l)
{
	const char	*nl;

	if (l->next >= p->len)
		return 0;
	l->off = l->next;
	nl = memchr(p->text + l->off, '\n', p->len - l->off);
	l->end = nl != NULL ? (size_t)(nl - p->text) : p->len;
	l->next = nl != NULL ? l->end + 1 : p->len;
	while (l->end > l->off && blank(p->text[l->end - 1]))
		l->end--;
	l->no++;
	return 1;
}

/*
 * The body of a "--" comment that is the whole line (after blanks), or
 * NULL: *n is its length.
 */
static const char *
comment(const struct parse *p, const struct line *l, size_t *n)
{
	size_t	o = l->off;

	while (o < l->end && blank(p->text[o]))
		o++;
	if (l->end - o < 2 || p->text[o] != '-' || p->text[o + 1] != '-')
		return NULL;
	for (o += 2; o < l->end && blank(p->text[o]); o++)
		;
	*n = l->end - o;
	return p->text + o;
}

/* Does s[0..n) start with the word 'w' (any case), then a blank or end? */
static int
word(const char *s, size_t n, const char *w)
{
	size_t	k = strlen(w);

	return n >= k && pgb_lex_kw_eq(s, k, w) && (n == k || blank(s[k]) ||
	    s[k] == ':');
}

/* Does the list 'v' (a dbms value: "postgresql,oracle") run on PostgreSQL? */
static int
runs_on_postgresql(const char *v, size_t n)
{
	size_t	i, k;
	int	pos = 0, hit = 0;

	for (i = 0; i < n; i += k + 1) {
		k = strcspn(v + i, ",");
		if (i + k > n)
			k = n - i;
		if (k == 11 && pgb_lex_kw_eq(v + i, 11, "!postgresql"))
			return 0;
		if (k > 0 && v[i] != '!') {
			pos = 1;
			hit |= (k == 10 && pgb_lex_kw_eq(v + i, 10,
			    "postgresql")) || (k == 3 && pgb_lex_kw_eq(v + i, 3,
			    "all"));
		}
	}
	return !pos || hit;
}

/*
 * One "key:value" attribute of a changeset line.  0, 1 when the
 * changeset is to be left out (ignore:true, another dbms), -1.
 */
static int
attribute(struct parse *p, unsigned line, const char *a, size_t n,
    struct pgb_changeset *c)
{
	const char	*colon = memchr(a, ':', n), *v;
	size_t		 k, vn;

	if (colon == NULL || colon == a || (size_t)(colon - a) + 1 == n)
		return fail(p, line, "changeset attribute '%.*s' is not "
		    "key:value", (int)(n > 40 ? 40 : n), a);
	k = (size_t)(colon - a);
	v = colon + 1;
	vn = n - k - 1;
#define KEY(s)	(k == sizeof(s) - 1 && strncmp(a, s, k) == 0)
#define VAL(s)	(vn == sizeof(s) - 1 && pgb_lex_kw_eq(v, vn, s))
	if (KEY("runInTransaction") && (VAL("false") || VAL("true"))) {
		c->up.notx = c->down.notx = VAL("false");
		return 0;
	}
	if (KEY("ignore") && (VAL("true") || VAL("false")))
		return VAL("true");
	if (KEY("dbms"))
		return !runs_on_postgresql(v, vn);
	if (((KEY("endDelimiter") || KEY("rollbackEndDelimiter")) &&
	    vn == 1 && *v == ';') || ((KEY("splitStatements") ||
	    KEY("rollbackSplitStatements") || KEY("stripComments") ||
	    KEY("runOnChange") || KEY("runAlways")) && VAL("false")) ||
	    (KEY("failOnError") && VAL("true")) || KEY("logicalFilePath") ||
	    KEY("created") || KEY("runWith") || (KEY("splitStatements") &&
	    VAL("true")) || (KEY("stripComments") && VAL("true")))
		return 0;
	if (KEY("context") || KEY("contextFilter") || KEY("labels"))
		return fail(p, line, "changeset attribute '%.*s': Liquibase "
		    "picks such changesets when it runs, a bundle cannot; "
		    "drop it or move the changeset out of the folder",
		    (int)(n > 60 ? 60 : n), a);
	return fail(p, line, "changeset attribute '%.*s' is not supported: "
	    "pgbundle applies each changeset once, splitting statements as "
	    "psql does, and stops at the first error", (int)(n > 60 ? 60 : n),
	    a);
#undef KEY
#undef VAL
}

/*
 * "changeset AUTHOR:ID attr:value ..." (the comment body 's', 'n'
 * bytes).  0 with c->id set, 1 to leave it out, -1.
 */
static int
changeset_line(struct parse *p, unsigned line, const char *s, size_t n,
    struct pgb_changeset *c)
{
	const char	*e = s + n, *id, *colon;
	size_t		 k;
	int		 rc, skip = 0;

	s += 9;
	while (s < e && blank(*s))
		s++;
	if (s < e && (*s == '"' || *s == '\''))
		return fail(p, line, "quoted changeset authors are not "
		    "supported: write AUTHOR:ID");
	colon = memchr(s, ':', (size_t)(e - s));
	if (colon == NULL || colon == s)
		return fail(p, line, "changeset line without AUTHOR:ID");
	id = colon + 1;
	while (id < e && blank(*id))
		id++;
	for (k = 0; id + k < e && !blank(id[k]); k++)
		;
	if (k == 0 || k > PGB_LIQUIBASE_ID_MAX || *id == '"' || *id == '\'')
		return fail(p, line, "changeset id must be 1 to %d bytes, "
		    "unquoted, no blanks", PGB_LIQUIBASE_ID_MAX);
	memcpy(c->id, id, k);
	c->id[k] = '\0';
	for (s = id + k; s < e;) {
		while (s < e && blank(*s))
			s++;
		for (k = 0; s + k < e && !blank(s[k]); k++)
			;
		if (k == 0)
			break;
		if ((rc = attribute(p, line, s, k, c)) == -1)
			return -1;
		skip |= rc;
		s += k;
	}
	return skip;
}

/* A rollback line's SQL, or "not required" (none is needed). */
static void
add_rollback(struct pgb_changeset *c, struct pgb_buf *b, const char *s,
    size_t n)
{
	s += 8;
	n -= 8;
	while (n > 0 && blank(*s))
		s++, n--;
	c->down.present = 1;
	if (!((n == 12 && pgb_lex_kw_eq(s, 12, "not required")) ||
	    (n == 5 && pgb_lex_kw_eq(s, 5, "empty"))))
		pgb_buf_append(b, s, n);
}

/* Close the changeset being read at 'end' (the next one's line). */
static void
close_changeset(struct parse *p, struct pgb_changeset *c, struct pgb_buf *b,
    size_t end, int skip)
{
	if (c->line == 0)
		return;
	c->up.len = end - c->up.off;
	if (c->down.present) {
		c->down.len = b->len;
		c->down.text = pgb_buf_steal(b, NULL);
	}
	pgb_buf_release(b);
	pgb_buf_init(b);
	if (!skip) {
		p->v = pgb_xreallocarray(p->v, p->n + 1, sizeof(*p->v));
		p->v[p->n++] = *c;
	} else
		free(c->down.text);
	memset(c, 0, sizeof(*c));
}

/* Only comments may come before the first changeset. */
static int
prologue(struct parse *p, size_t end)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	unsigned	 line;
	int		 rc = 0;

	if (pgb_lex_split(p->text, end, &lx, &line, &d) == 0 &&
	    (lx.nstmts > 0 || lx.nmetas > 0))
		rc = fail(p, lx.nstmts > 0 ? lx.stmts[0].line :
		    lx.metas[0].line, "statement before the first changeset: "
		    "Liquibase runs only changesets");
	pgb_lex_release(&lx);
	return rc;
}

/* Does the line open a block comment "liquibase rollback"? */
static int
rollback_block(const struct parse *p, const struct line *l)
{
	size_t	o = l->off;

	while (o < l->end && blank(p->text[o]))
		o++;
	if (l->end - o < 2 || strncmp(p->text + o, "/*", 2) != 0)
		return 0;
	for (o += 2; o < l->end && blank(p->text[o]); o++)
		;
	if (!word(p->text + o, l->end - o, "liquibase"))
		return 0;
	for (o += 9; o < l->end && blank(p->text[o]); o++)
		;
	return word(p->text + o, l->end - o, "rollback");
}

/* One line of the file: a marker of Liquibase's, or SQL. */
static int
one_line(struct parse *p, const struct line *l, struct pgb_changeset *c,
    struct pgb_buf *b, int *skip)
{
	const char	*s;
	size_t		 n;
	int		 rc;

	if ((s = comment(p, l, &n)) == NULL) {
		if (rollback_block(p, l))
			return fail(p, l->no, "multi-line rollback blocks are "
			    "not supported: write each statement on a "
			    "'--rollback' line");
		return 0;
	}
	if (n > 10 && pgb_lex_kw_eq(s, 9, "changeset") && blank(s[9])) {
		close_changeset(p, c, b, l->off, *skip);
		if (!p->started && prologue(p, l->off) == -1)
			return -1;
		p->started = 1;
		c->line = l->no;
		c->up.present = 1;
		c->up.off = l->off;
		c->up.line0 = l->no - 1;
		c->down.line0 = l->no - 1;
		if ((rc = changeset_line(p, l->no, s, n, c)) == -1)
			return -1;
		*skip = rc;
		return 0;
	}
	if (word(s, n, "rollback")) {
		if (c->line == 0)
			return fail(p, l->no, "rollback before the first "
			    "changeset");
		add_rollback(c, b, s, n);
		return 0;
	}
	if (word(s, n, "precondition") || word(s, n, "preconditions") ||
	    (n >= 13 && pgb_lex_kw_eq(s, 13, "precondition-")))
		return fail(p, l->no, "Liquibase preconditions are decided "
		    "when it runs, which a bundle cannot: drop them");
	if (word(s, n, "include") || word(s, n, "includeAll") ||
	    word(s, n, "property") || word(s, n, "ignoreLines"))
		return fail(p, l->no, "'--%.*s' is not supported in a "
		    "formatted SQL changelog read by pgbundle", (int)(n > 30 ?
		    30 : n), s);
	return 0;
}

int
pgb_liquibase_parse(const char *text, size_t len, struct pgb_changeset **out,
    size_t *n, unsigned *errline, char *why, size_t whylen)
{
	struct parse		 p;
	struct pgb_changeset	 c;
	struct pgb_buf		 b;
	struct line		 l;
	const char		*s;
	size_t			 k;
	int			 skip = 0, rc = 0;

	memset(&p, 0, sizeof(p));
	p.text = text;
	p.len = len;
	p.errline = errline;
	p.why = why;
	p.whylen = whylen;
	memset(&c, 0, sizeof(c));
	memset(&l, 0, sizeof(l));
	pgb_buf_init(&b);
	if (!next_line(&p, &l) || (s = comment(&p, &l, &k)) == NULL ||
	    !word(s, k, "liquibase") || k < 19 ||
	    !pgb_lex_kw_eq(s + 10, 9, "formatted"))
		rc = fail(&p, 1, "a Liquibase formatted SQL file starts with "
		    "'--liquibase formatted sql'");
	while (rc == 0 && next_line(&p, &l)) {
		if (c.line != 0)
			pgb_buf_puts(&b, "\n");	/* keep the file's lines */
		rc = one_line(&p, &l, &c, &b, &skip);
	}
	if (rc == 0)
		close_changeset(&p, &c, &b, len, skip);
	else
		free(c.down.text);
	pgb_buf_release(&b);
	if (rc == 0 && !p.started && prologue(&p, len) == -1)
		rc = -1;
	if (rc == -1) {
		pgb_liquibase_free(p.v, p.n);
		p.v = NULL;
		p.n = 0;
	}
	*out = p.v;
	*n = p.n;
	return rc;
}

void
pgb_liquibase_free(struct pgb_changeset *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].down.text);
	free(v);
}
