/*
 * layout.c - read the file names of other migration tools (layout.h) and
 * give every file an integer version that sorts as that tool sorts.
 *
 * Trusts: nothing; names are parsed strictly and versions are bounded to
 * 18 decimal digits so that they fit a long long.  Rejects: names that do
 * not parse under the layout, Flyway versions that do not fit the
 * integer scheme, Flyway repeatable migrations (applied once, in order,
 * pgbundle has nothing to re-run them with), and dbmate files whose
 * sections are missing, repeated or out of order.
 */
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "layout.h"
#include "lex.h"
#include "version.h"
#include "banned.h"

/* Room for the widest version we accept: 18 digits fit a long long. */
#define VERSION_DIGITS_MAX	18

/* Longest Flyway version: three parts below 10^6 and two separators. */
#define FLYWAY_VERSION_MAX	24

static const char *const labels[] = {
	"auto", "pgbundle", "golang-migrate", "diesel", "flyway", "dbmate"
};

static const char why_pgbundle[] = "expected NNN_name.sql or a down "
    "script NNN_name.down.sql, rollback_NNN_name.sql or "
    "NNN_name_ROLLBACK.sql (name: letters, digits, '_' and '-')";
static const char why_golang[] = "expected NNN_name.up.sql or "
    "NNN_name.down.sql (golang-migrate layout; name: letters, digits, '_' "
    "and '-')";
static const char why_dbmate[] = "expected VERSION_name.sql holding "
    "'-- migrate:up' and '-- migrate:down' sections (dbmate layout; name: "
    "letters, digits, '_' and '-')";
static const char why_dbmate_down[] = "a dbmate migration keeps its down "
    "part in the '-- migrate:down' section of its own file";
static const char why_diesel_file[] = "expected a folder VERSION_name/ "
    "holding up.sql and down.sql (diesel layout)";
static const char why_diesel_dir[] = "expected a folder VERSION_name/, "
    "VERSION being digits and '-' like 2023-07-05-000058 (diesel layout; "
    "name: letters, digits, '_' and '-')";
static const char why_flyway[] = "expected V<version>__name.sql or "
    "U<version>__name.sql, the version being numbers separated by '.' or "
    "'_' (flyway layout; name: letters, digits, '_' and '-')";
static const char why_flyway_version[] = "a Flyway version has at most "
    "3 parts (MAJOR.MINOR.PATCH, '.' or '_' between them), each below "
    "1000000, in pgbundle";
static const char why_flyway_repeatable[] = "Flyway repeatable migrations "
    "(R__) are not supported: pgbundle applies each migration once, in "
    "version order; give it a version (V<version>__name.sql)";

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	k = strlen(suffix);

	return n >= k && strncmp(s + n - k, suffix, k) == 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c) || c == '_' || c == '-';
}

/* 1 if every byte of s[0..n) may be in a name, and there is one. */
static int
name_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return 0;
	return 1;
}

/* Files no layout looks at: dotfiles, Markdown, READMEs, non-SQL. */
static int
ignored_file(const char *base, size_t n)
{
	return base[0] == '.' || ends_with(base, n, ".md") ||
	    ends_with(base, n, ".markdown") || strncmp(base, "README", 6) == 0 ||
	    !ends_with(base, n, ".sql");
}

/*
 * "NNN_name" in base[off..end): fills version and name.  0, or -1 when
 * it does not parse.
 */
static int
numbered(const char *base, size_t off, size_t end, struct pgb_layout_name *o)
{
	size_t		i;
	long long	v = 0;

	for (i = off; i < end && is_digit(base[i]); i++) {
		if (i - off == VERSION_DIGITS_MAX)
			return -1;
		v = v * 10 + (base[i] - '0');
	}
	if (i == off || i >= end || base[i] != '_' ||
	    !name_ok(base + i + 1, end - i - 1))
		return -1;
	o->version = v;
	o->nameoff = i + 1;
	o->namelen = end - i - 1;
	o->stemoff = off;
	o->stemlen = end - off;
	return 0;
}

static void
set_bad(struct pgb_layout_name *o, const char *why)
{
	o->role = PGB_ROLE_BAD;
	o->why = why;
}

/* Up or down, the stem being base[off..end); 'why' when it does not parse. */
static void
numbered_role(const char *base, size_t off, size_t end, enum pgb_role role,
    const char *why, struct pgb_layout_name *o)
{
	if (numbered(base, off, end, o) == -1)
		set_bad(o, why);
	else
		o->role = role;
}

