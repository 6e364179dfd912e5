#ifndef PGB_SCRATCH_H
#define PGB_SCRATCH_H

/*
 * scratch.h - places where pgbundle may run migrations for itself: a
 * throwaway PostgreSQL server it starts in a temporary directory, and
 * throwaway databases it creates (and drops) on a server it is given.
 * It never touches a database it did not create.  Also runs PostgreSQL's
 * programs (initdb, pg_ctl, pg_dump).
 */
#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

#include "buf.h"
#include "db.h"
#include "diag.h"

/* The directory of PostgreSQL's programs, when the user names one. */
#define PGB_PG_BINDIR_ENV	"PGBUNDLE_PG_BINDIR"

/*
 * Find PostgreSQL program 'name': in $PGBUNDLE_PG_BINDIR only when that
 * is set, else in `pg_config --bindir`, else on PATH.  0 and its path in
 * 'out', or -1 with 'd' saying where it looked.
 */
int	pgb_pg_program(const char *name, char *out, size_t len,
	    struct pgb_diag *d);

/*
 * pgb_pg_program(), then check that the program (its --version) is not
 * of an older major than 'server' (PQserverVersion's form), the server
 * it is to work with.  -1 with 'd' naming both versions, the program's
 * path and PGBUNDLE_PG_BINDIR when it is.
 */
int	pgb_pg_program_for(const char *name, int server, char *out,
	    size_t len, struct pgb_diag *d);

/*
 * Run argv[0] (a path) without a shell and wait.  When 'as_uid' is not
 * -1 the child runs as that user.  'password' (may be NULL) reaches the
 * child as PGPASSWORD, never on its command line.  Output: stdout into
 * 'out' and stderr into 'err' (either may be NULL to drop it), or both
 * appended to 'logpath' when that is not NULL.  Returns the exit status
 * (128+N for signal N), or -1 with 'd' filled when it could not run.
 */
int	pgb_run_program(char *const argv[], uid_t as_uid, gid_t as_gid,
	    const char *password, struct pgb_buf *out, struct pgb_buf *err,
	    const char *logpath, struct pgb_diag *d);

/* A server pgbundle started: initdb into a temporary directory. */
struct pgb_scratch {
	char	 dir[PATH_MAX];		/* data/, the socket and the log;
					   "" when there is none */
	char	 bindir[PATH_MAX];
	char	 conninfo[PATH_MAX + 64];	/* its "postgres" database */
	uid_t	 uid;			/* who runs it: postgres when we */
	gid_t	 gid;			/* are root, else -1 (ourselves) */
	int	 running;
};

/*
 * initdb (trust, UTF8, C locale, no fsync) into a new temporary
 * directory, listen on a unix socket there only, start and wait.  Run as
 * root, the cluster belongs to and runs as the 'postgres' user.  On -1
 * whatever was made is already gone.  Stop with pgb_scratch_stop().
 */
int	pgb_scratch_start(struct pgb_scratch *, struct pgb_diag *);
/* Stop the server (immediate) and remove its directory; any state. */
void	pgb_scratch_stop(struct pgb_scratch *);

/* A server on which pgbundle creates and drops its own databases. */
struct pgb_server {
	struct pgb_db	 admin;		/* to the database the user named */
	char		*base;		/* conninfo without dbname */
	char		*base_nopw;	/* the same without the password */
	char		*password;	/* NULL when none was given */
	unsigned	 made;		/* databases made so far */
};

/*
 * Connect to 'conninfo' (a URL or conninfo string; NULL: libpq's PG*
 * environment) to create databases from.  Release with
 * pgb_server_close().
 */
int	pgb_server_open(struct pgb_server *, const char *conninfo,
	    struct pgb_diag *);
void	pgb_server_close(struct pgb_server *);

/*
 * Create a new, empty database (from template0, named
 * "pgbundle_scratch_PID_TIME_N" into 'name') and connect 'db' to it with
 * history table 'history'.  On -1 nothing is left behind.
 */
int	pgb_server_newdb(struct pgb_server *, struct pgb_db *db,
	    const char *history, char *name, size_t namelen,
	    struct pgb_diag *);
/* Close 'db' and drop database 'name', which pgb_server_newdb() made. */
void	pgb_server_dropdb(struct pgb_server *, struct pgb_db *db,
	    const char *name);
/*
 * A conninfo string for database 'name' without the password, for
 * programs such as pg_dump (pass s->password separately); caller frees.
 */
char	*pgb_server_conninfo(const struct pgb_server *, const char *name);

#endif /* PGB_SCRATCH_H */
