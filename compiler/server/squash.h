#ifndef PGB_SQUASH_H
#define PGB_SQUASH_H

/*
 * squash.h - pgbundle squash: replace migrations 1..N of a folder by one
 * baseline, a pg_dump of the schema they build (and of the rows of the
 * tables the user names), proven equal on a scratch database before the
 * folder changes.
 */
#include <limits.h>
#include <stddef.h>

#include "diag.h"
#include "layout.h"
#include "manifest.h"
#include "report.h"
#include "scratch.h"

struct pgb_squash_opts {
	const char	*dir;		/* the migrations folder */
	long long	 through;	/* N: the last version replaced */
	const char	*archive;	/* where the replaced files go */
	const char *const *data;	/* tables whose rows it keeps */
	size_t		 ndata;
	const char *const *schema_only;	/* tables whose rows it leaves out */
	size_t		 nschema_only;
	const char	*history;	/* "schema.table" for the runtime */
	const char	*include_root;	/* as for build */
	enum pgb_layout	 layout;	/* as for build (AUTO: detect) */
};

struct pgb_squash_result {
	char		 path[PATH_MAX];	/* the baseline written */
	long long	 first;		/* the first version it replaces */
	size_t		 replaced;	/* migrations it replaces */
	size_t		 moved;		/* files moved to the archive */
	int		 sum;		/* DIR/pgbundle.sum: 1 rewritten,
					   0 none, -1 it could not be */
};

/*
 * 'm' is 'o->dir' compiled in memory (pgb_build_bundle); databases are
 * made on 's'.  Applies 1..N; refuses (PGB_EUSAGE, naming every one) when
 * a table holds rows then that neither o->data nor o->schema_only names,
 * since the baseline would silently lose them; dumps, writes the baseline into a temporary
 * folder, compiles and applies it and compares the schemas; only when
 * they are equal does it move the replaced files (up and down scripts)
 * into 'o->archive' and write the baseline into 'o->dir'.
 * 0 on success.  -1: problems with the migrations are in 'r' and 'd' has
 * PGB_ESOURCE; other failures are in 'd'.  On -1 the folder is as it was.
 */
int	pgb_squash(struct pgb_server *s, const struct pgb_manifest *m,
	    const struct pgb_squash_opts *o, struct pgb_report *r,
	    struct pgb_squash_result *res, struct pgb_diag *d);

#endif /* PGB_SQUASH_H */