static void
parse_pgbundle(const char *base, size_t n, struct pgb_layout_name *o)
{
	struct pgb_layout_name	tmp;

	if (ends_with(base, n, ".down.sql"))
		numbered_role(base, 0, n - 9, PGB_ROLE_DOWN, why_pgbundle, o);
	else if (strncmp(base, "rollback_", 9) == 0)
		numbered_role(base, 9, n - 4, PGB_ROLE_DOWN, why_pgbundle, o);
	else if (ends_with(base, n, "_ROLLBACK.sql") &&
	    numbered(base, 0, n - 13, &tmp) == 0) {
		*o = tmp;
		o->role = PGB_ROLE_DOWN;
	} else
		numbered_role(base, 0, n - 4, PGB_ROLE_UP, why_pgbundle, o);
}

static void
parse_golang(const char *base, size_t n, struct pgb_layout_name *o)
{
	if (ends_with(base, n, ".up.sql"))
		numbered_role(base, 0, n - 7, PGB_ROLE_UP, why_golang, o);
	else if (ends_with(base, n, ".down.sql"))
		numbered_role(base, 0, n - 9, PGB_ROLE_DOWN, why_golang, o);
	else
		set_bad(o, why_golang);
}

static void
parse_dbmate(const char *base, size_t n, struct pgb_layout_name *o)
{
	if (ends_with(base, n, ".down.sql") || ends_with(base, n, ".up.sql"))
		set_bad(o, why_dbmate_down);
	else
		numbered_role(base, 0, n - 4, PGB_ROLE_UP, why_dbmate, o);
}

/* A folder "2023-07-05-000058_name": the version is its digits. */
static void
parse_diesel_dir(const char *base, struct pgb_layout_name *o)
{
	size_t		i, n = strlen(base), digits = 0;
	long long	v = 0;

	if (!is_digit(base[0])) {
		o->role = PGB_ROLE_IGNORE;
		return;
	}
	for (i = 0; i < n && (is_digit(base[i]) || base[i] == '-'); i++) {
		if (base[i] == '-')
			continue;
		if (++digits > VERSION_DIGITS_MAX) {
			set_bad(o, why_diesel_dir);
			return;
		}
		v = v * 10 + (base[i] - '0');
	}
	if (i >= n || base[i] != '_' || base[i - 1] == '-' ||
	    !name_ok(base + i + 1, n - i - 1)) {
		set_bad(o, why_diesel_dir);
		return;
	}
	o->role = PGB_ROLE_UP;
	o->version = v;
	o->nameoff = i + 1;
	o->namelen = n - i - 1;
	o->stemoff = 0;
	o->stemlen = n;
}

/*
 * "V1.2__name.sql" (up), "U1.2__name.sql" (undo).  The version maps as
 * runtime/version.c says, so that pgapply adopt reads Flyway's history
 * table to the same integers.
 */
static void
parse_flyway(const char *base, size_t n, struct pgb_layout_name *o)
{
	const char	*sep;
	char		 ver[FLYWAY_VERSION_MAX + 1];
	size_t		 vlen;

	if (strncmp(base, "R__", 3) == 0) {
		set_bad(o, why_flyway_repeatable);
		return;
	}
	if ((base[0] != 'V' && base[0] != 'U') || !is_digit(base[1]) ||
	    (sep = strstr(base + 1, "__")) == NULL ||
	    (size_t)(sep - base) + 2 > n - 4 ||
	    !name_ok(sep + 2, n - 4 - (size_t)(sep + 2 - base))) {
		set_bad(o, why_flyway);
		return;
	}
	vlen = (size_t)(sep - base) - 1;
	if (vlen > FLYWAY_VERSION_MAX) {
		set_bad(o, why_flyway_version);
		return;
	}
	memcpy(ver, base + 1, vlen);
	ver[vlen] = '\0';
	if (pgb_version_flyway(ver, &o->version) == -1) {
		set_bad(o, why_flyway_version);
		return;
	}
	o->role = base[0] == 'V' ? PGB_ROLE_UP : PGB_ROLE_DOWN;
	o->nameoff = (size_t)(sep + 2 - base);
	o->namelen = n - 4 - o->nameoff;
	o->stemoff = 1;
	o->stemlen = vlen;
}

