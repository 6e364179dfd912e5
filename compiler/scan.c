/*
 * scan.c - find migration files and pair them by version.
 *
 * Trusts: nothing about the directory; names are parsed strictly, in one
 * layout (layout.h), given or detected from the names (and, to tell
 * dbmate's, goose's and sql-migrate's files from pgbundle's, the up
 * marker in them: sections.h).
 * Rejects: names that do not parse, a folder whose names belong to two
 * layouts (one file of each named), two files with one version (both
 * named), a down script without its up.  Reports them all, not the first.
 * A file whose version another holds is kept aside (pgb_scan.dups), so
 * that its own problems are found in the same run.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "fileio.h"
#include "liquibase.h"
#include "scan.h"
#include "sections.h"
#include "banned.h"

enum kind { KIND_OTHER, KIND_FILE, KIND_DIR };

int
pgb_scan_name(const char *base, long long *version, size_t *nameoff,
    size_t *namelen, int *is_down)
{
	struct pgb_layout_name	ln;

	pgb_layout_parse(PGB_LAYOUT_PGBUNDLE, base, 0, &ln);
	switch (ln.role) {
	case PGB_ROLE_IGNORE:
		return 0;
	case PGB_ROLE_BAD:
		return -1;
	default:
		*version = ln.version;
		*nameoff = ln.nameoff;
		*namelen = ln.namelen;
		*is_down = ln.role == PGB_ROLE_DOWN;
		return 1;
	}
}

static int
cmp_base(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the entries of 'dir', dotfiles left out. */
static int
list_dir(const char *dir, char ***out, size_t *n, struct pgb_diag *d)
{
	DIR		*dp;
	struct dirent	*de;
	char		**v = NULL;
	size_t		 k = 0;

	if ((dp = opendir(dir)) == NULL)
		return pgb_fail(d, PGB_EUSAGE, "cannot open migrations directory "
		    "'%s': %s", dir, strerror(errno));
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (k == PGB_DIRENTS_MAX) {
			closedir(dp);
			while (k > 0)
				free(v[--k]);
			free(v);
			return pgb_fail(d, PGB_ESOURCE, "'%s' holds more than "
			    "%u files", dir, PGB_DIRENTS_MAX);
		}
		v = pgb_xreallocarray(v, k + 1, sizeof(*v));
		v[k++] = pgb_xstrdup(de->d_name);
	}
	closedir(dp);
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_base);
	*out = v;
	*n = k;
	return 0;
}

static struct pgb_srcmig *
find_version(struct pgb_scan *s, long long version)
{
	size_t	i;

	/* Files arrive sorted by name, so the match is usually the last. */
	for (i = s->n; i > 0; i--)
		if (s->v[i - 1].version == version)
			return &s->v[i - 1];
	return NULL;
}

static char *
join(const char *dir, const char *base)
{
	struct pgb_buf	b;
	size_t		n = strlen(dir);

	pgb_buf_init(&b);
	pgb_buf_puts(&b, dir);
	if (n > 0 && dir[n - 1] != '/')
		pgb_buf_puts(&b, "/");
	pgb_buf_puts(&b, base);
	return pgb_buf_steal(&b, NULL);
}

static enum kind
kind_of(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == -1)
		return KIND_OTHER;
	return S_ISREG(st.st_mode) ? KIND_FILE : S_ISDIR(st.st_mode) ?
	    KIND_DIR : KIND_OTHER;
}

/*
 * Read 'path', a regular file of at most PGB_SQL_MAX bytes, into a new
 * NUL-terminated buffer the caller frees; NULL when it cannot be read
 * or is larger (the compile stage reports that).
 */
static char *
slurp(const char *path, size_t *len)
{
	struct pgb_diag	 ignore;
	char		*text;

	if (pgb_file_read(NULL, path, PGB_SQL_MAX, 0, PGB_ESOURCE, &text, len,
	    &ignore) == -1)
		return NULL;
	return text;
}

/* db.changelog-master.xml and the like: a changelog pgbundle cannot read. */
static int
liquibase_master(const char *base)
{
	size_t	n = strlen(base);

	return strstr(base, "changelog") != NULL && ((n > 4 &&
	    strcmp(base + n - 4, ".xml") == 0) || (n > 5 &&
	    (strcmp(base + n - 5, ".yaml") == 0 ||
	    strcmp(base + n - 5, ".json") == 0)) || (n > 4 &&
	    strcmp(base + n - 4, ".yml") == 0));
}

