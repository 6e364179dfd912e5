/*
 * adopt.c - take over a database that another tool migrated: read that
 * tool's history table (never write it) and record the same versions in
 * pgbundle's history, so apply continues where the other tool stopped.
 *
 * Trusts: nothing in the foreign table; every version must be one the
 * bundle holds.  Rejects: a database the other tool marks dirty or failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "buf.h"
#include "text.h"
#include "version.h"
#include "banned.h"

/* Versions read from the foreign table, grown as rows arrive. */
struct vlist {
	long long	*v;
	size_t		 n;
	long long	 upto;		/* "everything up to": -1 if none */
};

static void
vlist_add(struct vlist *l, long long v)
{
	l->v = pgb_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = v;
}

struct tool {
	const char	*name;
	const char	*table;		/* default table */
	const char	*columns;	/* what we select */
};

static const struct tool tools[] = {
	{ "golang-migrate", "schema_migrations",
	    "version::pg_catalog.text, dirty::pg_catalog.text" },
	{ "dbmate", "schema_migrations", "version::pg_catalog.text" },
	{ "sql-migrate", "gorp_migrations", "id" },
	{ "sqitch", "sqitch.changes", "change" },
	{ "flyway", "flyway_schema_history",
	    "version, success::pg_catalog.text, type, "
	    "installed_rank::pg_catalog.text" },
	{ "custom", "schema_version", "version::pg_catalog.text" },
	{ NULL, NULL, NULL }
};

/* The table as the server quotes it, or -1 when it does not exist. */
static int
resolve_table(struct pgb_db *db, const char *name, char **out,
    struct pgb_diag *d)
{
	const char	*p[1] = { name };
	PGresult	*res;

	if (pgb_db_exec(db, "SELECT pg_catalog.to_regclass($1)::"
	    "pg_catalog.text", 1, p, &res, d) == -1) {
		d->code = PGB_EUSAGE;
		return -1;
	}
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return pgb_fail(d, PGB_EUSAGE, "table '%s' not found: nothing "
		    "to adopt", name);
	}
	*out = pgb_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* sql-migrate records file names ("12_add_users.sql"): take the number. */
