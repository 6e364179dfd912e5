/*
 * targets.c - the databases of a fleet: read the target list (a file,
 * stdin, or the rows of a query on a control database), name each
 * target, and keep one shard of it.
 *
 * Trusts: nothing in the list.  It is read under PGB_TARGETS_FILE_MAX,
 * each line under PGB_TARGET_LINE_MAX, at most PGB_TARGETS_MAX targets.
 * Rejects: a line that is neither "NAME CONNINFO" nor a conninfo libpq
 * parses, a name that is not printable ASCII, a name listed twice.  A
 * conninfo may hold a password: no message quotes it (its line number
 * names it), and libpq's words about one it cannot parse go through
 * conninfo_error() alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bounds.h"
#include "buf.h"
#include "db.h"
#include "fileio.h"
#include "fleet.h"
#include "banned.h"

struct parse {
	struct pgb_targets *ts;
	const char	*src;		/* the list's name */
	int		 rows;		/* from a query: "row N", not ":N" */
	PQconninfoOption *defs;		/* libpq's defaults, read once */
};

/* Overwrite, then free, a string that may hold a password. */
static void
forget(char *s)
{
	if (s == NULL)
		return;
	memset(s, 0, strlen(s));
	free(s);
}

static void
where(const struct parse *p, size_t line, char *buf, size_t n)
{
	if (p->rows)
		snprintf(buf, n, "%s row %zu", p->src, line);
	else
		snprintf(buf, n, "%s:%zu", p->src, line);
}

/*
 * libpq's message about a conninfo it cannot parse may quote a piece of
 * it, a password included: it is not shown.  The line names the
 * conninfo; "psql -d" on it shows what libpq objects to.
 */
static int
conninfo_error(const struct parse *p, size_t line, const char *name,
    struct pgb_diag *d)
{
	char	at[PGB_NAME_MAX + 32];

	where(p, line, at, sizeof(at));
	if (name != NULL)
		pgb_fail(d, PGB_EUSAGE, "%s: the conninfo of target '%s' is "
		    "not one libpq can parse", at, name);
	else
		pgb_fail(d, PGB_EUSAGE, "%s: not a conninfo libpq can parse",
		    at);
	pgb_detail(d, "write NAME CONNINFO, or a key=value conninfo or a "
	    "postgres:// URL; libpq's message is not shown: it may quote a "
	    "password");
	return -1;
}

static const char *
opt_val(const PQconninfoOption *o, const char *key)
{
	for (; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0)
			return o->val != NULL && *o->val != '\0' ? o->val :
			    NULL;
	return NULL;
}

/* The first value that is set: the conninfo's, else libpq's default. */
static const char *
pick(const struct parse *p, const PQconninfoOption *o, const char *key)
{
	const char	*v = opt_val(o, key);

	return v != NULL ? v : opt_val(p->defs, key);
}

/* host/dbname, as libpq would fill them in, escaped for messages. */
static void
default_name(struct parse *p, const PQconninfoOption *o, char *out,
    size_t n)
{
	struct pgb_buf	 b;
	const char	*host, *db;

	if (p->defs == NULL)
		p->defs = PQconndefaults();
	host = opt_val(o, "host");
	if (host == NULL)
		host = opt_val(o, "hostaddr");
	if (host == NULL)
		host = pick(p, o, "host");
	db = pick(p, o, "dbname");
	if (db == NULL)
		db = pick(p, o, "user");
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s/%s", host ? host : "local", db ? db : "?");
	pgb_esc(b.data, out, n);
	pgb_buf_release(&b);
}

/* A name written in the list: printable ASCII, no blank, no '='. */
static int
name_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > PGB_TARGET_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '=')
			return 0;
	return 1;
}

static int
add(struct parse *p, const char *name, size_t namelen, const char *conn,
    size_t connlen, size_t line, struct pgb_diag *d)
{
	struct pgb_targets *ts = p->ts;
	struct pgb_target *t;
	PQconninfoOption *o;
	char		 at[PGB_NAME_MAX + 32], given[PGB_ESC_MAX];
	char		 dflt[PGB_TARGET_NAME_MAX + 1], *c, *err = NULL;

	where(p, line, at, sizeof(at));
	if (ts->n == PGB_TARGETS_MAX)
		return pgb_fail(d, PGB_EUSAGE, "%s: more than %u targets", at,
		    PGB_TARGETS_MAX);
	given[0] = '\0';
	if (name != NULL) {
		c = pgb_xstrndup(name, namelen);
		pgb_esc(c, given, sizeof(given));
		free(c);
		if (!name_ok(name, namelen))
			return pgb_fail(d, PGB_EUSAGE, "%s: target name '%s' "
			    "is not 1 to %u printable ASCII characters without "
			    "a blank or '='", at, given, PGB_TARGET_NAME_MAX);
	}
	if (connlen == 0)
		return pgb_fail(d, PGB_EUSAGE, "%s: target '%s' has no "
		    "conninfo", at, given);
	c = pgb_xstrndup(conn, connlen);
	if ((o = PQconninfoParse(c, &err)) == NULL) {
		PQfreemem(err);
		forget(c);
		return conninfo_error(p, line, name ? given : NULL, d);
	}
	if (name == NULL)
		default_name(p, o, dflt, sizeof(dflt));
	PQconninfoFree(o);
	if (ts->n % 64 == 0)
		ts->v = pgb_xreallocarray(ts->v, ts->n + 64, sizeof(*ts->v));
	t = &ts->v[ts->n];
	t->name = name ? pgb_xstrndup(name, namelen) : pgb_xstrdup(dflt);
	t->conninfo = c;
	t->index = ts->n;
	t->line = line;
	ts->n++;
	return 0;
}

