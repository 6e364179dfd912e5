/*
 * scratch.c - throwaway PostgreSQL servers and databases for pgbundle
 * check and squash, and running PostgreSQL's own programs.
 *
 * Trusts: the programs in $PGBUNDLE_PG_BINDIR, else those `pg_config
 * --bindir` or PATH names; refuses one of an older major than the server
 * it must work with (pg_dump cannot dump a newer server).  A server is
 * started in a fresh mkdtemp() directory, listens on a unix socket there
 * and nowhere else, and is stopped and removed afterwards.  On a server
 * the user names, only databases this module created are ever dropped.
 * Passwords reach child programs through PGPASSWORD, never argv.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "scratch.h"
#include "banned.h"

#define SCRATCH_PORT	"5432"	/* alone in its own socket directory */

int
pgb_pg_program(const char *name, char *out, size_t len, struct pgb_diag *d)
{
	char		 line[PATH_MAX];
	const char	*path = getenv("PATH"), *p, *e;
	const char	*dir = getenv(PGB_PG_BINDIR_ENV);
	FILE		*f;
	size_t		 n;

	/* Set, it is the only place: a program from elsewhere would mix
	   two installations (an initdb of one major, a pg_dump of another). */
	if (dir != NULL && *dir != '\0') {
		if ((size_t)snprintf(out, len, "%s/%s", dir, name) < len &&
		    access(out, X_OK) == 0)
			return 0;
		pgb_fail(d, PGB_EINTERNAL, "cannot find PostgreSQL's '%s' in "
		    "%s '%s'", name, PGB_PG_BINDIR_ENV, dir);
		pgb_detail(d, "point %s at the bin directory of a PostgreSQL "
		    "installation that has it, or unset it", PGB_PG_BINDIR_ENV);
		return -1;
	}
	if ((f = popen("pg_config --bindir 2>/dev/null", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if ((size_t)snprintf(out, len, "%s/%s", line,
			    name) < len && access(out, X_OK) == 0) {
				pclose(f);
				return 0;
			}
		}
		pclose(f);
	}
	for (p = path ? path : ""; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":");
		n = (size_t)(e - p);
		if (n == 0)
			continue;
		if ((size_t)snprintf(out, len, "%.*s/%s", (int)n, p,
		    name) < len && access(out, X_OK) == 0)
			return 0;
	}
	pgb_fail(d, PGB_EINTERNAL, "cannot find PostgreSQL's '%s'", name);
	pgb_detail(d, "looked in %s, `pg_config --bindir` and PATH; install "
	    "the PostgreSQL server programs (scripts/deps.sh does), put them "
	    "on PATH or point %s at them", PGB_PG_BINDIR_ENV,
	    PGB_PG_BINDIR_ENV);
	return -1;
}

/* "15.14" of PQserverVersion's 150014; "9.6.24" of 90624. */
static void
version_text(int v, char *out, size_t len)
{
	if (v >= 100000)
		snprintf(out, len, "%d.%d", v / 10000, v % 10000);
	else
		snprintf(out, len, "%d.%d.%d", v / 10000, v / 100 % 100,
		    v % 100);
}

/* The major of a PQserverVersion number: 15 of 150014, 906 of 90624. */
static int
version_major(int v)
{
	return v >= 100000 ? v / 10000 : v / 100;
}

/*
 * The version of a PostgreSQL program from its --version line ("pg_dump
 * (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)", "initdb (PostgreSQL)
 * 18beta1"), in PQserverVersion's form; -1 when there is none.
 */
