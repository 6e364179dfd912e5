/*
 * fleet.c - run one command on many databases: a child process per
 * target, at most -j N alive at once, each running main.c's
 * single-target code path on the bundle the parent verified once.
 *
 * Part of pgapply's front end, as main.c is: it prints.  Each child's
 * stdout and stderr come back through pipes and go out line by line,
 * prefixed with the target's name ("[name] "; on stdout with --json, a
 * "target" member opens each object instead); its result comes back
 * through a third pipe as a struct pgb_fleet_result.  The parent never
 * connects to a target, so one target cannot hold up or take down
 * another: a child that dies without a result counts as an internal
 * error (or as interrupted, once a signal was passed on).  SIGTERM and
 * SIGINT reach main.c's handler, which raises pgb_interrupted; the loop
 * here then starts no more targets and sends SIGTERM to each running
 * child, which cancels and rolls back as a single run does.  Should the
 * parent die, the kernel sends each child SIGTERM (PR_SET_PDEATHSIG), and
 * the child, whose output now goes nowhere, still rolls back and ends.
 *
 * Trusts: the results its own children send.  Bounds: a child's line is
 * relayed in pieces of at most RELAY_MAX bytes.
 */
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "db.h"
#include "fleet_local.h"
#include "json.h"
#include "text.h"
#include "banned.h"

#define RELAY_MAX	16384	/* a JSON event with its detail fits */
#define POLL_MS		200	/* how soon a signal is passed on */

struct stream {
	int	 fd;		/* -1: closed */
	int	 is_out;	/* the child's stdout */
	char	*buf;		/* RELAY_MAX bytes: a line not yet ended */
	size_t	 len;
};

struct pgb_slot {
	pid_t	 pid;		/* 0: free */
	size_t	 t;		/* index into the targets */
	struct stream out, err;
	int	 resfd;
	size_t	 got;		/* bytes of 'res' read */
	struct pgb_fleet_result res;
};

static const char *const fleet_cmds[] = { "plan", "apply", "status",
    "rollback", "accept", NULL };

int
pgb_fleet_cmd_ok(const char *cmd)
{
	size_t	i;

	for (i = 0; fleet_cmds[i] != NULL; i++)
		if (strcmp(cmd, fleet_cmds[i]) == 0)
			return 1;
	return 0;
}

/* From best to worst; a class not listed is internal. */
static const int rank[] = { PGB_OK, PGB_EPENDING, PGB_ERETRY, PGB_ECANCEL,
    PGB_ECONNECT, PGB_ECONFLICT, PGB_ESQL, PGB_EOPERATOR, PGB_EKEY,
    PGB_EBUNDLE, PGB_EUSAGE, PGB_EINTERNAL };

static size_t
rank_of(int code)
{
	size_t	i;

	for (i = 0; i < sizeof(rank) / sizeof(rank[0]); i++)
		if (rank[i] == code)
			return i;
	return sizeof(rank) / sizeof(rank[0]);
}

int
pgb_fleet_worse(int a, int b)
{
	return rank_of(b) > rank_of(a) ? b : a;
}

static int
parse_count(const char *s, long long max, long long *out)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return *end == '\0' && errno == 0 && *out >= 1 && *out <= max ? 0 :
	    -1;
}

/* "I/N": 0 <= I < N <= PGB_TARGETS_MAX. */
static int
parse_shard(const char *s, struct pgb_fleet_opts *o)
{
	const char	*slash = strchr(s, '/');
	char		 i[24];
	long long	 n;

	if (slash == NULL || slash == s || (size_t)(slash - s) >= sizeof(i))
		return -1;
	memcpy(i, s, (size_t)(slash - s));
	i[slash - s] = '\0';
	if (parse_count(slash + 1, PGB_TARGETS_MAX, &n) == -1)
		return -1;
	if (strcmp(i, "0") == 0)
		o->shard_i = 0;
	else if (i[0] == '0' || parse_count(i, n - 1, &o->shard_i) == -1)
		return -1;
	o->shard_n = n;
	return 0;
}