static enum pgb_role
role_in(enum pgb_layout layout, const char *base)
{
	struct pgb_layout_name	ln;

	pgb_layout_parse(layout, base, 0, &ln);
	return ln.role;
}

/* The layout 'base' belongs to when detecting; AUTO when it could be any. */
static enum pgb_layout
vote(const char *dir, const char *base)
{
	struct pgb_layout_name	 ln;
	enum pgb_layout		 l = PGB_LAYOUT_AUTO, s;
	enum kind		 k;
	char			*path, *up, *text;
	size_t			 len;

	path = join(dir, base);
	k = kind_of(path);
	if (k == KIND_DIR) {
		pgb_layout_parse(PGB_LAYOUT_DIESEL, base, 1, &ln);
		up = join(path, "up.sql");
		if (ln.role == PGB_ROLE_UP && kind_of(up) == KIND_FILE)
			l = PGB_LAYOUT_DIESEL;
		free(up);
		pgb_layout_parse(PGB_LAYOUT_PRISMA, base, 1, &ln);
		up = join(path, "migration.sql");
		if (ln.role == PGB_ROLE_UP && kind_of(up) == KIND_FILE)
			l = PGB_LAYOUT_PRISMA;
		free(up);
	} else if (k == KIND_FILE) {
		if (strcmp(base, "atlas.sum") == 0)
			l = PGB_LAYOUT_ATLAS;
		else if (strcmp(base, "sqitch.plan") == 0)
			l = PGB_LAYOUT_SQITCH;
		else if (strncmp(base, "R__", 3) == 0 || ((base[0] == 'V' ||
		    base[0] == 'U') && base[1] >= '0' && base[1] <= '9' &&
		    strstr(base, "__") != NULL))
			l = PGB_LAYOUT_FLYWAY;
		else if (role_in(PGB_LAYOUT_GOLANG, base) == PGB_ROLE_UP)
			l = PGB_LAYOUT_GOLANG;
		else if (role_in(PGB_LAYOUT_PGBUNDLE, base) == PGB_ROLE_UP) {
			/* One file of sections: dbmate's, goose's, ... */
			l = PGB_LAYOUT_PGBUNDLE;
			if ((text = slurp(path, &len)) != NULL &&
			    ((s = pgb_sections_sniff(text, len)) ==
			    PGB_LAYOUT_LIQUIBASE || pgb_sections_layout(s)))
				l = s;
			free(text);
		} else if (role_in(PGB_LAYOUT_GOOSE, base) == PGB_ROLE_BAD &&
		    role_in(PGB_LAYOUT_PGBUNDLE, base) == PGB_ROLE_IGNORE) {
			l = PGB_LAYOUT_GOOSE;	/* 00002_name.go */
		} else if (liquibase_master(base)) {
			l = PGB_LAYOUT_LIQUIBASE;
		} else if (role_in(PGB_LAYOUT_PGBUNDLE, base) == PGB_ROLE_BAD &&
		    (text = slurp(path, &len)) != NULL) {
			/* changelog.sql: a name pgbundle's layout refuses */
			if (pgb_sections_sniff(text, len) ==
			    PGB_LAYOUT_LIQUIBASE)
				l = PGB_LAYOUT_LIQUIBASE;
			free(text);
		} else if (role_in(PGB_LAYOUT_PGBUNDLE, base) == PGB_ROLE_DOWN &&
		    strstr(base, ".down.sql") == NULL) {
			/* rollback_NNN_name.sql, NNN_name_ROLLBACK.sql */
			l = PGB_LAYOUT_PGBUNDLE;
		}
	}
	free(path);
	return l;
}

/*
 * The layout of the folder's names; pgbundle's when none decides.  -1
 * when two layouts meet, reported with one file of each.
 */
static int
detect(const char *dir, char **names, size_t n, enum pgb_layout *out,
    struct pgb_report *r)
{
	char		*first[PGB_LAYOUT_COUNT];
	enum pgb_layout	 l, got = PGB_LAYOUT_AUTO;
	size_t		 i;
	char		*path;
	int		 atlas;

