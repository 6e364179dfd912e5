#ifndef PGB_SCAN_H
#define PGB_SCAN_H

/*
 * scan.h - discover the migration files of a directory and pair up
 * and down scripts by version.
 */
#include <stddef.h>

#include "diag.h"
#include "report.h"

struct pgb_srcmig {
	long long version;
	char	*name;		/* descriptive part: "create_users" */
	char	*up;		/* path of the up script (DIR/file) */
	char	*up_base;	/* its file name */
	char	*down;		/* path of the down script, or NULL */
	char	*down_base;
};

struct pgb_scan {
	struct pgb_srcmig *v;	/* ascending version */
	size_t	 n;
};

/*
 * Read 'dir' and fill 'out' (initialised by the call) with one entry per
 * version.  Names that do not parse, duplicate versions and down scripts
 * without an up go to 'r' and are left out.  -1 only when the directory
 * cannot be read ('d' says why).  Release with pgb_scan_release().
 */
int	pgb_scan_dir(const char *dir, struct pgb_scan *out, struct pgb_report *r,
	    struct pgb_diag *d);
void	pgb_scan_release(struct pgb_scan *);

/*
 * Parse a file name: 1 for a migration (fills version, name length and
 * is_down), 0 for a file to ignore (dotfiles, Markdown, README, not .sql),
 * -1 for a .sql file whose name does not parse.
 */
int	pgb_scan_name(const char *base, long long *version, size_t *nameoff,
	    size_t *namelen, int *is_down);

#endif /* PGB_SCAN_H */