int
pgb_fleet_opt(struct pgb_fleet_opts *o, const char *name, const char *arg,
    struct pgb_diag *d)
{
	o->any = 1;
	if (strcmp(name, "targets") == 0)
		o->list = arg;
	else if (strcmp(name, "targets-query") == 0)
		o->query = arg;
	else if (strcmp(name, "fail-fast") == 0)
		o->fail_fast = 1;
	else if (strcmp(name, "keep-going") == 0)
		o->fail_fast = 0;
	else if (strcmp(name, "jobs") == 0) {
		if (parse_count(arg, PGB_JOBS_MAX, &o->jobs) == -1)
			return pgb_fail(d, PGB_EUSAGE, "-j '%s' is not a number "
			    "from 1 to %u", arg, PGB_JOBS_MAX);
	} else if (strcmp(name, "canary") == 0) {
		if (parse_count(arg, PGB_TARGETS_MAX, &o->canary) == -1)
			return pgb_fail(d, PGB_EUSAGE, "--canary '%s' is not a "
			    "number from 1 to %u", arg, PGB_TARGETS_MAX);
	} else if (strcmp(name, "shard") == 0) {
		if (parse_shard(arg, o) == -1)
			return pgb_fail(d, PGB_EUSAGE, "--shard '%s' is not I/N "
			    "with 0 <= I < N <= %u", arg, PGB_TARGETS_MAX);
	} else
		return pgb_fail(d, PGB_EUSAGE, "unknown fleet option '%s'",
		    name);
	return 0;
}

int
pgb_fleet_check(const struct pgb_fleet_opts *o, const char *cmd,
    const char *db, struct pgb_diag *d)
{
	struct pgb_buf	b;
	size_t		i;

	if (!o->any)
		return 0;
	if (o->list == NULL && o->query == NULL)
		return pgb_fail(d, PGB_EUSAGE, "-j, --canary, --fail-fast, "
		    "--keep-going and --shard need --targets or "
		    "--targets-query");
	if (o->list != NULL && o->query != NULL)
		return pgb_fail(d, PGB_EUSAGE, "--targets and --targets-query "
		    "exclude each other");
	if (!pgb_fleet_cmd_ok(cmd)) {
		pgb_buf_init(&b);
		for (i = 0; fleet_cmds[i] != NULL; i++)
			pgb_buf_printf(&b, "%s%s", i == 0 ? "" :
			    fleet_cmds[i + 1] == NULL ? " and " : ", ",
			    fleet_cmds[i]);
		pgb_fail(d, PGB_EUSAGE, "'%s' does not run on a fleet: "
		    "--targets works with %s", cmd, b.data);
		pgb_buf_release(&b);
		return -1;
	}
	if (o->list != NULL && db != NULL)
		return pgb_fail(d, PGB_EUSAGE, "--db names the control "
		    "database of --targets-query; with --targets each line "
		    "names its database");
	return 0;
}

/* --- in the child ------------------------------------------------------ */

static void
note_status(struct pgb_fleet_result *r, const struct pgb_event *ev)
{
	const char	*s = ev->state;
	long long	 v = ev->mig ? ev->mig->version : ev->row ?
	    ev->row->version : -1;

	if (strcmp(s, "pending") == 0)
		r->pending++;
	else if (strcmp(s, "failed") == 0)
		r->failed++;
	else if (strcmp(s, "drifted") == 0)
		r->drifted++;
	else if (strcmp(s, "missing") == 0)
		r->missing++;
	if (strcmp(s, "pending") != 0 && strcmp(s, "failed") != 0 &&
	    v > r->version)
		r->version = v;
}

int
pgb_fleet_note(struct pgb_fleet_result *r, const struct pgb_event *ev)
{
	switch (ev->kind) {
	case PGB_EV_BEGIN:
		if (ev->mig != NULL) {
			r->at = ev->mig->version;
			pgb_mig_label(ev->mig, r->at_label,
			    sizeof(r->at_label));
		}
		return 0;
	case PGB_EV_APPLIED:
	case PGB_EV_REVERTED:
		r->at = -1;
		r->at_label[0] = '\0';
		r->count++;
		return 0;
	case PGB_EV_PENDING:
	case PGB_EV_DOWN:
	case PGB_EV_RECORDED:
	case PGB_EV_ACCEPTED:
		r->count++;
		return 0;
	case PGB_EV_STATUS:
		note_status(r, ev);
		return 1;
	case PGB_EV_SUMMARY:
		/* status --check decides after this: its rows still count. */
		if (strncmp(ev->state, "status", 6) == 0)
			r->listed = 1;
		return strcmp(ev->state, "status") == 0;
	default:
		return 0;
	}
}