	memset(first, 0, sizeof(first));
	/* Atlas's files are named as pgbundle's: atlas.sum tells them. */
	for (i = 0; i < n && strcmp(names[i], "atlas.sum") != 0; i++)
		;
	atlas = i < n;
	for (i = 0; i < n; i++) {
		if ((l = vote(dir, names[i])) == PGB_LAYOUT_AUTO)
			continue;
		if (atlas && l == PGB_LAYOUT_PGBUNDLE)
			l = PGB_LAYOUT_ATLAS;
		if (got != PGB_LAYOUT_AUTO && l != got) {
			path = join(dir, names[i]);
			pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
			    "migrations mix layouts: '%s' is %s, '%s' is %s "
			    "(pass --layout NAME to read the folder as one)",
			    path, pgb_layout_label(l), first[got],
			    pgb_layout_label(got));
			free(path);
			for (l = PGB_LAYOUT_AUTO; l < PGB_LAYOUT_COUNT; l++)
				free(first[l]);
			return -1;
		}
		if (first[l] == NULL)
			first[l] = join(dir, names[i]);
		got = l;
	}
	for (l = PGB_LAYOUT_AUTO; l < PGB_LAYOUT_COUNT; l++)
		free(first[l]);
	*out = got == PGB_LAYOUT_AUTO ? PGB_LAYOUT_PGBUNDLE : got;
	return 0;
}

/* A new entry for 'version', or the one already there. */
static struct pgb_srcmig *
entry(struct pgb_scan *s, long long version)
{
	struct pgb_srcmig	*m;

	if ((m = find_version(s, version)) != NULL)
		return m;
	s->v = pgb_xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	m = &s->v[s->n++];
	memset(m, 0, sizeof(*m));
	m->version = version;
	return m;
}

static void
duplicate(const char *path, long long version, const char *other,
    struct pgb_report *r)
{
	pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
	    "duplicate version %lld: also used by '%s'", version, other);
}

/* Do the names 'a' and 'b' belong to one migration (up and down)? */
static int
stems_match(enum pgb_layout layout, const char *a, const char *b)
{
	struct pgb_layout_name	x, y;

	if (layout == PGB_LAYOUT_FLYWAY || layout == PGB_LAYOUT_DIESEL)
		return 1;
	pgb_layout_parse(layout, a, 0, &x);
	pgb_layout_parse(layout, b, 0, &y);
	return x.stemlen == y.stemlen &&
	    strncmp(a + x.stemoff, b + y.stemoff, x.stemlen) == 0;
}

/*
 * The entry in s->dups for 'base', a file whose version is taken: the
 * one its up or down script (same stem) already started, or a new one.
 */
static struct pgb_srcmig *
dup_entry(struct pgb_scan *s, long long version, int down, const char *base)
{
	struct pgb_srcmig	*m;
	const char		*other;
	size_t			 i;

	for (i = 0; i < s->ndups; i++) {
		m = &s->dups[i];
		other = down ? m->up_base : m->down_base;
		if (m->version == version && (down ? m->down : m->up) == NULL &&
		    other != NULL && stems_match(s->layout, other, base))
			return m;
	}
	s->dups = pgb_xreallocarray(s->dups, s->ndups + 1, sizeof(*s->dups));
	m = &s->dups[s->ndups++];
	memset(m, 0, sizeof(*m));
	m->version = version;
	return m;
}

/*
 * A migration folder: Diesel's 'base' holds up.sql, down.sql and
 * metadata.toml, Prisma's migration.sql.  They ship as base.sql and
 * base.down.sql, so that the runtime's messages name the migration, not
 * "up".
 */
static void
add_folder(struct pgb_scan *s, const char *path, const char *base,
    const struct pgb_layout_name *ln, struct pgb_report *r)
{
	struct pgb_srcmig	*m;
	struct pgb_buf		 b;
	char			*up, *down, *meta, *text;
	size_t			 len;
	int			 diesel = s->layout == PGB_LAYOUT_DIESEL;

	up = join(path, diesel ? "up.sql" : "migration.sql");
	down = join(path, "down.sql");
	if (kind_of(up) != KIND_FILE) {
		if (diesel && kind_of(down) == KIND_FILE)
			pgb_report_add(r, PGB_SEV_ERROR, down, 0, NULL,
			    "down script without an up migration for version "
			    "%lld", ln->version);
		else
			pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
			    "migration folder holds no %s", diesel ?
			    "up.sql" : "migration.sql");
		goto out;
	}
	if ((m = find_version(s, ln->version)) != NULL) {
		duplicate(up, ln->version, m->up, r);
		goto out;
	}
	m = entry(s, ln->version);
	m->name = pgb_xstrndup(base + ln->nameoff, ln->namelen);
	m->up = up;
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s.sql", base);
	m->up_base = pgb_buf_steal(&b, NULL);
	up = NULL;
	if (diesel && kind_of(down) == KIND_FILE) {
		m->down = down;
		pgb_buf_printf(&b, "%s.down.sql", base);
		m->down_base = pgb_buf_steal(&b, NULL);
		down = NULL;
	}
	meta = join(path, "metadata.toml");
	if (kind_of(meta) == KIND_FILE && (text = slurp(meta, &len)) != NULL) {
		m->notx = pgb_layout_diesel_notx(text, len);
		free(text);
	}
	free(meta);