static int
program_version(const char *text)
{
	const char	*p = strstr(text, "(PostgreSQL) ");
	long		 part[3] = { 0, 0, 0 };
	char		*end;
	int		 i;

	if (p == NULL)
		return -1;
	p += strlen("(PostgreSQL) ");
	for (i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			break;
		part[i] = strtol(p, &end, 10);
		if (part[i] > 9999)
			return -1;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	if (i == 0 && part[0] == 0)
		return -1;
	if (part[0] >= 10)
		return (int)(part[0] * 10000 + part[1]);
	return (int)(part[0] * 10000 + part[1] * 100 + part[2]);
}

int
pgb_pg_program_for(const char *name, int server, char *out, size_t len,
    struct pgb_diag *d)
{
	char		*argv[3];
	char		 have[32], want[32];
	struct pgb_buf	 text;
	int		 st, v;

	if (pgb_pg_program(name, out, len, d) == -1)
		return -1;
	argv[0] = out;
	argv[1] = (char *)"--version";
	argv[2] = NULL;
	pgb_buf_init(&text);
	st = pgb_run_program(argv, (uid_t)-1, (gid_t)-1, NULL, &text, NULL,
	    NULL, d);
	v = st == 0 && text.data != NULL ? program_version(text.data) : -1;
	pgb_buf_release(&text);
	if (st == -1)
		return -1;
	if (v == -1)
		return pgb_fail(d, PGB_EINTERNAL, "cannot tell the version of "
		    "'%s' (%s --version)", out, name);
	if (version_major(v) >= version_major(server))
		return 0;
	version_text(v, have, sizeof(have));
	version_text(server, want, sizeof(want));
	pgb_fail(d, PGB_EINTERNAL, "%s %s is older than the server it must "
	    "work with (PostgreSQL %s)", name, have, want);
	pgb_detail(d, "'%s' cannot work with a server of a newer major; "
	    "install PostgreSQL %d or later and point %s at its bin directory "
	    "(e.g. /usr/lib/postgresql/%d/bin)", out, version_major(server),
	    PGB_PG_BINDIR_ENV, version_major(server));
	return -1;
}

/* Read both pipes to their end; either buffer may be NULL (dropped). */
static void
drain(int ofd, int efd, struct pgb_buf *out, struct pgb_buf *err)
{
	struct pollfd	 pf[2];
	char		 chunk[8192];
	ssize_t		 n;
	int		 k;

	pf[0].fd = ofd;
	pf[1].fd = efd;
	pf[0].events = pf[1].events = POLLIN;
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || pf[k].revents == 0)
				continue;
			n = read(pf[k].fd, chunk, sizeof(chunk));
			if (n > 0) {
				if (k == 0 && out != NULL)
					pgb_buf_append(out, chunk, (size_t)n);
				if (k == 1 && err != NULL)
					pgb_buf_append(err, chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(pf[k].fd);
				pf[k].fd = -1;
			}
		}
	}
	if (pf[0].fd >= 0)
		close(pf[0].fd);
	if (pf[1].fd >= 0)
		close(pf[1].fd);
}

int
pgb_run_program(char *const argv[], uid_t as_uid, gid_t as_gid,
    const char *password, struct pgb_buf *out, struct pgb_buf *err,
    const char *logpath, struct pgb_diag *d)
{
	int	 op[2] = { -1, -1 }, ep[2] = { -1, -1 }, fd, st;
	pid_t	 pid;

	if (logpath == NULL && (pipe(op) == -1 || pipe(ep) == -1)) {
		if (op[0] >= 0) {
			close(op[0]);
			close(op[1]);
		}
		return pgb_fail(d, PGB_EINTERNAL, "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		if (op[0] >= 0) {
			close(op[0]);
			close(op[1]);
			close(ep[0]);
			close(ep[1]);
		}
		return pgb_fail(d, PGB_EINTERNAL, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* pgbundle ignores SIGPIPE; the programs it runs must not. */
		(void)signal(SIGPIPE, SIG_DFL);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		if (logpath != NULL) {
			if ((fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND,
			    0644)) == -1)
				_exit(126);
			if (as_uid != (uid_t)-1)
				(void)fchown(fd, as_uid, as_gid);
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		} else {
			dup2(op[1], 1);
			dup2(ep[1], 2);
			close(op[0]);
			close(op[1]);
			close(ep[0]);
			close(ep[1]);
		}
		if (as_uid != (uid_t)-1 && (chdir("/") == -1 ||
		    setgroups(0, NULL) == -1 || setgid(as_gid) == -1 ||
		    setuid(as_uid) == -1))
			_exit(126);
		if (password != NULL && setenv("PGPASSWORD", password, 1) == -1)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (logpath == NULL) {
		close(op[1]);
		close(ep[1]);
		drain(op[0], ep[0], out, err);
	}
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR)
			return pgb_fail(d, PGB_EINTERNAL, "waitpid: %s",
			    strerror(errno));
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* out = a/b, or "" when it does not fit (every caller's a is short). */
static void
pathcat(char *out, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(out, len, "%s/%s", a, b) >= len)
		out[0] = '\0';
}

/* rm -r 'path' without following symbolic links. */
static void
remove_tree(const char *path)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*dp;
	char		 sub[PATH_MAX];

	if (lstat(path, &st) == -1)
		return;
	if (S_ISDIR(st.st_mode) && (dp = opendir(path)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
			    de->d_name) < sizeof(sub))
				remove_tree(sub);
		}
		closedir(dp);
		(void)rmdir(path);
	} else
		(void)unlink(path);
}