/*
 * Why a connection that retrying will not make failed, from the first
 * line of libpq's message in 'detail': 'database "x" does not exist'
 * out of 'connection to server at "h", port 5432 failed: FATAL:  database
 * "x" does not exist'.  NULL when the detail is empty.
 */
static const char *
connect_reason(const char *detail)
{
	const char	*p = detail, *q;

	if (*p == '\0')
		return NULL;
	if (strncmp(p, "connection to server ", 21) == 0 &&
	    (q = strstr(p, " failed: ")) != NULL)
		p = q + 9;
	if ((q = strstr(p, ":  ")) != NULL && q - p <= 7)
		p = q + 3;		/* FATAL:  */
	if (strspn(p, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5 &&
	    p[5] == ':' && p[6] == ' ')
		p += 7;			/* an SQLSTATE, in verbose mode */
	return p;
}

void
pgb_fleet_failed(struct pgb_fleet_result *r, const struct pgb_diag *d,
    int exit)
{
	const char	*why = NULL;

	r->code = d->code != 0 ? d->code : PGB_EINTERNAL;
	r->exit = exit;
	if (r->code == PGB_ECONNECT)
		why = connect_reason(d->detail);
	pgb_text_clean(r->msg, sizeof(r->msg), why != NULL ? why : d->msg);
}

static void
write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

/* Never returns: run the command on target 't', send the result, exit. */
static void
child(struct pgb_fleet *f, size_t t, int out, int err, int res)
{
	struct pgb_fleet_result	r;
	size_t			i;

#ifdef __linux__
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	if (getppid() != f->parent)
		_exit(1);
	/* With the parent gone, a write fails: still roll back and leave. */
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < f->nslots; i++) {
		if (f->slots[i].pid == 0)
			continue;
		close(f->slots[i].out.fd);
		close(f->slots[i].err.fd);
		close(f->slots[i].resfd);
	}
	if (dup2(out, STDOUT_FILENO) == -1 || dup2(err, STDERR_FILENO) == -1)
		_exit(1);
	close(out);
	close(err);
	memset(&r, 0, sizeof(r));
	r.at = -1;
	r.version = -1;
	r.exit = f->h->run(f->h->ctx, &f->ts->v[t], &r);
	if (r.exit == 0)
		r.code = 0;
	else if (r.code == 0)
		r.code = PGB_EINTERNAL;
	fflush(stdout);
	fflush(stderr);
	write_all(res, &r, sizeof(r));
	_exit(r.exit);
}

/* --- in the parent: output ------------------------------------------------ */

static void
relay_line(struct pgb_fleet *f, const char *name, const struct stream *st,
    const char *line, size_t n)
{
	FILE	*to = st->is_out ? stdout : stderr;

	if (st->is_out && f->json && n > 0 && line[0] == '{') {
		fputs("{\"target\":", to);
		pgb_json_str(to, name);
		if (n > 1 && line[1] != '}')
			fputc(',', to);
		fwrite(line + 1, 1, n - 1, to);
	} else {
		fprintf(to, "[%s] ", name);
		fwrite(line, 1, n, to);
	}
	fputc('\n', to);
}

/* Read what the child wrote; relay each whole line.  EOF closes it. */
static void
relay(struct pgb_fleet *f, struct pgb_slot *s, struct stream *st)
{
	const char	*name = f->ts->v[s->t].name;
	char		*nl, *p;
	ssize_t		 r;

	r = read(st->fd, st->buf + st->len, RELAY_MAX - st->len);
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		if (st->len > 0)
			relay_line(f, name, st, st->buf, st->len);
		st->len = 0;
		close(st->fd);
		st->fd = -1;
		fflush(st->is_out ? stdout : stderr);
		return;
	}
	st->len += (size_t)r;
	p = st->buf;
	while ((nl = memchr(p, '\n', st->len - (size_t)(p - st->buf))) !=
	    NULL) {
		relay_line(f, name, st, p, (size_t)(nl - p));
		p = nl + 1;
	}
	st->len -= (size_t)(p - st->buf);
	memmove(st->buf, p, st->len);
	if (st->len == RELAY_MAX) {
		relay_line(f, name, st, st->buf, st->len);
		st->len = 0;
	}
	fflush(st->is_out ? stdout : stderr);
}