void
pgb_layout_parse(enum pgb_layout layout, const char *base, int is_dir,
    struct pgb_layout_name *o)
{
	size_t	n = strlen(base);

	memset(o, 0, sizeof(*o));
	o->role = PGB_ROLE_IGNORE;
	if (n == 0 || base[0] == '.')
		return;
	if (layout == PGB_LAYOUT_DIESEL) {
		if (is_dir)
			parse_diesel_dir(base, o);
		else if (!ignored_file(base, n))
			set_bad(o, why_diesel_file);
		return;
	}
	if (is_dir || ignored_file(base, n))
		return;
	switch (layout) {
	case PGB_LAYOUT_GOLANG:
		parse_golang(base, n, o);
		break;
	case PGB_LAYOUT_FLYWAY:
		parse_flyway(base, n, o);
		break;
	case PGB_LAYOUT_DBMATE:
		parse_dbmate(base, n, o);
		break;
	default:
		parse_pgbundle(base, n, o);
		break;
	}
}

const char *
pgb_layout_label(enum pgb_layout l)
{
	if ((unsigned)l >= sizeof(labels) / sizeof(labels[0]))
		return NULL;
	return labels[l];
}

int
pgb_layout_lookup(const char *name, enum pgb_layout *out)
{
	size_t	i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		if (strcmp(labels[i], name) == 0) {
			*out = (enum pgb_layout)i;
			return 0;
		}
	}
	return -1;
}

/* Offset of the first byte of 1-based line 'line' (or 'len'). */
static size_t
line_start(const char *text, size_t len, unsigned line)
{
	size_t		i;
	unsigned	l = 1;

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
 * The options after "migrate:up" or "migrate:down" ('opts'): only
 * "transaction:false" and "transaction:true" exist.  0, or -1 with 'why'.
 */
static int
section_options(const char *opts, struct pgb_section *sec, char *why,
    size_t whylen)
{
	const char	*p = opts;
	size_t		 k;

	for (;;) {
		p += strspn(p, " \t");
		if ((k = strcspn(p, " \t")) == 0)
			return 0;
		if (k == 17 && strncmp(p, "transaction:false", 17) == 0)
			sec->notx = 1;
		else if (!(k == 16 && strncmp(p, "transaction:true", 16) == 0)) {
			snprintf(why, whylen, "unknown dbmate option '%.*s' "
			    "(known: transaction:false)", (int)(k > 60 ? 60 : k),
			    p);
			return -1;
		}
		p += k;
	}
}

static int
sections_fail(unsigned line, unsigned *errline, char *why, size_t whylen,
    const char *msg)
{
	*errline = line;
	snprintf(why, whylen, "%s", msg);
	return -1;
}

/* Find the markers; fills up/down except 'len' and 'nstmts'. */
static int
find_markers(const char *text, size_t len, const struct pgb_lex *lx,
    struct pgb_section *up, struct pgb_section *down, unsigned *errline,
    char *why, size_t whylen)
{
	struct pgb_section	*sec;
	const char		*t;
	size_t			 i, off;
	char			 msg[128];

	for (i = 0; i < lx->ndirs; i++) {
		t = lx->dirs[i].text;
		if (strncmp(t, "migrate:", 8) != 0)
			continue;
		off = line_start(text, len, lx->dirs[i].line);
		if (!comment_line(text, len, off))
			continue;	/* after SQL on its line: a comment */
		t += 8;
		if (strncmp(t, "up", 2) == 0 && (t[2] == '\0' || t[2] == ' ' ||
		    t[2] == '\t')) {
			sec = up;
			t += 2;
		} else if (strncmp(t, "down", 4) == 0 && (t[4] == '\0' ||
		    t[4] == ' ' || t[4] == '\t')) {
			sec = down;
			t += 4;
		} else
			return sections_fail(lx->dirs[i].line, errline, why,
			    whylen, "unknown dbmate marker: expected "
			    "'-- migrate:up' or '-- migrate:down'");
		if (sec->present) {
			snprintf(msg, sizeof(msg), "second '-- migrate:%s' "
			    "(the first is on line %u)", sec == up ? "up" :
			    "down", sec->line0 + 1);
			return sections_fail(lx->dirs[i].line, errline, why,
			    whylen, msg);
		}
		if (sec == up && down->present)
			return sections_fail(lx->dirs[i].line, errline, why,
			    whylen, "'-- migrate:up' after '-- migrate:down'");
		sec->present = 1;
		sec->off = off;
		sec->line0 = lx->dirs[i].line - 1;
		if (section_options(t, sec, why, whylen) == -1) {
			*errline = lx->dirs[i].line;
			return -1;
		}
	}
	if (!up->present)
		return sections_fail(1, errline, why, whylen, "no '-- migrate:up' "
		    "line: a dbmate migration starts its up part with one");
	return 0;
}

int
pgb_layout_sections(const char *text, size_t len, struct pgb_section *up,
    struct pgb_section *down, unsigned *errline, char *why, size_t whylen)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	size_t		 i, end;
	int		 rc = -1;

	memset(up, 0, sizeof(*up));
	memset(down, 0, sizeof(*down));
	if (pgb_lex_split(text, len, &lx, errline, &d) == -1) {
		snprintf(why, whylen, "%s", d.msg);
		goto out;
	}
	if (find_markers(text, len, &lx, up, down, errline, why, whylen) == -1)
		goto out;
	end = down->present ? down->off : len;
	up->len = end - up->off;
	if (down->present)
		down->len = len - down->off;
	for (i = 0; i < lx.nstmts; i++) {
		if (lx.stmts[i].off < up->off) {
			sections_fail(lx.stmts[i].line, errline, why, whylen,
			    "statement before '-- migrate:up': dbmate runs only "
			    "the sections");
			goto out;
		}
		if (lx.stmts[i].off < end)
			up->nstmts++;
		else
			down->nstmts++;
	}
	for (i = 0; i < lx.nmetas; i++) {
		if (lx.metas[i].off < up->off) {
			sections_fail(lx.metas[i].line, errline, why, whylen,
			    "psql meta-command before '-- migrate:up': dbmate "
			    "runs only the sections");
			goto out;
		}
		if (lx.metas[i].off < end)
			up->nstmts++;
		else
			down->nstmts++;
	}
	rc = 0;
out:
	pgb_lex_release(&lx);
	return rc;
}