out:
	free(up);
	free(down);
}

/* Atlas: "-- atlas:txmode none" in the header makes it no-transaction. */
static void
atlas_header(struct pgb_srcmig *m, struct pgb_report *r)
{
	char		*text, why[256];
	size_t		 len;
	unsigned	 line = 0;

	if ((text = slurp(m->up, &len)) == NULL)
		return;		/* the compile stage reports it */
	if (pgb_layout_atlas_header(text, len, &m->notx, &line, why,
	    sizeof(why)) == -1)
		pgb_report_add(r, PGB_SEV_ERROR, m->up, line, NULL, "%s", why);
	free(text);
}

/*
 * Sqitch: the changes of DIR/sqitch.plan in order, versions 1, 2, ...;
 * each deploy/NAME.sql, revert/NAME.sql if there, verify/NAME.sql if
 * there.  They ship as NAME.sql and NAME.down.sql.
 */
static void
add_sqitch(struct pgb_scan *s, const char *dir, struct pgb_report *r)
{
	struct pgb_sqitch_plan	 p;
	struct pgb_sqitch_change c;
	struct pgb_srcmig	*m;
	struct pgb_buf		 b;
	char			*plan, *text, why[256];
	size_t			 len;
	int			 rc;

	plan = join(dir, "sqitch.plan");
	if ((text = slurp(plan, &len)) == NULL) {
		pgb_report_add(r, PGB_SEV_ERROR, plan, 0, NULL, "cannot read "
		    "the Sqitch plan");
		free(plan);
		return;
	}
	memset(&p, 0, sizeof(p));
	pgb_buf_init(&b);
	while ((rc = pgb_layout_sqitch_next(text, len, &p, &c, why,
	    sizeof(why))) != 0) {
		if (rc == -1) {
			pgb_report_add(r, PGB_SEV_ERROR, plan, c.line, NULL,
			    "%s", why);
			break;
		}
		m = entry(s, (long long)p.n);
		m->name = pgb_xstrdup(c.name);
		pgb_buf_printf(&b, "deploy/%s.sql", c.name);
		m->up = join(dir, b.data);
		b.len = 0;
		if (kind_of(m->up) != KIND_FILE)
			pgb_report_add(r, PGB_SEV_ERROR, plan, c.line, NULL,
			    "change '%s' has no deploy script '%s'", c.name,
			    m->up);
		pgb_buf_printf(&b, "revert/%s.sql", c.name);
		m->down = join(dir, b.data);
		b.len = 0;
		if (kind_of(m->down) != KIND_FILE) {
			free(m->down);
			m->down = NULL;
		}
		pgb_buf_printf(&b, "verify/%s.sql", c.name);
		m->verify = join(dir, b.data);
		b.len = 0;
		if (kind_of(m->verify) != KIND_FILE) {
			free(m->verify);
			m->verify = NULL;
		}
		pgb_buf_printf(&b, "%s.sql", c.name);
		m->up_base = pgb_xstrdup(b.data);
		b.len = 0;
		pgb_buf_printf(&b, "%s.down.sql", c.name);
		m->down_base = pgb_xstrdup(b.data);
		b.len = 0;
	}
	pgb_buf_release(&b);
	pgb_layout_sqitch_release(&p);
	free(text);
	free(plan);
}

/* The changesets of one Liquibase file, numbered on from s->n. */
static void
add_changesets(struct pgb_scan *s, const char *path, const char *base,
    struct pgb_report *r)
{
	struct pgb_changeset	*v = NULL;
	struct pgb_srcmig	*m;
	struct pgb_buf		 b;
	char			*text, why[256];
	size_t			 len, n = 0, i, j, stem;
	unsigned		 line = 0;

