#ifndef PGB_CONNINFO_H
#define PGB_CONNINFO_H

/*
 * conninfo.h - keep database passwords out of output, and off the
 * command line.  Shared by pgapply and by pgbundle's check --db and
 * squash --db.
 */
#include "buf.h"
#include "diag.h"

/*
 * Append 'text' to 'out' with every password of 'conninfo' masked as
 * "***" wherever it appears (as written, and percent-decoded or
 * unquoted), 'password' too (when not NULL), and anything in it shaped
 * like a URL's password ("user:PASS@") or a "password=VALUE" pair.
 * 'conninfo' is a key=value string or a postgres:// URL that need not
 * parse (NULL: none); 'text' is what libpq or a child program said.
 */
void	pgb_conninfo_mask(const char *conninfo, const char *password,
	    const char *text, struct pgb_buf *out);

/*
 * --db-file: the conninfo on the first line of 'path' (a regular file of
 * at most PGB_CONNINFO_MAX bytes; a final CR and blanks dropped).  0 and
 * *out to free (wipe it first: it may hold a password), or -1.  The
 * file's text is never quoted in 'd'.
 */
int	pgb_conninfo_file(const char *path, char **out, struct pgb_diag *d);

/*
 * A conninfo shaped like a URL ("scheme://...", before any '=') whose
 * scheme libpq does not know, such as "postgress://": libpq would take
 * the whole string for a database name.  -1 and 'd' (PGB_ECONNECT,
 * naming the scheme, never the rest), else 0.
 */
int	pgb_conninfo_scheme(const char *conninfo, struct pgb_diag *d);

/* Overwrite and free a string that may hold a password; accepts NULL. */
void	pgb_conninfo_free(char *);

#endif /* PGB_CONNINFO_H */
