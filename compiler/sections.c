/*
 * sections.c - other tools' markers in SQL comments (sections.h): find
 * the up and down sections of a dbmate, goose or sql-migrate file, tell
 * such a file from a plain one, and refuse a marker that does not belong
 * where it is found, so that a down section never runs as part of an up.
 *
 * Trusts: nothing in the text; comments are found by the lexer, so a
 * marker inside a string or a dollar quote is no marker.  Rejects (with
 * the line): markers missing, repeated or out of order, spelt otherwise
 * than the tool reads them (goose: "-- +goose WORD" in any case, no
 * blank before it; sql-migrate: "-- +migrate Word" exactly), an
 * unknown annotation or option, a StatementBegin without its
 * StatementEnd, goose's ENVSUB (pgbundle ships the text as written), a
 * statement before the up marker, and another tool's marker.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "sections.h"
#include "banned.h"

/* How each one-file layout writes its markers. */
struct syntax {
	enum pgb_layout	 layout;
	const char	*up;		/* as the messages quote it */
	const char	*down;
	const char	*up_line;	/* what squash writes */
};

static const struct syntax syntaxes[] = {
	{ PGB_LAYOUT_DBMATE, "-- migrate:up", "-- migrate:down",
	    "-- migrate:up\n" },
	{ PGB_LAYOUT_GOOSE, "-- +goose Up", "-- +goose Down",
	    "-- +goose Up\n" },
	{ PGB_LAYOUT_SQL_MIGRATE, "-- +migrate Up", "-- +migrate Down",
	    "-- +migrate Up\n" },
};

static const struct syntax *
syntax_of(enum pgb_layout l)
{
	size_t	i;

	for (i = 0; i < sizeof(syntaxes) / sizeof(syntaxes[0]); i++)
		if (syntaxes[i].layout == l)
			return &syntaxes[i];
	return NULL;
}

int
pgb_sections_layout(enum pgb_layout l)
{
	return syntax_of(l) != NULL;
}

const char *
pgb_sections_up_line(enum pgb_layout l)
{
	const struct syntax *sx = syntax_of(l);

	return sx != NULL ? sx->up_line : NULL;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f';
}

/* Does 's' start with 'word' (any case), followed by a blank or the end? */
static int
word_at(const char *s, const char *word)
{
	size_t	n = strlen(word);

	return strlen(s) >= n && pgb_lex_kw_eq(s, n, word) &&
	    (s[n] == '\0' || blank(s[n]));
}

static const char *
skip_blanks(const char *s)
{
	while (blank(*s))
		s++;
	return s;
}

/* The kind of goose's or sql-migrate's annotation 'w' (after "+tool"). */
static enum pgb_mark
annotation_kind(const char *w)
{
	if (word_at(w, "up"))
		return PGB_MARK_UP;
	if (word_at(w, "down"))
		return PGB_MARK_DOWN;
	return PGB_MARK_OTHER;
}

/* Liquibase: "changeset AUTHOR:ID", the colon inside the first word. */
static int
changeset_at(const char *s)
{
	const char	*colon;
	size_t		 n;

	if (!word_at(s, "changeset"))
		return 0;
	s = skip_blanks(s + 9);
	n = strcspn(s, " \t\r\f");
	colon = memchr(s, ':', n);
	return n > 0 && colon != NULL && colon != s && colon + 1 < s + n;
}