/* --- in the parent: the children ------------------------------------------ */

static void
close_pipes(int *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (p[i] >= 0)
			close(p[i]);
}

/* Start target 't' in slot 's'.  -1 with errno when it cannot. */
static int
start(struct pgb_fleet *f, struct pgb_slot *s, size_t t)
{
	int	p[6] = { -1, -1, -1, -1, -1, -1 };
	pid_t	pid;

	if (pipe(p) == -1 || pipe(p + 2) == -1 || pipe(p + 4) == -1) {
		close_pipes(p, 6);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		close_pipes(p, 6);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		close(p[2]);
		close(p[4]);
		child(f, t, p[1], p[3], p[5]);
	}
	close(p[1]);
	close(p[3]);
	close(p[5]);
	s->pid = pid;
	s->t = t;
	s->out.fd = p[0];
	s->err.fd = p[2];
	s->resfd = p[4];
	s->out.len = s->err.len = 0;
	s->got = 0;
	f->state[t] = PGB_T_RUNNING;
	f->running++;
	return 0;
}

/* Count target 't''s result: fail-fast and the canaries look at it. */
static void
ended(struct pgb_fleet *f, size_t t)
{
	f->state[t] = PGB_T_DONE;
	if (f->res[t].code != 0) {
		if (f->o->fail_fast)
			f->stop = 1;
		if (t < f->canary)
			f->canary_failed = 1;
	}
	if (f->json)
		pgb_fleet_json_target(f, t);
}

static void
launch(struct pgb_fleet *f)
{
	struct pgb_fleet_result *r;
	size_t	i;

	while (!f->stop && !pgb_interrupted && f->running < f->nslots &&
	    f->next < f->ts->n) {
		/* The rest waits until every canary has succeeded. */
		if (f->canary > 0 && f->next == f->canary) {
			if (f->running > 0)
				return;
			if (f->canary_failed) {
				f->stop = 1;
				return;
			}
		}
		for (i = 0; f->slots[i].pid != 0; i++)
			;
		if (start(f, &f->slots[i], f->next) == -1) {
			r = &f->res[f->next];
			r->code = PGB_EINTERNAL;
			r->exit = f->h->exit_for(PGB_EINTERNAL);
			snprintf(r->msg, sizeof(r->msg), "cannot start a "
			    "process for it: %s", strerror(errno));
			ended(f, f->next);
		}
		f->next++;
	}
}

static void
forward(struct pgb_fleet *f)
{
	size_t	i;

	for (i = 0; i < f->nslots; i++)
		if (f->slots[i].pid != 0)
			kill(f->slots[i].pid, SIGTERM);
	f->forwarded = 1;
	f->stop = 1;
}

/* The child of slot 's' closed every pipe: reap it, keep its result. */
static void
reap(struct pgb_fleet *f, struct pgb_slot *s)
{
	struct pgb_fleet_result *r = &f->res[s->t];
	int	st = 0;

	while (waitpid(s->pid, &st, 0) == -1 && errno == EINTR)
		;
	if (s->got == sizeof(*r)) {
		*r = s->res;
	} else {
		r->exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
		    WTERMSIG(st);
		r->code = f->forwarded ? PGB_ECANCEL : PGB_EINTERNAL;
		if (WIFSIGNALED(st))
			snprintf(r->msg, sizeof(r->msg), "pgapply ended by "
			    "signal %d", WTERMSIG(st));
		else
			snprintf(r->msg, sizeof(r->msg), "pgapply ended with "
			    "status %d%s", r->exit, f->forwarded ?
			    " (interrupted)" : " and no result");
	}
	s->pid = 0;
	f->running--;
	ended(f, s->t);
}

