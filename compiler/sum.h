#ifndef PGB_SUM_H
#define PGB_SUM_H

/*
 * sum.h - the sum file, DIR/pgbundle.sum: one line per migration,
 * "VERSION NAME CHAIN", CHAIN being the migration's chained hash as the
 * manifest records it.  Committed beside the migrations, it makes two
 * branches that each add a migration change the same last line, so git
 * shows a conflict at merge time; and an edited migration changes its
 * line, so a check catches it.
 */
#include "buf.h"
#include "diag.h"
#include "manifest.h"
#include "report.h"
#include "scan.h"

#define PGB_SUM_NAME	"pgbundle.sum"

enum pgb_sum_mode {
	PGB_SUM_IGNORE = 0,	/* leave the sum file alone */
	PGB_SUM_CHECK,		/* a disagreement is an error; new
				   migrations are noted */
	PGB_SUM_UPDATE,		/* new migrations are added silently, any
				   other change is an error */
	PGB_SUM_FIX		/* rewrite, whatever it held */
};

/* Append the sum file of 'm' to 'out'. */
void	pgb_sum_render(const struct pgb_manifest *m, struct pgb_buf *out);

/*
 * Compare the sum file 'path' with 'm', whose migrations were compiled
 * from 's' (same order), and report the first disagreement to 'r' with
 * the sum file's line: an error (CHECK, UPDATE) or nothing (FIX).  Only
 * the first 'valid' migrations are compared (the others did not compile).
 * Under CHECK a missing file is a note, and so is each migration after
 * the last recorded one (it is new).  Returns 1 when the file is missing
 * or differs from pgb_sum_render(m), 0 when it is identical, -1 when it
 * cannot be read ('d' says why).
 */
int	pgb_sum_compare(const char *path, const struct pgb_manifest *m,
	    const struct pgb_scan *s, size_t valid, enum pgb_sum_mode mode,
	    struct pgb_report *r, struct pgb_diag *d);

/*
 * The versions the sum file 'path' records (its released migrations), in
 * file order; lines that do not parse are left out (pgb_sum_compare
 * reports them).  1 and '*v' (caller frees), 0 when there is no file
 * ('*v' NULL), -1 when it cannot be read.
 */
int	pgb_sum_recorded(const char *path, long long **v, size_t *n,
	    struct pgb_diag *d);

#endif /* PGB_SUM_H */