/* The last lines of 'path', for a detail. */
static void
log_tail(const char *path, struct pgb_diag *d)
{
	struct pgb_diag	ignore;
	char		buf[700];
	size_t		size, n;
	int		fd;

	/* The server's own log in its private folder: never a symlink. */
	if (pgb_file_open(NULL, path, SIZE_MAX, PGB_FILE_NOFOLLOW,
	    PGB_EINTERNAL, &fd, &size, &ignore) == -1)
		return;
	if (size > sizeof(buf) - 1)
		(void)lseek(fd, (off_t)(size - (sizeof(buf) - 1)), SEEK_SET);
	if (pgb_file_fill(fd, buf, sizeof(buf) - 1, &n) == 0 && n > 0) {
		buf[n] = '\0';
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		pgb_detail(d, "%s (log: %s)", buf, path);
	}
	close(fd);
}

/* A directory for the server: $TMPDIR when short and plain, else /tmp. */
static const char *
temp_base(void)
{
	const char	*t = getenv("TMPDIR");
	struct stat	 st;

	if (t == NULL || t[0] != '/' || strlen(t) > 60 ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789/._-") != strlen(t) || stat(t, &st) == -1 ||
	    !S_ISDIR(st.st_mode))
		return "/tmp";
	return t;
}

static int
append_conf(const char *path, const char *dir, struct pgb_diag *d)
{
	FILE	*f;
	int	 bad;

	if ((f = fopen(path, "a")) == NULL)
		return pgb_fail(d, PGB_EINTERNAL, "cannot write '%s': %s", path,
		    strerror(errno));
	fprintf(f, "\n# pgbundle: a throwaway server for check and squash\n"
	    "listen_addresses = ''\nunix_socket_directories = '%s'\n"
	    "port = " SCRATCH_PORT "\nfsync = off\nsynchronous_commit = off\n"
	    "full_page_writes = off\nshared_buffers = '32MB'\n"
	    "max_connections = 20\nlc_messages = 'C'\n", dir);
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return pgb_fail(d, PGB_EINTERNAL, "cannot write '%s'", path);
	return 0;
}