enum pgb_mark
pgb_sections_marker(const char *body, enum pgb_layout *owner)
{
	*owner = PGB_LAYOUT_AUTO;
	if (strncmp(body, "migrate:", 8) == 0) {
		*owner = PGB_LAYOUT_DBMATE;
		return word_at(body + 8, "up") && strncmp(body + 8, "up", 2) ==
		    0 ? PGB_MARK_UP : word_at(body + 8, "down") &&
		    strncmp(body + 8, "down", 4) == 0 ? PGB_MARK_DOWN :
		    PGB_MARK_OTHER;
	}
	if (word_at(body, "+goose")) {
		*owner = PGB_LAYOUT_GOOSE;
		return annotation_kind(skip_blanks(body + 6));
	}
	if (word_at(body, "+migrate")) {
		*owner = PGB_LAYOUT_SQL_MIGRATE;
		return annotation_kind(skip_blanks(body + 8));
	}
	if (word_at(body, "liquibase") && word_at(skip_blanks(body + 9),
	    "formatted")) {
		*owner = PGB_LAYOUT_LIQUIBASE;
		return PGB_MARK_HEADER;
	}
	if (changeset_at(body)) {
		*owner = PGB_LAYOUT_LIQUIBASE;
		return PGB_MARK_CHANGESET;
	}
	return PGB_MARK_NONE;
}

/* Offset of the first byte of 1-based line 'line' (or 'len'). */
static size_t
line_start(const char *text, size_t len, unsigned line)
{
	size_t		 i;
	unsigned	 l = 1;

	for (i = 0; i < len && l < line; i++)
		if (text[i] == '\n')
			l++;
	return i;
}

/* 1 if the line at 'off' starts, after blanks, with "--". */
static int
comment_line(const char *text, size_t len, size_t off)
{
	while (off < len && (text[off] == ' ' || text[off] == '\t'))
		off++;
	return len - off >= 2 && text[off] == '-' && text[off + 1] == '-';
}

/*
 * The markers of 'lx' in order, each with its line's offset: call with
 * *i = 0, then again while it returns a kind other than NONE.
 */
static enum pgb_mark
next_marker(const char *text, size_t len, const struct pgb_lex *lx,
    size_t *i, enum pgb_layout *owner, size_t *off, unsigned *line)
{
	enum pgb_mark	k;

	for (; *i < lx->ndirs; (*i)++) {
		k = pgb_sections_marker(lx->dirs[*i].text, owner);
		if (k == PGB_MARK_NONE)
			continue;
		*line = lx->dirs[*i].line;
		*off = line_start(text, len, *line);
		/* After SQL on its line: a comment, for every tool. */
		if (!comment_line(text, len, *off))
			continue;
		(*i)++;
		return k;
	}
	return PGB_MARK_NONE;
}

enum pgb_layout
pgb_sections_sniff(const char *text, size_t len)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	enum pgb_layout	 owner, got = PGB_LAYOUT_AUTO;
	enum pgb_mark	 k;
	size_t		 i = 0, off;
	unsigned	 line;

	if (pgb_lex_split(text, len, &lx, &line, &d) == 0) {
		while ((k = next_marker(text, len, &lx, &i, &owner, &off,
		    &line)) != PGB_MARK_NONE) {
			if (k == PGB_MARK_UP || k == PGB_MARK_HEADER ||
			    k == PGB_MARK_CHANGESET) {
				got = owner;
				break;
			}
		}
	}
	pgb_lex_release(&lx);
	return got;
}

/* The marker's own words, for messages: "-- +goose Down". */
static void
quote_line(const char *text, size_t len, size_t off, char *out, size_t n)
{
	const char	*nl = memchr(text + off, '\n', len - off);
	size_t		 end = nl != NULL ? (size_t)(nl - text) : len;

	while (off < end && (text[off] == ' ' || text[off] == '\t'))
		off++;
	while (end > off && blank(text[end - 1]))
		end--;
	snprintf(out, n, "%.*s", (int)(end - off > 60 ? 60 : end - off),
	    text + off);
}