	if ((text = slurp(path, &len)) == NULL) {
		pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL, "cannot read");
		return;
	}
	if (pgb_liquibase_parse(text, len, &v, &n, &line, why,
	    sizeof(why)) == -1)
		pgb_report_add(r, PGB_SEV_ERROR, path, line, NULL, "%s", why);
	stem = strlen(base) - 4;
	pgb_buf_init(&b);
	for (i = 0; i < n; i++) {
		for (j = 0; j < s->n; j++) {
			if (strcmp(s->v[j].name, v[i].id) == 0)
				break;
		}
		if (j < s->n) {
			pgb_report_add(r, PGB_SEV_ERROR, path, v[i].line, NULL,
			    "changeset id '%s' is also in '%s' (changeset %zu): "
			    "pgbundle names each migration by its id", v[i].id,
			    s->v[j].up, s->v[j].part);
			continue;
		}
		m = entry(s, (long long)s->n + 1);
		m->name = pgb_xstrdup(v[i].id);
		m->up = pgb_xstrdup(path);
		m->sections = 1;
		m->part = i + 1;
		pgb_buf_printf(&b, "%.*s.%zu.sql", (int)stem, base, i + 1);
		m->up_base = pgb_buf_steal(&b, NULL);
		pgb_buf_printf(&b, "%.*s.%zu.down.sql", (int)stem, base, i + 1);
		m->down_base = pgb_buf_steal(&b, NULL);
	}
	pgb_buf_release(&b);
	pgb_liquibase_free(v, n);
	free(text);
}

/*
 * Liquibase: the folder's formatted SQL files in name order, as its
 * includeAll reads them; a changelog of another format is refused.
 */
static void
add_liquibase(struct pgb_scan *s, const char *dir, char **names, size_t n,
    struct pgb_report *r)
{
	size_t	i, k;
	char	*path;

	for (i = 0; i < n; i++) {
		path = join(dir, names[i]);
		k = strlen(names[i]);
		if (liquibase_master(names[i]))
			pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
			    "Liquibase changelog '%s' is not read: pgbundle "
			    "reads the folder's formatted SQL files in name "
			    "order, as includeAll does; build the folder that "
			    "holds them", names[i]);
		else if (k > 4 && strcmp(names[i] + k - 4, ".sql") == 0 &&
		    kind_of(path) == KIND_FILE)
			add_changesets(s, path, names[i], r);
		free(path);
	}
}

static void
add_file(struct pgb_scan *s, const char *dir, const char *base,
    struct pgb_report *r)
{
	struct pgb_srcmig	*m;
	struct pgb_layout_name	 ln;
	struct pgb_buf		 b;
	enum kind		 k;
	int			 down;
	char			*path;

	path = join(dir, base);
	if ((k = kind_of(path)) == KIND_OTHER) {
		free(path);
		return;
	}
	pgb_layout_parse(s->layout, base, k == KIND_DIR, &ln);
	if (ln.role == PGB_ROLE_IGNORE) {
		free(path);
		return;
	}
	if (ln.role == PGB_ROLE_BAD || strlen(base) > PGB_BASENAME_MAX) {
		if (ln.role == PGB_ROLE_BAD)
			pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
			    "cannot parse migration %s name: %s",
			    k == KIND_DIR ? "folder" : "file", ln.why);
		else
			pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
			    "%s name is longer than %d bytes",
			    k == KIND_DIR ? "folder" : "file", PGB_BASENAME_MAX);
		free(path);
		return;
	}
	if (s->layout == PGB_LAYOUT_DIESEL || s->layout == PGB_LAYOUT_PRISMA) {
		add_folder(s, path, base, &ln, r);
		free(path);
		return;
	}
	down = ln.role == PGB_ROLE_DOWN;
	if ((m = find_version(s, ln.version)) != NULL &&
	    (down ? m->down : m->up) != NULL) {
		duplicate(path, ln.version, down ? m->down : m->up, r);
		m = dup_entry(s, ln.version, down, base);
	} else if (m != NULL && down && m->up != NULL &&
	    !stems_match(s->layout, m->up_base, base)) {
		/* Another migration's down: kept for that one (scan_dir). */
		m = dup_entry(s, ln.version, down, base);
	} else
		m = entry(s, ln.version);
	if (down) {
		m->down = path;
		m->down_base = pgb_xstrdup(base);
		if (m->name == NULL)
			m->name = pgb_xstrndup(base + ln.nameoff, ln.namelen);
		return;
	}
	m->up = path;
	m->up_base = pgb_xstrdup(base);
	free(m->name);
	m->name = pgb_xstrndup(base + ln.nameoff, ln.namelen);
	if (s->layout == PGB_LAYOUT_ATLAS)
		atlas_header(m, r);
	if (pgb_sections_layout(s->layout)) {
		m->sections = 1;
		pgb_buf_init(&b);
		pgb_buf_printf(&b, "%.*s.down.sql", (int)ln.stemlen,
		    base + ln.stemoff);
		m->down_base = pgb_buf_steal(&b, NULL);
	}
}