int
pgb_scratch_start(struct pgb_scratch *s, struct pgb_diag *d)
{
	char		 initdb[PATH_MAX], pg_ctl[PATH_MAX], data[PATH_MAX];
	char		 log[PATH_MAX], conf[PATH_MAX], *slash;
	char		*argv[16];
	struct passwd	*pw;
	int		 st;

	memset(s, 0, sizeof(s[0]));
	s->uid = (uid_t)-1;
	s->gid = (gid_t)-1;
	if (pgb_pg_program("initdb", initdb, sizeof(initdb), d) == -1)
		return -1;
	snprintf(s->bindir, sizeof(s->bindir), "%s", initdb);
	if ((slash = strrchr(s->bindir, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl",
	    s->bindir) >= sizeof(pg_ctl) || access(pg_ctl, X_OK) == -1)
		return pgb_fail(d, PGB_EINTERNAL, "no pg_ctl beside '%s'",
		    initdb);
	if (geteuid() == 0) {
		if ((pw = getpwnam("postgres")) == NULL)
			return pgb_fail(d, PGB_EINTERNAL, "running as root, "
			    "but there is no 'postgres' user to run the "
			    "scratch server as");
		s->uid = pw->pw_uid;
		s->gid = pw->pw_gid;
	}
	snprintf(s->dir, sizeof(s->dir), "%s/pgbundle-XXXXXX", temp_base());
	if (mkdtemp(s->dir) == NULL) {
		pgb_fail(d, PGB_EINTERNAL, "cannot make a directory in '%s': "
		    "%s", temp_base(), strerror(errno));
		s->dir[0] = '\0';
		return -1;
	}
	if (s->uid != (uid_t)-1 && chown(s->dir, s->uid, s->gid) == -1) {
		pgb_fail(d, PGB_EINTERNAL, "chown '%s': %s", s->dir,
		    strerror(errno));
		goto fail;
	}
	pathcat(data, sizeof(data), s->dir, "data");
	pathcat(log, sizeof(log), s->dir, "server.log");
	pathcat(conf, sizeof(conf), data, "postgresql.conf");
	argv[0] = initdb;
	argv[1] = (char *)"-D";
	argv[2] = data;
	argv[3] = (char *)"-A";
	argv[4] = (char *)"trust";
	argv[5] = (char *)"-U";
	argv[6] = (char *)"postgres";
	argv[7] = (char *)"-E";
	argv[8] = (char *)"UTF8";
	argv[9] = (char *)"--locale=C";
	argv[10] = (char *)"--no-sync";
	argv[11] = NULL;
	if ((st = pgb_run_program(argv, s->uid, s->gid, NULL, NULL, NULL, log,
	    d)) != 0) {
		if (st > 0) {
			pgb_fail(d, PGB_EINTERNAL, "initdb failed (exit %d)",
			    st);
			log_tail(log, d);
		}
		goto fail;
	}
	if (append_conf(conf, s->dir, d) == -1)
		goto fail;
	argv[0] = pg_ctl;
	argv[1] = (char *)"-D";
	argv[2] = data;
	argv[3] = (char *)"-l";
	argv[4] = log;
	argv[5] = (char *)"-w";
	argv[6] = (char *)"-t";
	argv[7] = (char *)"60";
	argv[8] = (char *)"-s";
	argv[9] = (char *)"start";
	argv[10] = NULL;
	s->running = 1;
	if ((st = pgb_run_program(argv, s->uid, s->gid, NULL, NULL, NULL, log,
	    d)) != 0) {
		if (st > 0) {
			pgb_fail(d, PGB_EINTERNAL, "the scratch server did not "
			    "start (pg_ctl exit %d)", st);
			log_tail(log, d);
		}
		goto fail;
	}
	snprintf(s->conninfo, sizeof(s->conninfo), "host=%s port="
	    SCRATCH_PORT " user=postgres dbname=postgres", s->dir);
	return 0;
fail:
	pgb_scratch_stop(s);
	return -1;
}

void
pgb_scratch_stop(struct pgb_scratch *s)
{
	char		 pg_ctl[PATH_MAX], data[PATH_MAX], log[PATH_MAX];
	char		*argv[10];
	struct pgb_diag	 ignore;

	if (s->running) {
		pathcat(pg_ctl, sizeof(pg_ctl), s->bindir, "pg_ctl");
		pathcat(data, sizeof(data), s->dir, "data");
		pathcat(log, sizeof(log), s->dir, "server.log");
		argv[0] = pg_ctl;
		argv[1] = (char *)"-D";
		argv[2] = data;
		argv[3] = (char *)"-m";
		argv[4] = (char *)"immediate";
		argv[5] = (char *)"-w";
		argv[6] = (char *)"-s";
		argv[7] = (char *)"stop";
		argv[8] = NULL;
		(void)pgb_run_program(argv, s->uid, s->gid, NULL, NULL, NULL,
		    log, &ignore);
		s->running = 0;
	}
	if (s->dir[0] != '\0')
		remove_tree(s->dir);
	s->dir[0] = '\0';
}

/* The server's NOTICEs are not findings: keep them off the terminal. */
static void
no_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Append " key='value'" to 'b', quoted as libpq's conninfo wants. */
static void
conn_kv(struct pgb_buf *b, const char *key, const char *val)
{
	pgb_buf_printf(b, "%s%s='", b->len ? " " : "", key);
	for (; *val; val++) {
		if (*val == '\'' || *val == '\\')
			pgb_buf_puts(b, "\\");
		pgb_buf_append(b, val, 1);
	}
	pgb_buf_puts(b, "'");
}

int
pgb_server_open(struct pgb_server *s, const char *conninfo,
    struct pgb_diag *d)
{
	PQconninfoOption	*opts, *o;
	struct pgb_buf		 all, nopw;

	memset(s, 0, sizeof(*s));
	if (pgb_db_connect(&s->admin, conninfo, 0, "pgbundle.history",
	    d) == -1) {
		pgb_db_close(&s->admin);
		return -1;
	}
	PQsetNoticeProcessor(s->admin.conn, no_notices, NULL);
	if ((opts = PQconninfo(s->admin.conn)) == NULL) {
		pgb_db_close(&s->admin);
		return pgb_fail(d, PGB_EINTERNAL, "out of memory");
	}
	pgb_buf_init(&all);
	pgb_buf_init(&nopw);
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0' ||
		    strcmp(o->keyword, "dbname") == 0 ||
		    strcmp(o->keyword, "fallback_application_name") == 0)
			continue;
		conn_kv(&all, o->keyword, o->val);
		if (strcmp(o->keyword, "password") == 0)
			s->password = pgb_xstrdup(o->val);
		else
			conn_kv(&nopw, o->keyword, o->val);
	}
	PQconninfoFree(opts);
	s->base = pgb_buf_steal(&all, NULL);
	s->base_nopw = pgb_buf_steal(&nopw, NULL);
	return 0;
}