int
pgb_sections_foreign(enum pgb_layout layout, int top, const char *text,
    size_t len, const struct pgb_lex *lx, unsigned *line, char *why,
    size_t whylen)
{
	enum pgb_layout	 owner;
	enum pgb_mark	 k;
	size_t		 i = 0, off;
	char		 q[64];

	while ((k = next_marker(text, len, lx, &i, &owner, &off, line)) !=
	    PGB_MARK_NONE) {
		if (k == PGB_MARK_OTHER)
			continue;
		if (top && owner == layout)
			continue;
		quote_line(text, len, off, q, sizeof(q));
		if (!top)
			snprintf(why, whylen, "%s marker '%s' in an included "
			    "file: only a migration's own file may hold "
			    "sections (a down section must never run as part "
			    "of an up)", pgb_layout_label(owner), q);
		else
			snprintf(why, whylen, "%s marker '%s' in a file read "
			    "in the %s layout: a down section must never run "
			    "as part of an up (pass --layout %s if the folder "
			    "is %s's)", pgb_layout_label(owner), q,
			    pgb_layout_label(layout), pgb_layout_label(owner),
			    pgb_layout_label(owner));
		return -1;
	}
	return 0;
}

static int
fail_at(unsigned line, unsigned *errline, char *why, size_t whylen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail_at(unsigned line, unsigned *errline, char *why, size_t whylen,
    const char *fmt, ...)
{
	va_list	ap;

	*errline = line;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* State of the marker walk of one file. */
struct walk {
	const struct syntax *sx;
	const char	*text;
	size_t		 len;
	struct pgb_section *up, *down, *cur;
	unsigned	 block;		/* line of an open StatementBegin */
	unsigned	*errline;
	char		*why;
	size_t		 whylen;
};

/*
 * The options after dbmate's "migrate:up" or "migrate:down" ('opts'):
 * only "transaction:false" and "transaction:true" exist.
 */
static int
dbmate_options(struct walk *w, const char *opts, struct pgb_section *sec,
    unsigned line)
{
	const char	*p = opts;
	size_t		 k;

	for (;;) {
		p += strspn(p, " \t");
		if ((k = strcspn(p, " \t")) == 0)
			return 0;
		if (k == 17 && strncmp(p, "transaction:false", 17) == 0)
			sec->notx = 1;
		else if (!(k == 16 && strncmp(p, "transaction:true", 16) == 0))
			return fail_at(line, w->errline, w->why, w->whylen,
			    "unknown dbmate option '%.*s' (known: "
			    "transaction:false)", (int)(k > 60 ? 60 : k), p);
		p += k;
	}
}

/* dbmate: "migrate:up" or "migrate:down", then options. */
static int
dbmate_marker(struct walk *w, const char *body, enum pgb_mark k,
    struct pgb_section **sec, unsigned line)
{
	if (k == PGB_MARK_OTHER)
		return fail_at(line, w->errline, w->why, w->whylen, "unknown "
		    "dbmate marker: expected '-- migrate:up' or "
		    "'-- migrate:down'");
	*sec = k == PGB_MARK_UP ? w->up : w->down;
	return dbmate_options(w, body + (k == PGB_MARK_UP ? 10 : 12), *sec,
	    line);
}

/*
 * goose: "-- +goose WORD" at the very start of the line, one blank after
 * "--", the word in any case.
 */
static int
goose_marker(struct walk *w, size_t off, const char *body, enum pgb_mark k,
    struct pgb_section **sec, unsigned line)
{
	const char	*a = skip_blanks(body + 6);

	if (w->len - off < 10 || strncmp(w->text + off, "--", 2) != 0 ||
	    !blank(w->text[off + 2]) || w->text[off + 3] != '+')
		return fail_at(line, w->errline, w->why, w->whylen, "goose "
		    "reads an annotation only as '-- +goose WORD' at the start "
		    "of its line");
	if (k != PGB_MARK_OTHER) {
		*sec = k == PGB_MARK_UP ? w->up : w->down;
		if (*skip_blanks(a + (k == PGB_MARK_UP ? 2 : 4)) == '\0')
			return 0;
	} else if (word_at(a, "statementbegin") &&
	    *skip_blanks(a + 14) == '\0') {
		return 2;
	} else if (word_at(a, "statementend") && *skip_blanks(a + 12) == '\0') {
		return 3;
	} else if (word_at(a, "no") && word_at(skip_blanks(a + 2),
	    "transaction") && *skip_blanks(skip_blanks(a + 2) + 11) == '\0') {
		w->up->notx = w->down->notx = 1;
		return 0;
	} else if (word_at(a, "envsub")) {
		return fail_at(line, w->errline, w->why, w->whylen, "goose's "
		    "ENVSUB replaces ${VAR} with the environment's values when "
		    "it runs; pgbundle ships the text as written");
	}
	return fail_at(line, w->errline, w->why, w->whylen, "unknown goose "
	    "annotation '+goose %.40s' (known: Up, Down, StatementBegin, "
	    "StatementEnd, NO TRANSACTION)", a);
}

/*
 * sql-migrate: "-- +migrate Word [notransaction]" exactly as it starts
 * the line, the word's case as sql-migrate spells it.
 */
static int
sql_migrate_marker(struct walk *w, size_t off, const char *body,
    enum pgb_mark k, struct pgb_section **sec, unsigned line)
{
	const char	*a = skip_blanks(body + 8), *p;
	size_t		 n = strcspn(a, " \t\r\f");

	if (w->len - off < 12 || strncmp(w->text + off, "-- +migrate ", 12) !=
	    0)
		return fail_at(line, w->errline, w->why, w->whylen,
		    "sql-migrate reads a marker only as '-- +migrate Word' at "
		    "the start of its line");
	if ((n == 2 && strncmp(a, "Up", 2) == 0) || (n == 4 &&
	    strncmp(a, "Down", 4) == 0)) {
		*sec = k == PGB_MARK_UP ? w->up : w->down;
		for (p = skip_blanks(a + n); *p != '\0'; p = skip_blanks(p)) {
			n = strcspn(p, " \t\r\f");
			if (n != 13 || strncmp(p, "notransaction", 13) != 0)
				return fail_at(line, w->errline, w->why,
				    w->whylen, "unknown sql-migrate option "
				    "'%.*s' (known: notransaction)",
				    (int)(n > 40 ? 40 : n), p);
			(*sec)->notx = 1;
			p += n;
		}
		return 0;
	}
	if (n == 14 && strncmp(a, "StatementBegin", 14) == 0 &&
	    *skip_blanks(a + n) == '\0')
		return 2;
	if (n == 12 && strncmp(a, "StatementEnd", 12) == 0 &&
	    *skip_blanks(a + n) == '\0')
		return 3;
	return fail_at(line, w->errline, w->why, w->whylen, "unknown "
	    "sql-migrate marker '+migrate %.40s' (known: Up, Down, "
	    "StatementBegin, StatementEnd; the case counts)", a);
}

/* StatementBegin (2) or StatementEnd (3) at 'line'. */
static int
block_marker(struct walk *w, int what, unsigned line)
{
	const char *tool = pgb_layout_label(w->sx->layout);

	if (what == 2 && w->cur == NULL)
		return fail_at(line, w->errline, w->why, w->whylen, "%s "
		    "StatementBegin before '%s'", tool, w->sx->up);
	if (what == 2 && w->block != 0)
		return fail_at(line, w->errline, w->why, w->whylen, "%s "
		    "StatementBegin inside another (opened on line %u)", tool,
		    w->block);
	if (what == 3 && w->block == 0)
		return fail_at(line, w->errline, w->why, w->whylen, "%s "
		    "StatementEnd without a StatementBegin", tool);
	w->block = what == 2 ? line : 0;
	return 0;
}

/* One marker of the file's own tool: opens a section, or is checked. */
static int
own_marker(struct walk *w, size_t off, const char *body, enum pgb_mark k,
    unsigned line)
{
	struct pgb_section	*sec = NULL;
	int			 rc;

	if (w->sx->layout == PGB_LAYOUT_DBMATE)
		rc = dbmate_marker(w, body, k, &sec, line);
	else if (w->sx->layout == PGB_LAYOUT_GOOSE)
		rc = goose_marker(w, off, body, k, &sec, line);
	else
		rc = sql_migrate_marker(w, off, body, k, &sec, line);
	if (rc == -1)
		return -1;
	if (rc > 1)
		return block_marker(w, rc, line);
	if (sec == NULL)
		return 0;
	if (w->block != 0)
		return fail_at(line, w->errline, w->why, w->whylen, "'%s' "
		    "inside a StatementBegin block (opened on line %u)",
		    sec == w->up ? w->sx->up : w->sx->down, w->block);
	if (sec->present)
		return fail_at(line, w->errline, w->why, w->whylen, "second "
		    "'%s' (the first is on line %u)", sec == w->up ?
		    w->sx->up : w->sx->down, sec->line0 + 1);
	if (sec == w->up && w->down->present)
		return fail_at(line, w->errline, w->why, w->whylen, "'%s' "
		    "after '%s'", w->sx->up, w->sx->down);
	sec->present = 1;
	sec->off = off;
	sec->line0 = line - 1;
	w->cur = sec;
	return 0;
}

/* Walk the markers of the file's own tool; fills all but len, nstmts. */
static int
find_markers(struct walk *w, const struct pgb_lex *lx)
{
	enum pgb_layout	 owner;
	enum pgb_mark	 k;
	size_t		 i = 0, off;
	unsigned	 line;

	while ((k = next_marker(w->text, w->len, lx, &i, &owner, &off,
	    &line)) != PGB_MARK_NONE) {
		if (owner == w->sx->layout &&
		    own_marker(w, off, lx->dirs[i - 1].text, k, line) == -1)
			return -1;
	}
	if (w->block != 0)
		return fail_at(w->block, w->errline, w->why, w->whylen, "%s "
		    "StatementBegin without its StatementEnd",
		    pgb_layout_label(w->sx->layout));
	if (!w->up->present)
		return fail_at(1, w->errline, w->why, w->whylen, "no '%s' "
		    "line: a %s migration starts its up part with one",
		    w->sx->up, pgb_layout_label(w->sx->layout));
	return 0;
}

/* Count what starts in each section; anything before the up is refused. */
static int
count(struct walk *w, size_t off, unsigned line, const char *what)
{
	size_t	end = w->down->present ? w->down->off : w->len;

	if (off < w->up->off)
		return fail_at(line, w->errline, w->why, w->whylen, "%s "
		    "before '%s': %s runs only the sections", what, w->sx->up,
		    pgb_layout_label(w->sx->layout));
	if (off < end)
		w->up->nstmts++;
	else
		w->down->nstmts++;
	return 0;
}

int
pgb_sections_find(enum pgb_layout layout, const char *text, size_t len,
    struct pgb_section *up, struct pgb_section *down, unsigned *errline,
    char *why, size_t whylen)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	struct walk	 w;
	size_t		 i;
	int		 rc = -1;

	memset(up, 0, sizeof(*up));
	memset(down, 0, sizeof(*down));
	memset(&w, 0, sizeof(w));
	w.sx = syntax_of(layout);
	w.text = text;
	w.len = len;
	w.up = up;
	w.down = down;
	w.errline = errline;
	w.why = why;
	w.whylen = whylen;
	if (w.sx == NULL)
		return fail_at(1, errline, why, whylen, "the %s layout has no "
		    "sections", pgb_layout_label(layout));
	if (pgb_lex_split(text, len, &lx, errline, &d) == -1) {
		snprintf(why, whylen, "%s", d.msg);
		goto out;
	}
	if (find_markers(&w, &lx) == -1)
		goto out;
	up->len = (down->present ? down->off : len) - up->off;
	if (down->present)
		down->len = len - down->off;
	for (i = 0; i < lx.nstmts; i++)
		if (count(&w, lx.stmts[i].off, lx.stmts[i].line,
		    "statement") == -1)
			goto out;
	for (i = 0; i < lx.nmetas; i++)
		if (count(&w, lx.metas[i].off, lx.metas[i].line,
		    "psql meta-command") == -1)
			goto out;
	rc = 0;
out:
	pgb_lex_release(&lx);
	return rc;
}