static void
read_result(struct pgb_slot *s)
{
	ssize_t	r;

	r = read(s->resfd, (char *)&s->res + s->got, sizeof(s->res) - s->got);
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r > 0) {
		s->got += (size_t)r;
		if (s->got < sizeof(s->res))
			return;
	}
	close(s->resfd);
	s->resfd = -1;
}

/* Wait up to POLL_MS for output of any child; relay it; reap the done. */
static void
pump(struct pgb_fleet *f)
{
	struct pgb_slot	*s;
	size_t		 i, k = 0;

	for (i = 0; i < f->nslots; i++) {
		s = &f->slots[i];
		if (s->pid == 0)
			continue;
		f->pfd[k].fd = s->out.fd;
		f->pfd[k + 1].fd = s->err.fd;
		f->pfd[k + 2].fd = s->resfd;	/* poll skips fd -1 */
		f->pfd[k].events = f->pfd[k + 1].events =
		    f->pfd[k + 2].events = POLLIN;
		k += 3;
	}
	if (poll(f->pfd, k, POLL_MS) <= 0)
		return;
	for (i = 0, k = 0; i < f->nslots; i++) {
		s = &f->slots[i];
		if (s->pid == 0)
			continue;
		if (f->pfd[k].revents != 0)
			relay(f, s, &s->out);
		if (f->pfd[k + 1].revents != 0)
			relay(f, s, &s->err);
		if (f->pfd[k + 2].revents != 0)
			read_result(s);
		k += 3;
		if (s->out.fd < 0 && s->err.fd < 0 && s->resfd < 0)
			reap(f, s);
	}
}

static void
setup(struct pgb_fleet *f, size_t jobs)
{
	size_t	i;

	f->nslots = jobs < f->ts->n ? jobs : f->ts->n;
	f->res = pgb_xcalloc(f->ts->n, sizeof(*f->res));
	for (i = 0; i < f->ts->n; i++)
		f->res[i].at = f->res[i].version = -1;
	f->state = pgb_xcalloc(f->ts->n, 1);
	f->slots = pgb_xcalloc(f->nslots, sizeof(*f->slots));
	f->pfd = pgb_xcalloc(f->nslots * 3, sizeof(*f->pfd));
	for (i = 0; i < f->nslots; i++) {
		f->slots[i].out.buf = pgb_xmalloc(RELAY_MAX);
		f->slots[i].err.buf = pgb_xmalloc(RELAY_MAX);
		f->slots[i].out.is_out = 1;
	}
	f->parent = getpid();
}

static void
teardown(struct pgb_fleet *f)
{
	size_t	i;

	for (i = 0; i < f->nslots; i++) {
		free(f->slots[i].out.buf);
		free(f->slots[i].err.buf);
	}
	free(f->slots);
	free(f->pfd);
	free(f->state);
	free(f->res);
}

int
pgb_fleet_run(const char *cmd, const struct pgb_fleet_opts *o,
    const struct pgb_targets *ts, int json, int quiet,
    const struct pgb_fleet_hooks *h)
{
	struct pgb_fleet	f;
	size_t		t;
	int		worst = 0;

	memset(&f, 0, sizeof(f));
	f.cmd = cmd;
	f.ts = ts;
	f.o = o;
	f.h = h;
	f.json = json;
	f.quiet = quiet;
	f.canary = o->canary > 0 ? (size_t)o->canary : 0;
	setup(&f, o->jobs > 0 ? (size_t)o->jobs : 1);
	pgb_fleet_announce(&f);
	for (;;) {
		if (pgb_interrupted && !f.forwarded)
			forward(&f);
		launch(&f);
		if (f.running == 0)
			break;
		pump(&f);
	}
	for (t = 0; t < ts->n; t++) {
		if (f.state[t] == PGB_T_WAITING) {
			f.state[t] = PGB_T_SKIPPED;
			if (json)
				pgb_fleet_json_target(&f, t);
		}
		if (f.state[t] == PGB_T_DONE)
			worst = pgb_fleet_worse(worst, f.res[t].code);
	}
	if (pgb_interrupted)
		worst = pgb_fleet_worse(worst, PGB_ECANCEL);
	pgb_fleet_summary(&f, worst);
	teardown(&f);
	return worst;
}
