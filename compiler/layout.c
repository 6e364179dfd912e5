/*
 * layout.c - read the file names of other migration tools (layout.h) and
 * give every file an integer version that sorts as that tool sorts.
 *
 * Trusts: nothing; names are parsed strictly and versions are bounded to
 * 18 decimal digits so that they fit a long long.  Rejects: names that do
 * not parse under the layout, Flyway versions that do not fit the
 * integer scheme, Flyway repeatable migrations (applied once, in order,
 * pgbundle has nothing to re-run them with), goose's Go migrations, and
 * separate up or down files in a layout that keeps both in one file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "layout.h"
#include "version.h"
#include "banned.h"

/*
 * Room for a Flyway version, three parts below 10^6 and two separators:
 * private to parse_flyway()'s buffer, since version.c decides what a
 * Flyway version may be.
 */
#define FLYWAY_VERSION_MAX	24

static const char *const labels[PGB_LAYOUT_COUNT] = {
	"auto", "pgbundle", "golang-migrate", "diesel", "flyway", "dbmate",
	"goose", "sql-migrate", "prisma", "atlas", "sqitch", "liquibase"
};

/* What --layout may name: all but AUTO's neighbours past the last. */
#define LAYOUT_LAST_READ	PGB_LAYOUT_LIQUIBASE

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
static const char why_goose[] = "expected VERSION_name.sql holding "
    "'-- +goose Up' and '-- +goose Down' sections (goose layout; name: "
    "letters, digits, '_' and '-')";
static const char why_goose_down[] = "a goose migration keeps its down "
    "part in the '-- +goose Down' section of its own file";
static const char why_goose_go[] = "goose Go migrations cannot go in a "
    "bundle: pgbundle ships SQL; rewrite it as VERSION_name.sql";
static const char why_sql_migrate[] = "expected VERSION_name.sql holding "
    "'-- +migrate Up' and '-- +migrate Down' sections (sql-migrate "
    "layout; pgbundle needs the number sql-migrate sorts by; name: "
    "letters, digits, '_' and '-')";
static const char why_prisma_file[] = "expected a folder VERSION_name/ "
    "holding migration.sql (prisma layout)";
static const char why_prisma_dir[] = "expected a folder VERSION_name/ "
    "holding migration.sql (prisma layout; name: letters, digits, '_' and "
    "'-')";
static const char why_atlas[] = "expected VERSION_name.sql or VERSION.sql "
    "(atlas layout; name: letters, digits, '_' and '-')";
static const char why_atlas_down[] = "Atlas has no down files: it plans "
    "a rollback itself, which a bundle cannot carry";
static const char why_sql_migrate_down[] = "a sql-migrate migration keeps "
    "its down part in the '-- +migrate Down' section of its own file";
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
		if (i - off == PGB_VERSION_DIGITS_MAX)
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

/* dbmate, goose, sql-migrate: VERSION_name.sql holds both sections. */
static void
parse_sections(const char *base, size_t n, const char *why,
    const char *why_down, struct pgb_layout_name *o)
{
	if (ends_with(base, n, ".down.sql") || ends_with(base, n, ".up.sql"))
		set_bad(o, why_down);
	else
		numbered_role(base, 0, n - 4, PGB_ROLE_UP, why, o);
}

/* Atlas: "20230705123456_name.sql", or the version alone. */
static void
parse_atlas(const char *base, size_t n, struct pgb_layout_name *o)
{
	size_t	k = strspn(base, "0123456789");

	if (ends_with(base, n, ".down.sql") || ends_with(base, n, ".up.sql"))
		set_bad(o, why_atlas_down);
	else if (k > 0 && k == n - 4 && k <= PGB_VERSION_DIGITS_MAX) {
		/* No description: the version names it. */
		o->role = PGB_ROLE_UP;
		for (o->version = 0; k > 0; k--, base++)
			o->version = o->version * 10 + (*base - '0');
		o->namelen = o->stemlen = n - 4;
	} else
		numbered_role(base, 0, n - 4, PGB_ROLE_UP, why_atlas, o);
}