static int
sql_migrate_row(const char *id, struct vlist *l, struct pgb_diag *d)
{
	char		 num[20];
	size_t		 n = strspn(id, "0123456789");
	long long	 v;

	if (n == 0 || n >= sizeof(num) || id[n] != '_')
		return pgb_fail(d, PGB_ECONFLICT, "sql-migrate id '%.*s' does "
		    "not start with a version number", PGB_CUT(id, 60), id);
	memcpy(num, id, n);
	num[n] = '\0';
	if (pgb_version_plain(num, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "sql-migrate id '%.*s' has "
		    "no usable version", PGB_CUT(id, 60), id);
	vlist_add(l, v);
	return 0;
}

/* Sqitch names changes instead of numbering them: match the names. */
static int
sqitch_row(const struct pgb_manifest *m, const char *change, struct vlist *l,
    struct pgb_diag *d)
{
	size_t	i;

	for (i = 0; i < m->nmigs; i++) {
		if (strcmp(m->migs[i].name, change) == 0) {
			vlist_add(l, m->migs[i].version);
			return 0;
		}
	}
	pgb_fail(d, PGB_ECONFLICT, "Sqitch deployed change '%.*s', which the "
	    "bundle holds no migration of that name for", PGB_CUT(change, 80),
	    change);
	pgb_detail(d, "name the migrations after the Sqitch changes "
	    "(NNN_%.*s.sql); nothing was changed", PGB_CUT(change, 80), change);
	return -1;
}

static int
read_row(const struct pgb_manifest *m, const struct tool *t, PGresult *res,
    int i, struct vlist *l, struct pgb_diag *d)
{
	const char	*ver = PQgetvalue(res, i, 0);
	long long	 v;

	if (strcmp(t->name, "flyway") == 0) {
		const char *type = PQgetvalue(res, i, 2);

		if (PQgetisnull(res, i, 0))
			return 0;	/* repeatable migrations have no version */
		if (pgb_version_flyway(ver, &v) == -1)
			return pgb_fail(d, PGB_ECONFLICT, "Flyway version '%s' "
			    "cannot be mapped to a pgbundle version", ver);
		if (strcmp(PQgetvalue(res, i, 1), "true") != 0)
			return pgb_fail(d, PGB_ECONFLICT, "Flyway marks version "
			    "'%s' failed: repair the database (flyway repair) "
			    "before adopting it", ver);
		if (strcmp(type, "BASELINE") == 0)
			l->upto = v;
		else if (strncmp(type, "UNDO", 4) != 0 && strcmp(type,
		    "DELETE") != 0)
			vlist_add(l, v);
		return 0;
	}
	if (strcmp(t->name, "sql-migrate") == 0)
		return sql_migrate_row(ver, l, d);
	if (strcmp(t->name, "sqitch") == 0)
		return sqitch_row(m, ver, l, d);
	if (pgb_version_plain(ver, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "%s version '%s' is not a "
		    "number", t->name, ver);
	if (strcmp(t->name, "golang-migrate") == 0) {
		if (strcmp(PQgetvalue(res, i, 1), "false") != 0)
			return pgb_fail(d, PGB_ECONFLICT, "golang-migrate marks "
			    "the database dirty at version %lld: a migration "
			    "failed half way; fix it, then 'migrate force' a "
			    "clean version before adopting", v);
		l->upto = v;
		return 0;
	}
	vlist_add(l, v);
	return 0;
}

static int
read_foreign(struct pgb_db *db, const struct pgb_manifest *m,
    const struct tool *t, const char *table, struct vlist *l,
    struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	PGresult	*res;
	char		*qt = NULL;
	int		 i, rc = 0;

	if (resolve_table(db, table, &qt, d) == -1)
		return -1;
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "SELECT %s FROM %s", t->columns, qt);
	if (strcmp(t->name, "flyway") == 0)
		pgb_buf_puts(&sql, " ORDER BY installed_rank");
	free(qt);
	rc = pgb_db_exec(db, sql.data, 0, NULL, &res, d);
	pgb_buf_release(&sql);
	if (rc == -1) {
		pgb_detail(d, "is '%s' a %s history table?", table, t->name);
		d->code = PGB_EUSAGE;
		return -1;
	}
	if (strcmp(t->name, "golang-migrate") == 0 && PQntuples(res) > 1)
		rc = pgb_fail(d, PGB_ECONFLICT, "golang-migrate table '%s' has "
		    "%d rows, expected one", table, PQntuples(res));
	for (i = 0; rc == 0 && i < PQntuples(res); i++)
		rc = read_row(m, t, res, i, l, d);
	PQclear(res);
	return rc;
}

int
pgb_adopt(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, const char *tool, const char *table,
    struct pgb_diag *d)
{
	const struct tool	*t;
	struct vlist		 l = { NULL, 0, -1 };
	char			 origin[64];
	size_t			 i;
	int			 found = 0, rc;

	for (t = tools; t->name != NULL; t++)
		if (strcmp(t->name, tool) == 0)
			break;
	if (t->name == NULL)
		return pgb_fail(d, PGB_EUSAGE, "unknown tool '%s' (known: "
		    "golang-migrate, dbmate, sql-migrate, sqitch, flyway, custom)",
		    tool);
	if (read_foreign(db, m, t, table ? table : t->table, &l, d) == -1) {
		free(l.v);
		return -1;
	}
	/* "Everything up to V": the bundle's versions to V, and V itself. */
	if (l.upto >= 0) {
		for (i = 0; i < m->nmigs && m->migs[i].version <= l.upto; i++) {
			vlist_add(&l, m->migs[i].version);
			found |= m->migs[i].version == l.upto;
		}
		if (!found)
			vlist_add(&l, l.upto);
	}
	snprintf(origin, sizeof(origin), "adopt:%s", t->name);
	rc = pgb_adopt_versions(db, m, o, l.v, l.n, origin, d);
	free(l.v);
	return rc;
}
