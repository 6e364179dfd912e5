#ifndef PGB_PACK_H
#define PGB_PACK_H

/*
 * pack.h - write a bundle: a POSIX tar of regular files, gzip'd, with
 * every varying field fixed so the same input gives the same bytes.
 */
#include <stddef.h>

#include "buf.h"
#include "diag.h"

struct pgb_pack_entry {
	const char	*name;		/* path inside the archive */
	const void	*data;
	size_t		 len;
};

/*
 * Sort 'v' by name and write the archive into 'out'.  Owners are 0/0,
 * modes 0644, mtimes 'mtime'; the gzip header has no name and no time.
 */
int	pgb_pack(struct pgb_pack_entry *v, size_t n, long long mtime,
	    struct pgb_buf *out, struct pgb_diag *);

#endif /* PGB_PACK_H */