/* The text after blanks, "--" and blanks on the line at 'off', or NULL. */
static const char *
comment_body(const char *text, size_t len, size_t off, size_t *n)
{
	const char	*nl;
	size_t		 end;

	nl = memchr(text + off, '\n', len - off);
	end = nl != NULL ? (size_t)(nl - text) : len;
	while (off < end && (text[off] == ' ' || text[off] == '\t'))
		off++;
	if (end - off < 2 || text[off] != '-' || text[off + 1] != '-')
		return NULL;
	off += 2;
	while (off < end && (text[off] == ' ' || text[off] == '\t'))
		off++;
	*n = end - off;
	return text + off;
}

int
pgb_layout_has_dbmate_marker(const char *text, size_t len)
{
	const char	*p, *nl;
	size_t		 off = 0, n;

	while (off < len) {
		p = comment_body(text, len, off, &n);
		if (p != NULL && n >= 10 && strncmp(p, "migrate:up", 10) == 0 &&
		    (n == 10 || p[10] == ' ' || p[10] == '\t' || p[10] == '\r'))
			return 1;
		nl = memchr(text + off, '\n', len - off);
		if (nl == NULL)
			break;
		off = (size_t)(nl - text) + 1;
	}
	return 0;
}

int
pgb_layout_diesel_notx(const char *text, size_t len)
{
	static const char key[] = "run_in_transaction";
	const char	*nl;
	size_t		 off = 0, end, k = sizeof(key) - 1;

	while (off < len) {
		nl = memchr(text + off, '\n', len - off);
		end = nl != NULL ? (size_t)(nl - text) : len;
		while (off < end && (text[off] == ' ' || text[off] == '\t'))
			off++;
		if (end - off > k && strncmp(text + off, key, k) == 0) {
			off += k;
			off += strspn(text + off, " \t");
			if (off < end && text[off] == '=') {
				off++;
				off += strspn(text + off, " \t");
				if (end - off >= 5 &&
				    strncmp(text + off, "false", 5) == 0 &&
				    (end - off == 5 || strchr(" \t\r#",
				    text[off + 5]) != NULL))
					return 1;
			}
		}
		if (nl == NULL)
			break;
		off = end + 1;
	}
	return 0;
}
