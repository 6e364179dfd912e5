#ifndef PGB_NEW_H
#define PGB_NEW_H

/*
 * new.h - pgbundle new: start the next migration of a folder, named and
 * numbered the way the folder already names and numbers its migrations.
 */
#include <limits.h>

#include "diag.h"
#include "layout.h"

struct pgb_new_opts {
	const char	*dir;		/* the migrations folder */
	const char	*name;		/* descriptive part: letters, digits,
					   '_' and '-' */
	enum pgb_layout	 layout;	/* AUTO: the folder's */
	long long	 now;		/* seconds since the epoch, for
					   timestamp versions */
};

struct pgb_new_result {
	char		 up[PATH_MAX];		/* the files written */
	char		 down[PATH_MAX];	/* "": dbmate's one file */
	long long	 version;
	enum pgb_layout	 layout;
};

/*
 * Write the migration after the folder's last one and an empty down
 * script: with the width of the last version's digits (001, 0001, ...),
 * or, where the folder uses timestamps (YYYYMMDDHHMMSS, or diesel's and
 * dbmate's layouts), 'now' (or one more than the last, if that is
 * later).  Nothing is overwritten.  0, or -1 with 'd': PGB_EUSAGE for a
 * bad name or folder, PGB_ESOURCE when the folder has problems
 * ('pgbundle check' names them), PGB_EINTERNAL for I/O.
 */
int	pgb_new(const struct pgb_new_opts *, struct pgb_new_result *,
	    struct pgb_diag *);

#endif /* PGB_NEW_H */
