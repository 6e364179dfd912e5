#ifndef PGB_DIAG_H
#define PGB_DIAG_H

#include <stddef.h>

/*
 * diag.h - errors as values.  Modules fill a struct pgb_diag and return -1;
 * only main.c prints, once, and maps the code to an exit status.
 */

/* Error classes.  Each maps to one documented exit status in main.c. */
enum {
	PGB_OK = 0,
	PGB_EINTERNAL,		/* out of memory, I/O on our own files */
	PGB_EUSAGE,		/* bad command line */
	PGB_ESOURCE,		/* compiler: a migration file is invalid */
	PGB_EKEY,		/* a key file is unreadable or of the wrong type */
	PGB_EBUNDLE,		/* runtime: bundle rejected before connecting */
	PGB_ECONFLICT,		/* database state conflicts with the bundle */
	PGB_ESQL,		/* a migration failed and was rolled back */
	PGB_EOPERATOR,		/* a no-transaction migration needs a human */
	PGB_ERETRY,		/* lock wait, unreachable server, lost connection */
	PGB_ECANCEL,		/* SIGTERM or SIGINT */
	PGB_ECONNECT,		/* a connection retrying will not make: no such
				   database or role, bad password or conninfo */
	PGB_EPENDING		/* status --check: migrations are pending */
};

struct pgb_diag {
	int	code;		/* PGB_E*; 0 means no error */
	char	msg[256];	/* one line: lowercase, no final period */
	char	detail[1024];	/* optional sentence(s), e.g. server text */
	char	sqlstate[6];	/* the server's SQLSTATE, or "" */
	char	server_detail[512];	/* the server's DETAIL, or "" */
	char	hint[512];	/* what to do: the server's HINT, or
				   pgapply's own for a known SQLSTATE; "" */
};

int	pgb_fail(struct pgb_diag *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));	/* returns -1 */
void	pgb_detail(struct pgb_diag *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	pgb_diag_clear(struct pgb_diag *);

/* Room for a name escaped by pgb_esc, as messages quote it. */
#define PGB_ESC_MAX	120

/*
 * Copy 's' into 'out' (size 'n', at least 8) for a message: printable
 * ASCII stays, a backslash is doubled, other bytes become \xNN; a long
 * name is cut and ends in "...".
 */
void	pgb_esc(const char *s, char *out, size_t n);

#endif /* PGB_DIAG_H */