void
pgb_server_close(struct pgb_server *s)
{
	pgb_db_close(&s->admin);
	free(s->base);
	free(s->base_nopw);
	if (s->password != NULL) {
		memset(s->password, 0, strlen(s->password));
		free(s->password);
	}
	memset(s, 0, sizeof(*s));
}

static int
exec_on(struct pgb_server *s, const char *fmt, const char *name,
    struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	char		*q;
	int		 rc;

	if ((q = PQescapeIdentifier(s->admin.conn, name, strlen(name))) == NULL)
		return pgb_fail(d, PGB_EINTERNAL, "cannot quote '%s'", name);
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, fmt, q);
	PQfreemem(q);
	rc = pgb_db_exec(&s->admin, sql.data, 0, NULL, NULL, d);
	pgb_buf_release(&sql);
	return rc;
}

int
pgb_server_newdb(struct pgb_server *s, struct pgb_db *db, const char *history,
    char *name, size_t namelen, struct pgb_diag *d)
{
	struct pgb_buf	 ci;
	int		 rc;

	memset(db, 0, sizeof(*db));
	snprintf(name, namelen, "pgbundle_scratch_%ld_%lld_%u", (long)getpid(),
	    (long long)time(NULL), ++s->made);
	if (exec_on(s, "CREATE DATABASE %s TEMPLATE template0", name,
	    d) == -1) {
		snprintf(d->msg, sizeof(d->msg), "cannot create scratch "
		    "database '%s'", name);
		return -1;
	}
	pgb_buf_init(&ci);
	pgb_buf_puts(&ci, s->base);
	conn_kv(&ci, "dbname", name);
	rc = pgb_db_connect(db, ci.data, 0, history, d);
	memset(ci.data, 0, ci.len);
	pgb_buf_release(&ci);
	if (rc == -1)
		pgb_server_dropdb(s, db, name);
	else
		PQsetNoticeProcessor(db->conn, no_notices, NULL);
	return rc;
}

/* Seconds a DROP DATABASE may take once pgbundle was interrupted. */
#define DROP_WAIT	30

void
pgb_server_dropdb(struct pgb_server *s, struct pgb_db *db, const char *name)
{
	struct pgb_diag	ignore;

	if (db != NULL)
		pgb_db_close(db);
	/* Interrupted or not, what this module made goes. */
	if (pgb_interrupted)
		pgb_db_cleanup(&s->admin, DROP_WAIT);
	(void)exec_on(s, s->admin.server_version >= 130000 ?
	    "DROP DATABASE IF EXISTS %s WITH (FORCE)" :
	    "DROP DATABASE IF EXISTS %s", name, &ignore);
}

char *
pgb_server_conninfo(const struct pgb_server *s, const char *name)
{
	struct pgb_buf	ci;

	pgb_buf_init(&ci);
	pgb_buf_puts(&ci, s->base_nopw);
	conn_kv(&ci, "dbname", name);
	return pgb_buf_steal(&ci, NULL);
}