static void
free_mig(struct pgb_srcmig *m)
{
	free(m->name);
	free(m->up);
	free(m->up_base);
	free(m->down);
	free(m->down_base);
	free(m->verify);
	free(m->up_real);
	free(m->down_real);
}

/*
 * "001_a.sql" goes with "001_a.down.sql", "rollback_001_a.sql" or
 * "001_a_ROLLBACK.sql" and nothing else.  Flyway pairs by version alone.
 */
static int
same_stem(const struct pgb_srcmig *m, enum pgb_layout layout)
{
	struct pgb_layout_name	u, d;

	if (layout == PGB_LAYOUT_FLYWAY || layout == PGB_LAYOUT_DIESEL ||
	    layout == PGB_LAYOUT_SQITCH || m->sections)
		return 1;
	pgb_layout_parse(layout, m->up_base, 0, &u);
	pgb_layout_parse(layout, m->down_base, 0, &d);
	return u.stemlen == d.stemlen && strncmp(m->up_base + u.stemoff,
	    m->down_base + d.stemoff, u.stemlen) == 0;
}

/* The resolved 'path' in a new string, or NULL. */
static char *
real_path(const char *path)
{
	char	buf[PATH_MAX];

	return path != NULL && realpath(path, buf) != NULL ?
	    pgb_xstrdup(buf) : NULL;
}

static int
cmp_version(const void *a, const void *b)
{
	const struct pgb_srcmig *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

int
pgb_scan_dir(const char *dir, enum pgb_layout layout, struct pgb_scan *out,
    struct pgb_report *r, struct pgb_diag *d)
{
	char	**names = NULL;
	size_t	  n = 0, i, j;
	int	  mixed = 0;

	memset(out, 0, sizeof(*out));
	if (list_dir(dir, &names, &n, d) == -1)
		return -1;
	out->layout = layout;
	if (layout == PGB_LAYOUT_AUTO)
		mixed = detect(dir, names, n, &out->layout, r) == -1;
	if (!mixed && out->layout == PGB_LAYOUT_SQITCH)
		add_sqitch(out, dir, r);
	if (!mixed && out->layout == PGB_LAYOUT_LIQUIBASE)
		add_liquibase(out, dir, names, n, r);
	for (i = 0; i < n; i++) {
		if (!mixed)
			add_file(out, dir, names[i], r);
		free(names[i]);
	}
	free(names);

	/* A down script alone is an error; drop it so later stages agree. */
	for (i = j = 0; i < out->n; i++) {
		if (out->v[i].up == NULL) {
			pgb_report_add(r, PGB_SEV_ERROR, out->v[i].down, 0, NULL,
			    "down script without an up migration for version "
			    "%lld", out->v[i].version);
			free_mig(&out->v[i]);
			continue;
		}
		if (out->v[i].down != NULL && !same_stem(&out->v[i],
		    out->layout))
			pgb_report_add(r, PGB_SEV_ERROR, out->v[i].down, 0, NULL,
			    "down script name does not match its up script '%s'",
			    out->v[i].up);
		out->v[j++] = out->v[i];
	}
	out->n = j;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_version);
	/*
	 * A down script kept aside with no up of its own: one that the
	 * version's migration has no down for is taken for a misnamed one.
	 */
	for (i = j = 0; i < out->ndups; i++) {
		struct pgb_srcmig *m = &out->dups[i], *main;

		if (m->up != NULL) {
			out->dups[j++] = *m;
			continue;
		}
		if ((main = find_version(out, m->version)) != NULL &&
		    main->down == NULL)
			pgb_report_add(r, PGB_SEV_ERROR, m->down, 0, NULL,
			    "down script name does not match its up script "
			    "'%s'", main->up);
		free_mig(m);
	}
	out->ndups = j;
	for (i = 0; i < out->n; i++) {
		out->v[i].up_real = real_path(out->v[i].up);
		out->v[i].down_real = real_path(out->v[i].down);
	}
	return 0;
}

void
pgb_scan_release(struct pgb_scan *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free_mig(&s->v[i]);
	free(s->v);
	for (i = 0; i < s->ndups; i++)
		free_mig(&s->dups[i]);
	free(s->dups);
	memset(s, 0, sizeof(*s));
}
