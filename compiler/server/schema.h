#ifndef PGB_SCHEMA_H
#define PGB_SCHEMA_H

/*
 * schema.h - a database's schema read from the catalogs, as a sorted list
 * of named objects, and the difference between two such lists.  pgbundle
 * check compares them to prove that a down script restores the schema it
 * found and that a baseline builds the schema of the migrations it
 * replaces.
 */
#include <stddef.h>

#include "buf.h"
#include "db.h"
#include "diag.h"

struct pgb_schema_obj {
	char	*kind;		/* "table", "column", "index", "constraint",
				   "function", "view", "trigger", "sequence",
				   "enum", "domain", "type", "policy",
				   "schema", "extension", ... */
	char	*name;		/* "users.nickname"; "public." left out */
	char	*def;		/* what must match: type, definition, ... */
};

struct pgb_schema {
	struct pgb_schema_obj *v;	/* sorted by kind, then name */
	size_t	 n;
};

/*
 * Read the schema of the database 'db' is connected to: tables, columns
 * and their types, defaults and identity, indexes, constraints, functions
 * and procedures, views, triggers, sequences, enums, domains, composite
 * and range types, policies, schemas and extensions.  Objects that belong
 * to an extension, system schemas and 'skip' (the history's schema) are
 * left out.  0 and 'out' (release it), or -1 with 'd' filled.
 */
int	pgb_schema_read(struct pgb_db *db, const char *skip,
	    struct pgb_schema *out, struct pgb_diag *d);
void	pgb_schema_release(struct pgb_schema *);

enum pgb_schema_change {
	PGB_SCHEMA_ADDED,	/* only in the second */
	PGB_SCHEMA_REMOVED,	/* only in the first */
	PGB_SCHEMA_CHANGED	/* in both, with another definition */
};

struct pgb_schema_diff {
	enum pgb_schema_change	 change;
	const struct pgb_schema_obj *a;	/* NULL when added */
	const struct pgb_schema_obj *b;	/* NULL when removed */
};

/*
 * What differs from 'a' to 'b', in kind and name order; the columns,
 * constraints, indexes, triggers, policies and owned sequences of a
 * table (or view) added or removed as a whole are left out.  Returns the
 * count; *out (free() it; NULL when the schemas are equal) points into
 * 'a' and 'b', which must outlive it.
 */
size_t	pgb_schema_diff(const struct pgb_schema *a, const struct pgb_schema *b,
	    struct pgb_schema_diff **out);

/*
 * One difference as words, e.g. "column 'users.nickname'" with what
 * changed when the definitions are short: "column 'users.email' (was
 * 'citext not null', now 'text')".  Appended to 'out'.
 */
void	pgb_schema_describe(const struct pgb_schema_diff *,
	    struct pgb_buf *out);

#endif /* PGB_SCHEMA_H */