static int
is_conninfo(const char *s, size_t n)
{
	return memchr(s, '=', n) != NULL ||
	    (n >= 11 && memcmp(s, "postgres://", 11) == 0) ||
	    (n >= 13 && memcmp(s, "postgresql://", 13) == 0);
}

/* One line without its newline: blank, comment, or a target. */
static int
parse_line(struct parse *p, const char *s, size_t n, size_t line,
    struct pgb_diag *d)
{
	size_t	tok, rest;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	if (n == 0 || *s == '#')
		return 0;
	for (tok = 0; tok < n && s[tok] != ' ' && s[tok] != '\t'; tok++)
		;
	if (is_conninfo(s, tok))
		return add(p, NULL, 0, s, n, line, d);
	for (rest = tok; rest < n && (s[rest] == ' ' || s[rest] == '\t');
	    rest++)
		;
	return add(p, s, tok, s + rest, n - rest, line, d);
}

static int
cmp_name(const void *a, const void *b)
{
	const struct pgb_target *const *x = a, *const *y = b;
	int	c = strcmp((*x)->name, (*y)->name);

	if (c != 0)
		return c;
	return (*x)->index < (*y)->index ? -1 : 1;
}

/* Every name once: two lines with one name would share its output. */
static int
check_unique(const struct parse *p, struct pgb_diag *d)
{
	const struct pgb_targets *ts = p->ts;
	struct pgb_target **s;
	char		 at[PGB_NAME_MAX + 32], name[PGB_ESC_MAX];
	size_t		 i;
	int		 rc = 0;

	if (ts->n < 2)
		return 0;
	s = pgb_xcalloc(ts->n, sizeof(*s));
	for (i = 0; i < ts->n; i++)
		s[i] = &ts->v[i];
	qsort(s, ts->n, sizeof(*s), cmp_name);
	for (i = 1; i < ts->n && rc == 0; i++) {
		if (strcmp(s[i]->name, s[i - 1]->name) != 0)
			continue;
		where(p, s[i]->line, at, sizeof(at));
		pgb_esc(s[i]->name, name, sizeof(name));
		rc = pgb_fail(d, PGB_EUSAGE, "%s: target '%s' is listed "
		    "twice (%s %zu too): name one of them", at, name,
		    p->rows ? "row" : "line", s[i - 1]->line);
	}
	free(s);
	return rc;
}

static int
finish(struct parse *p, int rc, struct pgb_diag *d)
{
	if (rc == 0)
		rc = check_unique(p, d);
	if (p->defs != NULL)
		PQconninfoFree(p->defs);
	return rc;
}

int
pgb_targets_parse(const char *text, size_t len, const char *src,
    struct pgb_targets *ts, struct pgb_diag *d)
{
	struct parse	 p;
	const char	*s = text, *nl;
	char		 at[PGB_NAME_MAX + 32];
	size_t		 n, line = 0;
	int		 rc = 0;

	memset(&p, 0, sizeof(p));
	p.ts = ts;
	p.src = src;
	while (rc == 0 && s < text + len) {
		line++;
		nl = memchr(s, '\n', (size_t)(text + len - s));
		n = nl ? (size_t)(nl - s) : (size_t)(text + len - s);
		where(&p, line, at, sizeof(at));
		if (n > PGB_TARGET_LINE_MAX)
			rc = pgb_fail(d, PGB_EUSAGE, "%s: line longer than %u "
			    "bytes", at, PGB_TARGET_LINE_MAX);
		else if (memchr(s, '\0', n) != NULL)
			rc = pgb_fail(d, PGB_EUSAGE, "%s: a NUL byte", at);
		else
			rc = parse_line(&p, s, n, line, d);
		s += n + (nl != NULL);
	}
	return finish(&p, rc, d);
}

static int
load_list(const char *path, struct pgb_targets *ts, struct pgb_diag *d)
{
	char	*text;
	size_t	 len;
	int	 rc;

	if (strcmp(path, "-") == 0)
		rc = pgb_file_read_stdin("the target list",
		    PGB_TARGETS_FILE_MAX, PGB_EUSAGE, &text, &len, d);
	else
		rc = pgb_file_read("target list", path,
		    PGB_TARGETS_FILE_MAX, 0, PGB_EUSAGE, &text, &len, d);
	if (rc == -1)
		return -1;
	rc = pgb_targets_parse(text, len, strcmp(path, "-") == 0 ? "stdin" :
	    path, ts, d);
	/* The list holds conninfos, maybe passwords. */
	memset(text, 0, len);
	free(text);
	return rc;
}