/* goose: "00002_backfill.go" is a migration pgbundle cannot carry. */
static int
goose_go(const char *base, size_t n, struct pgb_layout_name *o)
{
	struct pgb_layout_name	tmp;

	if (!ends_with(base, n, ".go") || ends_with(base, n, "_test.go") ||
	    numbered(base, 0, n - 3, &tmp) == -1)
		return 0;
	set_bad(o, why_goose_go);
	return 1;
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
		if (++digits > PGB_VERSION_DIGITS_MAX) {
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
	if (layout == PGB_LAYOUT_PRISMA) {
		if (is_dir && is_digit(base[0]))
			numbered_role(base, 0, n, PGB_ROLE_UP, why_prisma_dir, o);
		else if (!is_dir && !ignored_file(base, n))
			set_bad(o, why_prisma_file);
		return;
	}
	if (layout == PGB_LAYOUT_SQITCH || layout == PGB_LAYOUT_LIQUIBASE)
		return;		/* the plan, the changesets name them (scan.c) */
	if (!is_dir && layout == PGB_LAYOUT_GOOSE && goose_go(base, n, o))
		return;
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
		parse_sections(base, n, why_dbmate, why_dbmate_down, o);
		break;
	case PGB_LAYOUT_GOOSE:
		parse_sections(base, n, why_goose, why_goose_down, o);
		break;
	case PGB_LAYOUT_SQL_MIGRATE:
		parse_sections(base, n, why_sql_migrate, why_sql_migrate_down,
		    o);
		break;
	case PGB_LAYOUT_ATLAS:
		parse_atlas(base, n, o);
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

	for (i = 0; i <= LAYOUT_LAST_READ; i++) {
		if (strcmp(labels[i], name) == 0) {
			*out = (enum pgb_layout)i;
			return 0;
		}
	}
	return -1;
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

/* The line at 'off' without its blanks at both ends: [*b, *e). */
static size_t
line_bounds(const char *text, size_t len, size_t off, size_t *b, size_t *e)
{
	const char	*nl = memchr(text + off, '\n', len - off);
	size_t		 end = nl != NULL ? (size_t)(nl - text) : len;

	*b = off;
	*e = end;
	while (*b < *e && (text[*b] == ' ' || text[*b] == '\t'))
		(*b)++;
	while (*e > *b && (text[*e - 1] == ' ' || text[*e - 1] == '\t' ||
	    text[*e - 1] == '\r'))
		(*e)--;
	return nl != NULL ? end + 1 : len;
}

int
pgb_layout_atlas_header(const char *text, size_t len, int *notx,
    unsigned *line, char *why, size_t whylen)
{
	size_t		 off = 0, b, e, k;
	unsigned	 l = 0;
	const char	*p;

	*notx = 0;
	while (off < len) {
		l++;
		off = line_bounds(text, len, off, &b, &e);
		if (b == e)
			continue;
		if (e - b < 2 || text[b] != '-' || text[b + 1] != '-')
			break;		/* the first statement ends the header */
		for (b += 2; b < e && (text[b] == ' ' || text[b] == '\t'); b++)
			;
		if (e - b < 6 || strncmp(text + b, "atlas:", 6) != 0)
			continue;
		p = text + b + 6;
		k = e - b - 6;
		if (k > 7 && strncmp(p, "txmode", 6) == 0 &&
		    (p[6] == ' ' || p[6] == '\t')) {
			p += 7;
			k -= 7;
			while (k > 0 && (*p == ' ' || *p == '\t'))
				p++, k--;
			if (k == 4 && strncmp(p, "none", 4) == 0)
				*notx = 1;
			else if (!((k == 4 && strncmp(p, "file", 4) == 0) ||
			    (k == 3 && strncmp(p, "all", 3) == 0)))
				goto bad;
		} else if (!(k >= 6 && strncmp(p, "nolint", 6) == 0) &&
		    !(k >= 3 && strncmp(p, "sum", 3) == 0))
			goto bad;
	}
	return 0;
bad:
	*line = l;
	snprintf(why, whylen, "Atlas directive '%.*s' is not supported "
	    "(known: atlas:txmode none|file|all, atlas:nolint, atlas:sum): "
	    "pgbundle splits statements as psql does", (int)(e - b > 60 ? 60 :
	    e - b), text + b);
	return -1;
}

static int
sqitch_fail(struct pgb_sqitch_change *c, unsigned line, char *why,
    size_t whylen, const char *msg, const char *name, size_t n)
{
	c->line = line;
	snprintf(why, whylen, msg, (int)(n > 60 ? 60 : n), name);
	return -1;
}

int
pgb_layout_sqitch_next(const char *text, size_t len,
    struct pgb_sqitch_plan *seen, struct pgb_sqitch_change *c, char *why,
    size_t whylen)
{
	size_t	b, e, n, i;

	while (seen->off < len) {
		c->line = ++seen->line;
		seen->off = line_bounds(text, len, seen->off, &b, &e);
		if (b == e || text[b] == '%' || text[b] == '@' ||
		    text[b] == '#')
			continue;	/* pragma, tag, note, blank */
		if (text[b] == '-')
			return sqitch_fail(c, c->line, why, whylen, "a revert "
			    "entry '%.*s' in the plan: pgbundle reads a plan "
			    "of changes to deploy", text + b, e - b);
		if (text[b] == '+')
			b++;
		n = strcspn(text + b, " \t\r\n");
		if (b + n > e)
			n = e - b;
		if (!name_ok(text + b, n) || n > PGB_SQITCH_NAME_MAX)
			return sqitch_fail(c, c->line, why, whylen, "change "
			    "'%.*s' cannot be a migration name (letters, "
			    "digits, '_' and '-', at most 100)", text + b, n);
		for (i = 0; i < seen->n; i++)
			if (strlen(seen->v[i]) == n &&
			    strncmp(seen->v[i], text + b, n) == 0)
				return sqitch_fail(c, c->line, why, whylen,
				    "change '%.*s' is planned twice (reworked): "
				    "pgbundle cannot carry both versions of it",
				    text + b, n);
		seen->v = pgb_xreallocarray(seen->v, seen->n + 1,
		    sizeof(*seen->v));
		seen->v[seen->n++] = pgb_xstrndup(text + b, n);
		memcpy(c->name, text + b, n);
		c->name[n] = '\0';
		return 1;
	}
	return 0;
}

void
pgb_layout_sqitch_release(struct pgb_sqitch_plan *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
