#ifndef PGB_SCAN_H
#define PGB_SCAN_H

/*
 * scan.h - discover the migration files of a directory in one of the
 * layouts of layout.h and pair up and down scripts by version.
 */
#include <stddef.h>

#include "diag.h"
#include "layout.h"
#include "report.h"

struct pgb_srcmig {
	long long version;
	char	*name;		/* descriptive part: "create_users" */
	char	*up;		/* path of the up script (DIR/file) */
	char	*up_base;	/* its name inside the bundle's migrations/:
				   the file's own, but diesel's DIR.sql */
	char	*down;		/* path of the down script, or NULL */
	char	*down_base;	/* its name in the bundle (diesel's
				   DIR.down.sql); for 'sections', the name
				   the down section ships as, NAME.down.sql */
	int	 sections;	/* dbmate, goose, sql-migrate, liquibase: up
				   and down are sections of 'up' */
	int	 notx;		/* the layout says no transaction (diesel's
				   metadata.toml: run_in_transaction = false) */
	size_t	 part;		/* liquibase: which changeset of 'up', from 1 */
	char	*verify;	/* sqitch: verify/NAME.sql, run after the up
				   in its transaction; or NULL */
	char	*up_real;	/* realpath of 'up' and 'down' (NULL if none): */
	char	*down_real;	/* what an include of another migration hits */
};

struct pgb_scan {
	struct pgb_srcmig *v;	/* ascending version */
	size_t	 n;
	enum pgb_layout layout;	/* the one used (detected when AUTO) */
	struct pgb_srcmig *dups; /* files whose version 'v' already holds
				   (reported): compiled for their own
				   problems, never shipped */
	size_t	 ndups;
};

/*
 * Read 'dir' in 'layout' (AUTO: detect it) and fill 'out' (initialised
 * by the call) with one entry per version.  Names that do not parse,
 * duplicate versions, down scripts without an up and a folder that mixes
 * layouts go to 'r' and are left out (a duplicate up script, with its
 * down, goes to out->dups).  -1 only when the directory cannot
 * be read ('d' says why).  Release with pgb_scan_release().
 */
int	pgb_scan_dir(const char *dir, enum pgb_layout layout,
	    struct pgb_scan *out, struct pgb_report *r, struct pgb_diag *d);
void	pgb_scan_release(struct pgb_scan *);

/*
 * Parse a file name of the pgbundle layout: 1 for a migration (fills
 * version, name offset and length and is_down), 0 for a file to ignore
 * (dotfiles, Markdown, README, not .sql), -1 for a .sql file whose name
 * does not parse.
 */
int	pgb_scan_name(const char *base, long long *version, size_t *nameoff,
	    size_t *namelen, int *is_down);

#endif /* PGB_SCAN_H */
