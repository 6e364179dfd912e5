#ifndef PGB_LAYOUT_H
#define PGB_LAYOUT_H

/*
 * layout.h - the file-naming conventions of the migration tools pgbundle
 * reads, and the integer version each file maps to.
 *
 *   pgbundle        001_name.sql, 001_name.down.sql (also the hand-made
 *                   rollback_001_name.sql and 001_name_ROLLBACK.sql)
 *   golang-migrate  001_name.up.sql, 001_name.down.sql
 *   diesel          2023-07-05-000058_name/up.sql and down.sql
 *   flyway          V1.2.3__name.sql, U1.2.3__name.sql (undo); the
 *                   version as pgb_version_flyway() maps it (version.h)
 *   dbmate          20230705123456_name.sql with "-- migrate:up" and
 *                   "-- migrate:down" sections
 *   goose           20230705123456_name.sql or 00001_name.sql with
 *                   "-- +goose Up" and "-- +goose Down" sections
 *   sql-migrate     1_name.sql with "-- +migrate Up" and "-- +migrate
 *                   Down" sections
 *   prisma          20230705123456_name/migration.sql (no down)
 *   atlas           20230705123456_name.sql beside atlas.sum (no down;
 *                   "-- atlas:txmode none" in its header: no transaction)
 *   sqitch          sqitch.plan names the changes in order, each one
 *                   deploy/NAME.sql, revert/NAME.sql, verify/NAME.sql;
 *                   the version is its place in the plan
 *   liquibase       *.sql formatted SQL changelogs, in name order, each
 *                   changeset a migration (liquibase.h); the version is
 *                   its place in the folder
 * (sections.h reads the sections.)
 */
#include <stddef.h>

#include "bounds.h"

enum pgb_layout {
	PGB_LAYOUT_AUTO = 0,	/* detect from the folder */
	PGB_LAYOUT_PGBUNDLE,
	PGB_LAYOUT_GOLANG,
	PGB_LAYOUT_DIESEL,
	PGB_LAYOUT_FLYWAY,
	PGB_LAYOUT_DBMATE,
	PGB_LAYOUT_GOOSE,
	PGB_LAYOUT_SQL_MIGRATE,
	PGB_LAYOUT_PRISMA,
	PGB_LAYOUT_ATLAS,
	PGB_LAYOUT_SQITCH,
	PGB_LAYOUT_LIQUIBASE,
	PGB_LAYOUT_COUNT	/* not a layout: how many there are */
};

/* What a directory entry is under one layout. */
enum pgb_role {
	PGB_ROLE_IGNORE = 0,	/* not a migration: README, notes, lib/ */
	PGB_ROLE_UP,		/* an up script (diesel: the folder) */
	PGB_ROLE_DOWN,
	PGB_ROLE_BAD		/* meant as a migration, does not parse */
};

struct pgb_layout_name {
	enum pgb_role role;
	long long version;
	size_t	 nameoff;	/* descriptive part, in the name parsed */
	size_t	 namelen;
	size_t	 stemoff;	/* what an up and its down share: "001_a" */
	size_t	 stemlen;
	const char *why;	/* PGB_ROLE_BAD: what was expected (static) */
};

/*
 * Parse the entry name 'base' ('is_dir': a folder) under 'layout' (not
 * AUTO).  Always fills out->role; version, name and stem only for UP and
 * DOWN, 'why' only for BAD.
 */
void	pgb_layout_parse(enum pgb_layout layout, const char *base, int is_dir,
	    struct pgb_layout_name *out);

/* "golang-migrate" and so on; NULL for a value out of range. */
const char *pgb_layout_label(enum pgb_layout);

/*
 * The layout called 'name' (as pgb_layout_label() spells it) that
 * --layout can name; -1 if none.
 */
int	pgb_layout_lookup(const char *name, enum pgb_layout *out);

/*
 * 1 if a Diesel metadata.toml ('len' bytes of 'text') says
 * "run_in_transaction = false", else 0.
 */
int	pgb_layout_diesel_notx(const char *text, size_t len);

/*
 * The "-- atlas:" directives of an Atlas file's header (the comment
 * lines before its first statement): *notx for "txmode none".  0, or -1
 * with *line and 'why' for one pgbundle cannot honour ("delimiter") or
 * does not know.
 */
int	pgb_layout_atlas_header(const char *text, size_t len, int *notx,
	    unsigned *line, char *why, size_t whylen);

/* One change of a sqitch.plan. */
struct pgb_sqitch_change {
	unsigned line;		/* in the plan */
	char	 name[PGB_SQITCH_NAME_MAX + 1];
};

/* Where pgb_layout_sqitch_next() is in a plan; zero it to start. */
struct pgb_sqitch_plan {
	size_t	  off;
	unsigned  line;
	char	**v;		/* the names so far */
	size_t	  n;
};

/*
 * The next change of the sqitch.plan 'text': 1 and *c filled, 0 at the
 * end, -1 with c->line and 'why' on a revert entry, a name pgbundle
 * cannot use, or a reworked change (a name planned twice).  Pragmas,
 * tags, notes and blank lines are skipped.  Release 'p' with
 * pgb_layout_sqitch_release().
 */
int	pgb_layout_sqitch_next(const char *text, size_t len,
	    struct pgb_sqitch_plan *p, struct pgb_sqitch_change *c,
	    char *why, size_t whylen);
void	pgb_layout_sqitch_release(struct pgb_sqitch_plan *);

#endif /* PGB_LAYOUT_H */