/* Columns name (optional) and conninfo of a query's rows. */
static int
take_rows(PGresult *res, struct pgb_targets *ts, struct pgb_diag *d)
{
	struct parse	 p;
	const char	*name;
	int		 cn, cc, i, rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgb_fail(d, PGB_EUSAGE, "--targets-query returned no "
		    "rows: give a query (SELECT name, conninfo FROM ...)");
	cn = PQfnumber(res, "name");
	if ((cc = PQfnumber(res, "conninfo")) < 0)
		return pgb_fail(d, PGB_EUSAGE, "--targets-query returned no "
		    "column 'conninfo' (and may return 'name')");
	if (PQntuples(res) > (int)PGB_TARGETS_MAX)
		return pgb_fail(d, PGB_EUSAGE, "--targets-query returned more "
		    "than %u rows", PGB_TARGETS_MAX);
	memset(&p, 0, sizeof(p));
	p.ts = ts;
	p.src = "--targets-query";
	p.rows = 1;
	for (i = 0; i < PQntuples(res) && rc == 0; i++) {
		name = cn < 0 || PQgetisnull(res, i, cn) ? "" :
		    PQgetvalue(res, i, cn);
		if (PQgetlength(res, i, cc) > (int)PGB_TARGET_LINE_MAX)
			rc = pgb_fail(d, PGB_EUSAGE, "--targets-query row %d: "
			    "conninfo longer than %u bytes", i + 1,
			    PGB_TARGET_LINE_MAX);
		else
			rc = add(&p, *name ? name : NULL, strlen(name),
			    PQgetvalue(res, i, cc), PQgetisnull(res, i, cc) ?
			    0 : strlen(PQgetvalue(res, i, cc)), (size_t)i + 1,
			    d);
	}
	return finish(&p, rc, d);
}

/* The query runs read-only: it reads a registry, it changes nothing. */
static int
load_query(const char *sql, const char *control, int wait,
    const char *history, struct pgb_targets *ts, struct pgb_diag *d)
{
	struct pgb_db	 db;
	PGresult	*res = NULL;
	char		 msg[sizeof(d->msg)];
	int		 rc = -1;

	memset(&db, 0, sizeof(db));
	if (control == NULL)
		return pgb_fail(d, PGB_EUSAGE, "--targets-query needs the "
		    "control database: --db CONTROL or DATABASE_URL");
	if (pgb_db_connect(&db, control, wait, history, d) == -1)
		goto out;
	if (pgb_db_exec(&db, "BEGIN READ ONLY", 0, NULL, NULL, d) == -1)
		goto out;
	if (pgb_db_exec(&db, sql, 0, NULL, &res, d) == -1) {
		snprintf(msg, sizeof(msg), "%s", d->msg);
		snprintf(d->msg, sizeof(d->msg), "--targets-query failed: "
		    "%.200s", msg);
		if (d->code == PGB_ESQL)
			d->code = PGB_EUSAGE;
		goto out;
	}
	rc = take_rows(res, ts, d);
out:
	PQclear(res);
	pgb_db_close(&db);
	return rc;
}

int
pgb_targets_load(const struct pgb_fleet_opts *o, const char *control,
    int wait, const char *history, struct pgb_targets *ts,
    struct pgb_diag *d)
{
	int	rc;

	memset(ts, 0, sizeof(*ts));
	if (o->list != NULL)
		rc = load_list(o->list, ts, d);
	else
		rc = load_query(o->query, control, wait, history, ts, d);
	if (rc == 0 && ts->n == 0)
		rc = pgb_fail(d, PGB_EUSAGE, "%s: no targets", o->list ?
		    strcmp(o->list, "-") == 0 ? "stdin" : o->list :
		    "--targets-query");
	if (rc == -1) {
		pgb_targets_release(ts);
		return -1;
	}
	ts->total = ts->n;
	if (o->shard_n > 0)
		pgb_targets_shard(ts, (size_t)o->shard_i, (size_t)o->shard_n);
	return 0;
}

void
pgb_targets_shard(struct pgb_targets *ts, size_t i, size_t n)
{
	size_t	k, keep = 0;

	for (k = 0; k < ts->n; k++) {
		if (ts->v[k].index % n == i) {
			ts->v[keep++] = ts->v[k];
			continue;
		}
		free(ts->v[k].name);
		forget(ts->v[k].conninfo);
	}
	ts->n = keep;
}

void
pgb_targets_release(struct pgb_targets *ts)
{
	size_t	i;

	for (i = 0; i < ts->n; i++) {
		free(ts->v[i].name);
		forget(ts->v[i].conninfo);
	}
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}
