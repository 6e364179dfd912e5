/*
 * main.c - pgapply: verify a bundle, then plan, apply or show status.
 *
 * The only file of the runtime that prints or exits.  Progress and errors
 * go to stderr; stdout carries only what a script would parse (the plan,
 * the status, or one JSON object per event with --json).  The table of
 * commands at the end (cmd.h) names each command's step, the options it
 * takes, its synopsis and its exit statuses; parsing, usage errors and
 * every help page follow from it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "bounds.h"
#include "bundle.h"
#include "cmd.h"
#include "conninfo.h"
#include "json.h"
#include "db.h"
#include "text.h"
#include "fleet.h"
#include "banned.h"

/* Exit statuses: stable, one per class of outcome (see --help). */
#define EXIT_OK		0
#define EXIT_INTERNAL	1
#define EXIT_USAGE	2
#define EXIT_BUNDLE	3
#define EXIT_CONFLICT	4
#define EXIT_SQL	5
#define EXIT_OPERATOR	6
#define EXIT_CANCEL	7
#define EXIT_CONNECT	8
#define EXIT_PENDING	9
#define EXIT_RETRY	75

/* The keys of the options in the table below (letters are -X too). */
enum { OPT_PUBKEY = 256, OPT_SIGNATURE, OPT_UNSIGNED, OPT_TARGET, OPT_DB,
	OPT_WAIT, OPT_HISTORY, OPT_TO, OPT_LOCK_WAIT, OPT_LOCK_TIMEOUT,
	OPT_STMT_TIMEOUT, OPT_LOCK_RETRIES, OPT_OOO, OPT_RETRY_FAILED,
	OPT_SINGLE, OPT_JSON, OPT_VERSION, OPT_VERSION_N, OPT_STEPS, OPT_FROM,
	OPT_TABLE, OPT_MIN_SIGS, OPT_TRUST, OPT_ROLE, OPT_DB_FILE,
	OPT_NO_VERIFY, OPT_REASON, OPT_ADOPT_FROM, OPT_MAP, OPT_CHECK,
	OPT_SYNC_EACH, OPT_TARGETS, OPT_TARGETS_QUERY, OPT_KEEP_GOING,
	OPT_FAIL_FAST, OPT_CANARY, OPT_SHARD };

struct pgb_cmd_args {
	const struct pgb_command *c;	/* the command's table entry */
	const char	*cmd;		/* its name */
	const char	*file;
	const char	*pubkeys[PGB_KEYS_MAX];
	size_t		 npubkeys;
	const char	*sigpaths[PGB_KEYS_MAX];
	size_t		 nsigpaths;
	const char	*trust;
	long long	 min_sigs;	/* --min-signatures; 0: not given */
	int		 allow_unsigned;
	const char	*target;
	const char	*db;
	const char	*db_file;	/* --db-file */
	char		*db_read;	/* the conninfo read from it */
	int		 wait;
	const char	*history;
	const char	*role;		/* --role: SET ROLE after connecting */
	const char	*from;		/* adopt */
	const char	*table;
	long long	 version;	/* baseline, accept */
	const char	*reason;	/* accept */
	int		 has_version;
	int		 json, quiet;
	long long	 stmt_ms;	/* --statement-timeout, parsed */
	struct pgb_apply_opts ao;
	struct pgb_fleet_opts fleet;
	struct pgb_bundle *bundle;	/* verified once, also for a fleet */
	struct pgb_db	*conn;		/* a command's database, connected */
	struct pgb_diag	*d;		/* where a command's step says why */
	struct pgb_fleet_result *res;	/* in a fleet's child: its result */
};

/* Set while libpq connects; 'json' mirrors --json for the handler. */
static volatile sig_atomic_t connecting, json;

/*
 * The poll loop in db.c sends the cancel request and bounds the wait for
 * its answer, so the handler only raises the flag: PQcancel here would
 * block on a frozen postmaster.  libpq's connect has no such loop and
 * waits for a server's answer for ever; no transaction exists yet then,
 * so a signal ends the process at once.
 */
static void
on_signal(int sig)
{
	static const char	msg[] = "pgapply: interrupted while connecting "
	    "to the database\n";
	static const char	ev[] = "{\"event\":\"error\",\"exit\":7,"
	    "\"message\":\"interrupted while connecting to the database\","
	    "\"detail\":\"\"}\n";
	ssize_t			n;

	(void)sig;
	pgb_interrupted = 1;
	if (!connecting)
		return;
	if (json)
		n = write(STDOUT_FILENO, ev, sizeof(ev) - 1);
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	_exit(EXIT_CANCEL);
}

/*
 * The first failed write to pgapply's own output: which stream, and
 * errno then.  From then on pgapply stops as on SIGTERM.
 */
static const char	*out_failed;
static int		 out_errno;

/*
 * Flush stdout and stderr and check both.  0 while they work; -1 once
 * either failed (a closed pipe, a full disk): nothing new starts after
 * that, and the migration in flight rolls back.
 */
static int
out_check(void)
{
	if (out_failed != NULL)
		return -1;
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		out_failed = "stdout";
	else if (fflush(stderr) == EOF || ferror(stderr))
		out_failed = "stderr";
	else
		return 0;
	out_errno = errno;
	pgb_interrupted = 1;
	return -1;
}

/* 's' to stderr, safe for a terminal. */
static void
eputs(const char *s)
{
	pgb_text_write(stderr, s, strlen(s));
}

static int
exit_for(int code)
{
	switch (code) {
	case PGB_OK:
		return EXIT_OK;
	case PGB_EUSAGE:
		return EXIT_USAGE;
	case PGB_EKEY:
	case PGB_EBUNDLE:
		return EXIT_BUNDLE;
	case PGB_ECONFLICT:
		return EXIT_CONFLICT;
	case PGB_ESQL:
		return EXIT_SQL;
	case PGB_EOPERATOR:
		return EXIT_OPERATOR;
	case PGB_ECANCEL:
		return EXIT_CANCEL;
	case PGB_ERETRY:
		return EXIT_RETRY;
	case PGB_ECONNECT:
		return EXIT_CONNECT;
	case PGB_EPENDING:
		return EXIT_PENDING;
	default:
		return EXIT_INTERNAL;
	}
}

/*
 * What a failed write to pgapply's own output made of the run: when it
 * stopped for that reason (or finished), an internal error whose detail
 * keeps what 'd' said; else 'd' itself.
 */
static const struct pgb_diag *
own_output_failed(const struct pgb_diag *d, struct pgb_diag *own)
{
	char	was[sizeof(d->msg)];

	if (out_failed == NULL || (d->code != 0 && d->code != PGB_ECANCEL))
		return d;
	snprintf(was, sizeof(was), "%s", d->msg);
	pgb_fail(own, PGB_EINTERNAL, "internal error: I/O on pgapply's own "
	    "output: cannot write to %s: %s", out_failed, out_errno ?
	    strerror(out_errno) : "write error");
	if (d->code != 0)
		pgb_detail(own, "pgapply stopped as on SIGTERM: %s", was);
	return own;
}

/* 's' as a JSON string, or null when it is empty. */
static void
json_or_null(const char *s)
{
	if (*s != '\0')
		pgb_json_str(stdout, s);
	else
		printf("null");
}

/* Print the error once: human text on stderr, plus a JSON event. */
static int
fail(const struct pgb_cmd_args *a, const struct pgb_diag *d)
{
	struct pgb_diag	 own;
	const char	*p, *nl;
	int		 rc;

	d = own_output_failed(d, &own);
	rc = exit_for(d->code);
	if (a->res != NULL)
		pgb_fleet_failed(a->res, d, rc);
	fputs("pgapply: ", stderr);
	eputs(d->msg);
	fputs("\n", stderr);
	for (p = d->detail; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		fputs("  ", stderr);
		pgb_text_write(stderr, p, (size_t)(nl - p));
		fputs("\n", stderr);
	}
	if (a->json && (out_failed == NULL || strcmp(out_failed, "stdout"))) {
		printf("{\"event\":\"error\",\"exit\":%d,\"message\":", rc);
		pgb_json_str(stdout, d->msg);
		printf(",\"detail\":");
		pgb_json_str(stdout, d->detail);
		if (d->sqlstate[0]) {
			printf(",\"sqlstate\":");
			pgb_json_str(stdout, d->sqlstate);
			printf(",\"server_detail\":");
			json_or_null(d->server_detail);
			printf(",\"hint\":");
			json_or_null(d->hint);
		}
		printf("}\n");
	}
	(void)out_check();
	return rc;
}

/* What accept recorded, as JSON fields. */
static void
json_accepted(const struct pgb_event *ev)
{
	printf(",\"origin\":\"accepted\",\"previous_checksum\":");
	pgb_json_str(stdout, ev->previous);
	printf(",\"reason\":");
	pgb_json_str(stdout, ev->reason);
}

static const char *
mode_name(enum pgb_mode m)
{
	return m == PGB_MODE_NOTX ? "no-transaction" : "transaction";
}

static void
json_mig(const struct pgb_event *ev)
{
	/* A rollback runs the down script: its mode and statements. */
	const struct pgb_script *sc = ev->mig == NULL ? NULL :
	    ev->kind == PGB_EV_DOWN || ev->kind == PGB_EV_REVERTED ||
	    (ev->kind == PGB_EV_BEGIN && ev->state != NULL &&
	    strcmp(ev->state, "revert") == 0) ? &ev->mig->down : &ev->mig->up;

	if (ev->mig != NULL) {
		printf(",\"version\":%lld,\"name\":", ev->mig->version);
		pgb_json_str(stdout, ev->mig->name);
		printf(",\"mode\":\"%s\",\"statements\":%zu",
		    mode_name(sc->mode), sc->nstmts);
	} else if (ev->row != NULL) {
		printf(",\"version\":%lld,\"name\":", ev->row->version);
		pgb_json_str(stdout, ev->row->name);
	}
}

static void
emit_json(const struct pgb_event *ev)
{
	static const char *const names[] = { "pending", "begin", "applied",
	    "retry", "status", "summary", "down", "reverted", "recorded",
	    "accepted" };

	printf("{\"event\":\"%s\"", names[ev->kind]);
	json_mig(ev);
	switch (ev->kind) {
	case PGB_EV_APPLIED:
	case PGB_EV_REVERTED:
		printf(",\"duration_ms\":%lld", ev->duration_ms);
		break;
	case PGB_EV_RECORDED:
		printf(",\"origin\":\"%s\"", ev->state);
		break;
	case PGB_EV_RETRY:
		printf(",\"attempt\":%zu", ev->count);
		break;
	case PGB_EV_STATUS:
		printf(",\"state\":\"%s\"", ev->state);
		if (ev->row != NULL) {
			printf(",\"applied_at\":");
			pgb_json_str(stdout, ev->row->applied_at);
			printf(",\"statements_done\":%d", ev->row->done);
		}
		if (ev->reason != NULL)
			json_accepted(ev);
		break;
	case PGB_EV_ACCEPTED:
		printf(",\"checksum\":");
		pgb_json_str(stdout, ev->checksum);
		json_accepted(ev);
		printf(",\"followed\":%zu", ev->count);
		break;
	case PGB_EV_SUMMARY:
		/* status-empty: a status that found no history at all. */
		printf(",\"command\":\"%s\",\"count\":%zu%s",
		    strcmp(ev->state, "status-empty") == 0 ? "status" :
		    ev->state, ev->count, strcmp(ev->state, "status-empty") ==
		    0 ? ",\"history\":\"empty\"" : "");
		break;
	default:
		break;
	}
	printf("}\n");
}

/* A migration's label, safe for a terminal, in 'out'. */
static const char *
label_of(const struct pgb_migration *m, char *out, size_t len)
{
	char	raw[PGB_NAME_MAX + 8];

	return pgb_text_clean(out, len, pgb_mig_label(m, raw, sizeof(raw)));
}

/*
 * A status row's migration by version and name, as the history holds
 * them, so that status names it the same with FILE or without (a file's
 * own label, "001_a", cannot be had from the history); safe for a
 * terminal, as a history name may be anything at all.
 */
static const char *
status_label(const struct pgb_event *ev, char *out, size_t len)
{
	char		 raw[PGB_NAME_MAX + 32];
	long long	 v = ev->mig ? ev->mig->version : ev->row->version;
	const char	*name = ev->mig ? ev->mig->name : ev->row->name;

	snprintf(raw, sizeof(raw), "%lld%s%.*s", v, name[0] ? "_" : "",
	    PGB_CUT(name, PGB_NAME_MAX), name);
	return pgb_text_clean(out, len, raw);
}

static void
emit_human(const struct pgb_cmd_args *a, const struct pgb_event *ev)
{
	char	label[4 * PGB_NAME_MAX], raw[PGB_NAME_MAX + 32];
	char	when[128];

	switch (ev->kind) {
	case PGB_EV_PENDING:
		printf("pending  %-40s %-14s %zu statement%s%s\n",
		    label_of(ev->mig, label, sizeof(label)),
		    mode_name(ev->mig->up.mode), ev->mig->up.nstmts,
		    ev->mig->up.nstmts == 1 ? "" : "s",
		    ev->row ? " (resume with --retry-failed)" : "");
		break;
	case PGB_EV_APPLIED:
		if (!a->quiet)
			fprintf(stderr, "pgapply: applied %s (%lld ms)\n",
			    label_of(ev->mig, label, sizeof(label)),
			    ev->duration_ms);
		break;
	case PGB_EV_DOWN:
		printf("down     %-40s %-14s %zu statement%s\n",
		    label_of(ev->mig, label, sizeof(label)),
		    mode_name(ev->mig->down.mode), ev->mig->down.nstmts,
		    ev->mig->down.nstmts == 1 ? "" : "s");
		break;
	case PGB_EV_REVERTED:
		if (!a->quiet)
			fprintf(stderr, "pgapply: reverted %s (%lld ms)\n",
			    label_of(ev->mig, label, sizeof(label)),
			    ev->duration_ms);
		break;
	case PGB_EV_RECORDED:
		if (!a->quiet)
			fprintf(stderr, "pgapply: recorded %s as applied (%s)\n",
			    label_of(ev->mig, label, sizeof(label)),
			    ev->state);
		break;
	case PGB_EV_RETRY:
		if (!a->quiet)
			fprintf(stderr, "pgapply: %s hit lock_timeout; retry "
			    "%zu\n", label_of(ev->mig, label, sizeof(label)),
			    ev->count);
		break;
	case PGB_EV_STATUS:
		status_label(ev, label, sizeof(label));
		printf("%-8s %-40s %s", ev->state, label, ev->row ?
		    pgb_text_clean(when, sizeof(when), ev->row->applied_at) :
		    "");
		/* What accept recorded comes from the history table too. */
		if (ev->reason != NULL)
			printf("  accepted (was %.19s...): %s",
			    pgb_text_clean(when, sizeof(when), ev->previous),
			    pgb_text_clean(label, sizeof(label), ev->reason));
		printf("\n");
		break;
	case PGB_EV_ACCEPTED:
		if (a->quiet)
			break;
		if (ev->mig != NULL)
			label_of(ev->mig, label, sizeof(label));
		else {
			snprintf(raw, sizeof(raw), "%lld_%s", ev->row->version,
			    ev->row->name);
			pgb_text_clean(label, sizeof(label), raw);
		}
		fprintf(stderr, "pgapply: accepted %s: the history now holds "
		    "%.19s... (was %.19s...), not run\n", label, ev->checksum,
		    pgb_text_clean(when, sizeof(when), ev->previous));
		if (ev->count > 0)
			fprintf(stderr, "pgapply: %zu later applied migration%s "
			    "follow%s it\n", ev->count, ev->count == 1 ? "" :
			    "s", ev->count == 1 ? "s" : "");
		break;
	case PGB_EV_SUMMARY:
		if (a->quiet)
			break;
		if (strcmp(ev->state, "apply") == 0)
			fprintf(stderr, ev->count == 0 ? "pgapply: nothing to "
			    "do: the database is up to date\n" :
			    "pgapply: applied %zu migration%s\n", ev->count,
			    ev->count == 1 ? "" : "s");
		else if (strcmp(ev->state, "plan") == 0)
			fprintf(stderr, "pgapply: %zu migration%s pending\n",
			    ev->count, ev->count == 1 ? "" : "s");
		else if (strcmp(ev->state, "plan-rollback") == 0)
			fprintf(stderr, "pgapply: %zu migration%s to roll "
			    "back\n", ev->count, ev->count == 1 ? "" : "s");
		else if (strcmp(ev->state, "rollback") == 0)
			fprintf(stderr, ev->count == 0 ? "pgapply: nothing to "
			    "roll back\n" : "pgapply: rolled back %zu "
			    "migration%s\n", ev->count, ev->count == 1 ? "" :
			    "s");
		else if (strcmp(ev->state, "accept") == 0) {
			if (ev->count == 0)
				fprintf(stderr, "pgapply: nothing to accept: "
				    "migration %lld already has the bundle's "
				    "checksum\n", ev->row->version);
		} else if (strcmp(ev->state, "status-empty") == 0)
			fprintf(stderr, "pgapply: no migration recorded: the "
			    "history table does not exist yet or is empty\n");
		else if (strcmp(ev->state, "status") != 0)
			fprintf(stderr, "pgapply: recorded %zu migration%s "
			    "(%s)\n", ev->count, ev->count == 1 ? "" : "s",
			    ev->state);
		break;
	default:
		break;
	}
}

/* A JSON string member, or null. */
static void
json_member(const char *key, const char *val)
{
	printf(",\"%s\":", key);
	if (val != NULL)
		pgb_json_str(stdout, val);
	else
		printf("null");
}

/*
 * A wait goes on (db.c calls this when it starts and every few seconds):
 * one line on stderr, or one "waiting" object under --json.
 */
static void
on_wait(void *ctx, const struct pgb_wait *w)
{
	const struct pgb_cmd_args	*a = ctx;
	char			 line[768];

	if (a->json) {
		printf("{\"event\":\"waiting\",\"for\":\"%s\",\"elapsed_s\":%d,"
		    "\"limit_s\":%d", w->what, w->elapsed, w->limit);
		if (strcmp(w->what, "server") == 0)
			json_member("message", w->message);
		else {
			json_member("table", w->message);
			if (w->pid != NULL) {
				printf(",\"holder\":{\"pid\":%ld",
				    strtol(w->pid, NULL, 10));
				json_member("application_name", w->app);
				json_member("client_addr", w->addr);
				json_member("backend_start", w->since);
				printf("}");
			} else
				printf(",\"holder\":null");
		}
		printf("}\n");
	} else if (!a->quiet) {
		if (strcmp(w->what, "server") == 0)
			snprintf(line, sizeof(line), "pgapply: waiting for the "
			    "database (%d s of %d): %s", w->elapsed,
			    w->limit, w->message);
		else if (w->pid != NULL)
			snprintf(line, sizeof(line), "pgapply: waiting for the "
			    "lock on %s (%d s of %d): held by pid %s "
			    "(application_name '%.64s', %s%s%sconnected since "
			    "%s)", w->message, w->elapsed, w->limit, w->pid,
			    w->app, w->addr ? "from " : "", w->addr ? w->addr :
			    "", w->addr ? ", " : "", w->since);
		else
			snprintf(line, sizeof(line), "pgapply: waiting for the "
			    "lock on %s (%d s of %d): another session holds "
			    "it", w->message, w->elapsed, w->limit);
		eputs(line);
		fputs("\n", stderr);
	}
	(void)out_check();
}

static void
on_event(void *ctx, const struct pgb_event *ev)
{
	const struct pgb_cmd_args *a = ctx;

	if (a->res != NULL && pgb_fleet_note(a->res, ev))
		return;
	if (a->json)
		emit_json(ev);
	else
		emit_human(a, ev);
	(void)out_check();
}

static int
parse_int(const char *s, long long min, long long max, long long *out)
{
	char	*end;

	if (*s == '\0' || *s == '-' || *s == '+')
		return -1;
	*out = strtoll(s, &end, 10);
	return *end == '\0' && *out >= min && *out <= max ? 0 : -1;
}

static int
open_bundle(const struct pgb_cmd_args *a, struct pgb_bundle **b, struct pgb_diag *d)
{
	struct pgb_bundle_opts	o;
	const char		*env = getenv("PGAPPLY_PUBKEY");
	const char		*envkeys[1];

	memset(&o, 0, sizeof(o));
	o.path = a->file;
	o.sigpaths = a->sigpaths;
	o.nsigpaths = a->nsigpaths;
	o.pubkeys = a->pubkeys;
	o.npubkeys = a->npubkeys;
	o.trust = a->trust;
	o.min_signatures = (size_t)a->min_sigs;
	if (a->npubkeys == 0 && a->trust == NULL && env != NULL &&
	    *env != '\0') {
		envkeys[0] = env;
		o.pubkeys = envkeys;
		o.npubkeys = 1;
	}
	o.allow_unsigned = a->allow_unsigned;
	o.expect_target = a->target;
	/* verify checks every script as the others do, and runs none. */
	o.check_only = strcmp(a->cmd, "verify") == 0;
	return pgb_bundle_open(&o, b, d);
}

/* 1 if the manifest's recorded signer is a key id none of the signers has. */
static int
other_signer(const struct pgb_bundle *b)
{
	const char	*rec = b->manifest.key_id;
	size_t		 i;

	if (rec == NULL || strcmp(rec, "unsigned") == 0 || b->nsigners == 0)
		return 0;
	for (i = 0; i < b->nsigners; i++)
		if (strcmp(b->signers[i], rec) == 0)
			return 0;
	return 1;
}

/* pgapply verify: the bundle, who signed it, and the recorded signer. */
static void
report_verified(const struct pgb_cmd_args *a, const struct pgb_bundle *b)
{
	size_t	i;

	if (a->json) {
		printf("{\"event\":\"verified\",\"bundle_id\":\"%s\","
		    "\"key_id\":\"%s\",\"signers\":[", b->manifest.bundle_id,
		    b->key_id);
		for (i = 0; i < b->nsigners; i++)
			printf("%s\"%s\"", i ? "," : "", b->signers[i]);
		printf("],\"required\":%zu,\"recorded_signer\":",
		    b->required);
		pgb_json_str(stdout, b->manifest.key_id ? b->manifest.key_id :
		    "unsigned");
		printf(",\"migrations\":%zu}\n", b->manifest.nmigs);
		fflush(stdout);
	}
	if (a->quiet)
		return;
	fprintf(stderr, "pgapply: %s: ok, %zu migrations, bundle id %.16s, ",
	    a->file, b->manifest.nmigs, b->manifest.bundle_id);
	if (b->nsigners == 0)
		fputs("unsigned", stderr);
	else
		fprintf(stderr, "signed by key%s ", b->nsigners == 1 ? "" : "s");
	for (i = 0; i < b->nsigners; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", b->signers[i]);
	if (b->required > 1)
		fprintf(stderr, " (%zu required)", b->required);
	fputc('\n', stderr);
	if (other_signer(b))
		fprintf(stderr, "pgapply: note: the bundle names key %s as its "
		    "signer, which did not sign it\n", b->manifest.key_id);
}

/* The steps of the commands on a database, connected: the table's handlers. */
static const struct pgb_manifest *
manifest(const struct pgb_cmd_args *a)
{
	return a->bundle != NULL ? &a->bundle->manifest : NULL;
}

static int
do_plan(struct pgb_cmd_args *a)
{
	return pgb_plan(a->conn, manifest(a), &a->ao, a->d);
}

static int
do_apply(struct pgb_cmd_args *a)
{
	a->ao.session_ends = 1;		/* pgb_db_close() follows */
	return pgb_apply(a->conn, manifest(a), &a->ao, a->d);
}

static int
do_status(struct pgb_cmd_args *a)
{
	return pgb_status(a->conn, manifest(a), &a->ao, a->d);
}

static int
do_rollback(struct pgb_cmd_args *a)
{
	return pgb_rollback(a->conn, manifest(a), &a->ao, a->d);
}

static int
do_baseline(struct pgb_cmd_args *a)
{
	return pgb_baseline(a->conn, manifest(a), &a->ao, a->version, a->d);
}

static int
do_adopt(struct pgb_cmd_args *a)
{
	return pgb_adopt(a->conn, manifest(a), &a->ao, a->from, a->table,
	    a->d);
}

static int
do_accept(struct pgb_cmd_args *a)
{
	return pgb_accept(a->conn, manifest(a), &a->ao, a->version, a->reason,
	    a->d);
}

/* verify needs no database: what the bundle holds and who signed it. */
static int
do_verify(struct pgb_cmd_args *a)
{
	report_verified(a, a->bundle);
	return 0;
}

/* Connect with 'conninfo' and run the command's step: one target. */
static int
run_one(struct pgb_cmd_args *a, const char *conninfo)
{
	struct pgb_db		 db;
	struct pgb_diag		 d;
	int			 rc;

	pgb_diag_clear(&d);
	memset(&db, 0, sizeof(db));
	json = a->json;
	connecting = 1;
	pgb_db_on_wait(on_wait, a);
	rc = pgb_db_connect(&db, conninfo, a->wait, a->history, &d);
	connecting = 0;
	/* Before anything else: the history table's checks run as the role. */
	if (rc == 0 && a->role != NULL)
		rc = pgb_db_set_role(&db, a->role, &d);
	if (rc == -1) {
		rc = fail(a, &d);
		pgb_db_close(&db);
		return rc;
	}
	if (a->res != NULL)
		a->res->connected = 1;
	/* Past the statement timeout plus 5 s, pgapply gives up too. */
	if (a->stmt_ms > 0)
		pgb_db_bound(&db, a->stmt_ms, a->ao.statement_timeout);
	a->ao.bundle_id = a->bundle ? a->bundle->manifest.bundle_id : "";
	a->ao.bundle = a->file;
	a->ao.emit = on_event;
	a->ao.ctx = a;
	a->conn = &db;
	a->d = &d;
	rc = a->c->run(a);
	a->conn = NULL;
	a->d = NULL;
	rc = rc == -1 ? fail(a, &d) : EXIT_OK;
	pgb_db_close(&db);
	return rc;
}

/* In a fleet's child process: one target, as a single run would do it. */
static int
run_target(void *ctx, const struct pgb_target *t, struct pgb_fleet_result *r)
{
	struct pgb_cmd_args	*a = ctx;

	a->res = r;
	return run_one(a, t->conninfo);
}

/* --targets, --targets-query: the bundle verified once, then each target. */
static int
run_fleet(struct pgb_cmd_args *a, const char *control)
{
	struct pgb_fleet_hooks	h = { run_target, exit_for, a };
	struct pgb_targets	ts;
	struct pgb_diag		d;
	int			rc;

	pgb_diag_clear(&d);
	json = a->json;
	connecting = 1;
	rc = pgb_targets_load(&a->fleet, control, a->wait, a->history, &ts,
	    &d);
	connecting = 0;
	if (rc == -1)
		return fail(a, &d);
	rc = exit_for(pgb_fleet_run(a->cmd, &a->fleet, &ts, a->json, a->quiet,
	    &h));
	pgb_targets_release(&ts);
	return rc;
}

static int
run(struct pgb_cmd_args *a)
{
	struct pgb_diag		 d;
	const char		*conninfo;
	int			 rc;

	pgb_diag_clear(&d);
	if (a->file != NULL && open_bundle(a, &a->bundle, &d) == -1)
		return fail(a, &d);
	if (a->c->run == do_verify) {
		rc = do_verify(a);
		pgb_bundle_free(a->bundle);
		return rc;
	}
	conninfo = a->db_read ? a->db_read : a->db ? a->db :
	    getenv("DATABASE_URL");
	if (conninfo != NULL && *conninfo == '\0')
		conninfo = NULL;
	if (a->fleet.any)
		rc = run_fleet(a, conninfo);
	else
		rc = run_one(a, conninfo);
	pgb_bundle_free(a->bundle);
	return rc;
}

/* --- the command table ------------------------------------------------------ */

static const struct pgb_opt opts[] = {
	{ "pubkey", OPT_PUBKEY, 1, "KEY", "trusted Ed25519 public key (PEM file "
	    "or PEM text); repeat for key rotation or several approvers "
	    "(default: $PGAPPLY_PUBKEY)", "Bundle options", 0 },
	{ "min-signatures", OPT_MIN_SIGS, 1, "N", "require valid signatures by "
	    "N distinct trusted keys (default 1)", NULL, 0 },
	{ "trust", OPT_TRUST, 1, "FILE", "the trusted keys (one PEM block "
	    "each) and a line 'min-signatures N', instead of --pubkey", NULL,
	    0 },
	{ "signature", OPT_SIGNATURE, 1, "SIG", "detached signature, "
	    "repeatable (default: FILE.sig); FILE.KEYID.sig of each trusted "
	    "key is read too", NULL, 0 },
	{ "insecure-allow-unsigned", OPT_UNSIGNED, 0, NULL, "accept a bundle "
	    "without a signature", NULL, 0 },
	{ "expect-target", OPT_TARGET, 1, "NAME", "refuse a bundle built for "
	    "another target", NULL, 0 },
	{ "db", OPT_DB, 1, "CONNINFO", "conninfo string or postgres:// URL "
	    "(default: $DATABASE_URL, else libpq's PG* variables); with "
	    "--targets-query, the control database", "Database options", 0 },
	{ "db-file", OPT_DB_FILE, 1, "PATH", "read the conninfo from PATH's "
	    "first line, so no password shows in ps (or use PGPASSWORD, "
	    "PGPASSFILE)", NULL, 0 },
	{ "wait", OPT_WAIT, 1, "SECONDS", "retry while the server is "
	    "unreachable, starting up, or has no such database yet (default "
	    "0; each attempt 10 s unless connect_timeout is set)", NULL, 0 },
	{ "history-table", OPT_HISTORY, 1, "S.T", "history table (default "
	    "pgbundle.history); it and its schema must be owned by the role "
	    "pgapply runs as, and be exactly what pgapply creates", NULL, 0 },
	{ "role", OPT_ROLE, 1, "NAME", "SET ROLE NAME after connecting: "
	    "migrations run as NAME, which owns the history table", NULL, 0 },
	{ "to", OPT_TO, 1, "VERSION", "plan, apply: up to and including "
	    "VERSION; rollback: revert the migrations above VERSION",
	    "Command options", 0 },
	{ "steps", OPT_STEPS, 1, "N", "rollback: revert the last N applied "
	    "migrations", NULL, 0 },
	{ "version", OPT_VERSION_N, 1, "N", "baseline: record migrations up "
	    "to N; accept: the applied migration whose text changed", NULL, 0 },
	{ "lock-wait", OPT_LOCK_WAIT, 1, "SECONDS", "wait for another runner's "
	    "lock (default 60); this wait and --wait's print a line (under "
	    "--json a \"waiting\" event) at once and every 5 s", NULL, 0 },
	{ "lock-timeout", OPT_LOCK_TIMEOUT, 1, "DUR", "SET LOCAL lock_timeout "
	    "per migration (e.g. 5s)", NULL, 0 },
	{ "statement-timeout", OPT_STMT_TIMEOUT, 1, "DUR", "SET LOCAL "
	    "statement_timeout per migration; an answer DUR + 5 s late gets a "
	    "cancel request, and 5 s later pgapply hangs up (exit 75)", NULL,
	    0 },
	{ "lock-retries", OPT_LOCK_RETRIES, 1, "N", "retry a migration that "
	    "hit lock_timeout (default 3)", NULL, 0 },
	{ "allow-out-of-order", OPT_OOO, 0, NULL, "apply pending versions "
	    "older than applied ones", NULL, 0 },
	{ "retry-failed", OPT_RETRY_FAILED, 0, NULL, "resume a failed "
	    "no-transaction migration", NULL, 0 },
	{ "check", OPT_CHECK, 0, NULL, "status: exit 0 only when nothing is "
	    "pending, drifted or failed (else 9, 4 or 6), for CI", NULL, 0 },
	{ "single-transaction", OPT_SINGLE, 0, NULL, "apply all pending "
	    "migrations in one transaction", NULL, 0 },
	{ "no-verify", OPT_NO_VERIFY, 0, NULL, "baseline: record without "
	    "running verify queries", NULL, 0 },
	{ "reason", OPT_REASON, 1, "TEXT", "accept: why the changed migration "
	    "is accepted", NULL, 0 },
	{ "from", OPT_FROM, 1, "TOOL", "adopt: the tool whose history table "
	    "to read: golang-migrate, dbmate, sql-migrate, sqitch, flyway, "
	    "diesel, alembic, goose, prisma, atlas, liquibase or custom", NULL,
	    0 },
	{ "table", OPT_TABLE, 1, "NAME", "that tool's table (custom's "
	    "default is schema_version)", NULL, 0 },
	{ "map", OPT_MAP, 1, "FILE", "alembic: lines of REVISION VERSION",
	    NULL, 0 },
	{ "adopt-from", OPT_ADOPT_FROM, 1, "TOOL", "with no pgbundle history "
	    "yet, adopt TOOL's first (as adopt; --table, --map); without it, "
	    "apply refuses a database another tool migrated", NULL, 0 },
	{ "sync-each", OPT_SYNC_EACH, 0, NULL, "wait for each migration's "
	    "commit to be flushed (default: only the last of the run, and any "
	    "before a no-transaction migration or an exit)", NULL, 0 },
	{ "targets", OPT_TARGETS, 1, "LIST", "one target per line of file "
	    "LIST (- for stdin): NAME CONNINFO, or a conninfo or URL alone "
	    "(named host/dbname); '#' comments; never --db",
	    "Fleet options (many databases)", 0 },
	{ "targets-query", OPT_TARGETS_QUERY, 1, "SQL", "the targets are the "
	    "rows (columns name, conninfo) SQL returns in a read-only "
	    "transaction on the control database (--db or $DATABASE_URL)",
	    NULL, 0 },
	{ "jobs", 'j', 1, "N", "run N targets at once (default 1), each in "
	    "its own process, connection, lock and transactions", NULL, 0 },
	{ "keep-going", OPT_KEEP_GOING, 0, NULL, "after a target fails, run "
	    "the others (default)", NULL, 0 },
	{ "fail-fast", OPT_FAIL_FAST, 0, NULL, "after a target fails, start "
	    "no other", NULL, 0 },
	{ "canary", OPT_CANARY, 1, "K", "run the first K targets first; run "
	    "the rest only if all K succeeded", NULL, 0 },
	{ "shard", OPT_SHARD, 1, "I/N", "only the targets k (0-based, list "
	    "order) with k mod N = I: a Kubernetes Indexed Job passes "
	    "$(JOB_COMPLETION_INDEX)/N", NULL, 0 },
	{ "json", OPT_JSON, 0, NULL, "one JSON object per event on stdout",
	    "Output", 0 },
	{ "quiet", 'q', 0, NULL, "no progress lines", NULL, 0 },
	{ "help", 'h', 0, NULL, "show the help (of the command)", NULL, 1 },
	{ "version", OPT_VERSION, 0, NULL, "show the version (before any "
	    "command)", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

#define BUNDLE_OPTS	OPT_PUBKEY, OPT_MIN_SIGS, OPT_TRUST, OPT_SIGNATURE, \
			OPT_UNSIGNED, OPT_TARGET, OPT_JSON, 'q'
#define DB_OPTS		OPT_DB, OPT_DB_FILE, OPT_WAIT, OPT_HISTORY, OPT_ROLE
#define FLEET_OPTS	OPT_TARGETS, OPT_TARGETS_QUERY, 'j', OPT_KEEP_GOING, \
			OPT_FAIL_FAST, OPT_CANARY, OPT_SHARD
#define RUN_OPTS	OPT_LOCK_WAIT, OPT_LOCK_TIMEOUT, OPT_STMT_TIMEOUT

static const int verify_opts[] = { BUNDLE_OPTS, 0 };
static const int plan_opts[] = { BUNDLE_OPTS, DB_OPTS, FLEET_OPTS, OPT_TO,
	OPT_OOO, OPT_RETRY_FAILED, OPT_ADOPT_FROM, OPT_TABLE, OPT_MAP, 0 };
static const int apply_opts[] = { BUNDLE_OPTS, DB_OPTS, FLEET_OPTS, OPT_TO,
	RUN_OPTS, OPT_LOCK_RETRIES, OPT_OOO, OPT_RETRY_FAILED, OPT_SINGLE,
	OPT_ADOPT_FROM, OPT_TABLE, OPT_MAP, OPT_SYNC_EACH, 0 };
static const int status_opts[] = { BUNDLE_OPTS, DB_OPTS, FLEET_OPTS,
	OPT_CHECK, 0 };
static const int rollback_opts[] = { BUNDLE_OPTS, DB_OPTS, FLEET_OPTS,
	OPT_TO, OPT_STEPS, RUN_OPTS, 0 };
static const int baseline_opts[] = { BUNDLE_OPTS, DB_OPTS, OPT_VERSION_N,
	OPT_NO_VERIFY, RUN_OPTS, 0 };
static const int adopt_opts[] = { BUNDLE_OPTS, DB_OPTS, OPT_FROM, OPT_TABLE,
	OPT_MAP, OPT_LOCK_WAIT, 0 };
static const int accept_opts[] = { BUNDLE_OPTS, DB_OPTS, FLEET_OPTS,
	OPT_VERSION_N, OPT_REASON, OPT_LOCK_WAIT, 0 };

static const int need_version[] = { OPT_VERSION_N, 0 };
static const int need_from[] = { OPT_FROM, 0 };
static const int need_accept[] = { OPT_VERSION_N, OPT_REASON, 0 };

static const int verify_exits[] = { 0, 1, 2, 3, -1 };
static const int read_exits[] = { 0, 1, 2, 3, 4, 7, 8, 75, -1 };
static const int write_exits[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 75, -1 };
static const int status_exits[] = { 0, 1, 2, 3, 4, 6, 7, 8, 9, 75, -1 };

#define FLEET_SYNOPSIS(c) c " FILE (--targets LIST |\n" \
	"                --targets-query SQL [--db CONTROL]) [-j N] [options]\n"

static const struct pgb_command cmds[] = {
	{ "verify", do_verify, "FILE", "check the signature, every entry and "
	    "its hash; no database",
	    "verify FILE [--pubkey KEY]... [--signature SIG]...\n"
	    "                [--min-signatures N | --trust FILE]\n", NULL,
	    verify_opts, NULL, verify_exits, 1, 1, "a bundle FILE" },
	{ "plan", do_plan, "FILE", "show what apply would do; change nothing",
	    "plan FILE [--db CONNINFO | --db-file PATH] [--to VERSION]\n"
	    "                [options]\n", FLEET_SYNOPSIS("plan"), plan_opts,
	    NULL, read_exits, 1, 1, "a bundle FILE" },
	{ "apply", do_apply, "FILE", "apply the pending migrations",
	    "apply FILE [--db CONNINFO | --db-file PATH] [--to VERSION]\n"
	    "                [options]\n", FLEET_SYNOPSIS("apply"), apply_opts,
	    NULL, write_exits, 1, 1, "a bundle FILE" },
	{ "status", do_status, "[FILE]", "show applied, pending, drifted and "
	    "failed migrations",
	    "status [FILE] [--db CONNINFO | --db-file PATH] [--check]\n"
	    "               [options]\n", FLEET_SYNOPSIS("status"), status_opts,
	    NULL, status_exits, 0, 1, "" },
	{ "rollback", do_rollback, "FILE", "run down scripts, newest first, "
	    "down to --to VERSION (or the last --steps N); each with its "
	    "history row",
	    "rollback FILE (--to VERSION | --steps N) [options]\n",
	    FLEET_SYNOPSIS("rollback"), rollback_opts, NULL, write_exits, 1, 1,
	    "a bundle FILE" },
	{ "baseline", do_baseline, "FILE", "record migrations up to --version "
	    "N as applied, unrun, once their verify queries return true",
	    "baseline FILE --version N [--no-verify] [options]\n", NULL,
	    baseline_opts, need_version, read_exits, 1, 1, "a bundle FILE" },
	{ "adopt", do_adopt, "FILE", "record what another tool ran, when it "
	    "ran it: --from golang-migrate, dbmate, sql-migrate, sqitch, "
	    "flyway, diesel, alembic (--map FILE of REVISION VERSION lines), "
	    "goose, prisma, atlas, liquibase or custom (--table NAME; "
	    "custom's default is schema_version); that tool's table is only "
	    "read",
	    "adopt FILE --from TOOL [--table NAME] [--map FILE] [options]\n",
	    NULL, adopt_opts, need_from, read_exits, 1, 1, "a bundle FILE" },
	{ "accept", do_accept, "FILE", "record the bundle's checksum for "
	    "applied migration --version N, whose text changed, without "
	    "running it; the old checksum and --reason TEXT stay in its row",
	    "accept FILE --version N --reason TEXT [options]\n",
	    FLEET_SYNOPSIS("accept"), accept_opts, need_accept, read_exits, 1,
	    1, "a bundle FILE" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL }
};

static const struct pgb_exit exits[] = {
	{ EXIT_OK, "success, or nothing to do" },
	{ EXIT_INTERNAL, "internal error, or I/O on pgapply's own output (a "
	    "closed pipe, a full disk): pgapply then stops as on SIGTERM" },
	{ EXIT_USAGE, "usage error" },
	{ EXIT_BUNDLE, "bundle rejected (signature, archive, manifest, key); "
	    "never connected" },
	{ EXIT_CONFLICT, "database state conflict (drift, older bundle, out "
	    "of order, a history table pgapply cannot trust, a corrupt "
	    "history row)" },
	{ EXIT_SQL, "a migration failed and was rolled back" },
	{ EXIT_OPERATOR, "needs an operator (a failed or interrupted "
	    "no-transaction migration)" },
	{ EXIT_CANCEL, "interrupted by SIGTERM or SIGINT; the running "
	    "migration rolled back" },
	{ EXIT_CONNECT, "cannot connect, and retrying will not help: no such "
	    "database (--wait keeps trying until its end, for a database an "
	    "init step creates) or role, password refused, a malformed "
	    "conninfo or URL, an unknown URL scheme (postgress://)" },
	{ EXIT_PENDING, "status --check: migrations are pending (drift exits "
	    "4, a failed no-transaction migration 6)" },
	{ EXIT_RETRY, "retryable (lock wait ran out, database unreachable, "
	    "connection lost, server not answering)" },
	{ 0, NULL }
};

static int	refuse(const struct pgb_prog *, const struct pgb_command *,
		    const struct pgb_opt *, const char *, char *, size_t);

static const struct pgb_prog prog = {
	"pgapply",
	"pgapply verifies a pgbundle bundle completely, then applies it to a "
	"PostgreSQL database: one runner at a time, each migration in its "
	"own transaction together with its history row.",
	"On a fleet (--targets, --targets-query) the bundle is verified once.\n"
	"Each line of a target is prefixed with [NAME]; --json adds \"target\"\n"
	"to its events, then one \"target\" event per target and a \"fleet\"\n"
	"event.  status prints one row per target.  The exit status is the\n"
	"worst over the targets, from best to worst: 0, 9, 75, 7, 8, 4, 5, 6,\n"
	"3, 2, 1.\n",
	"plan|apply|status|rollback|accept FILE (--targets LIST |\n"
	"                --targets-query SQL [--db CONTROL]) [-j N] [options]\n",
	opts, cmds, exits, EXIT_USAGE, 22, 25, 0, refuse
};

/*
 * A fleet option on a command that does not run on a fleet: said as
 * pgb_fleet_check() says it, with the commands from the table.
 */
static int
refuse(const struct pgb_prog *p, const struct pgb_command *c,
    const struct pgb_opt *o, const char *given, char *why, size_t len)
{
	static const int	 fleet[] = { FLEET_OPTS, 0 };
	const struct pgb_command *k;
	size_t			 n = 0, i = 0, used;

	for (i = 0; fleet[i] != 0 && fleet[i] != o->key; i++)
		continue;
	if (fleet[i] == 0)
		return 0;
	for (k = p->cmds; k->name != NULL; k++)
		n += (size_t)pgb_cmd_takes(k, o);
	used = (size_t)snprintf(why, len, "'%s' does not run on a fleet: %s "
	    "works with ", c->name, given);
	for (i = 0, k = p->cmds; k->name != NULL && used < len; k++)
		if (pgb_cmd_takes(k, o)) {
			i++;
			used += (size_t)snprintf(why + used, len - used, "%s%s",
			    i == 1 ? "" : i == n ? " and " : ", ", k->name);
		}
	return 1;
}

/* Store one option of the command line in 'a' (pgb_cmd_set_fn). */
static int
set_opt(struct pgb_cmd_args *a, const struct pgb_opt *o, const char *val,
    char *why, size_t len)
{
	struct pgb_diag	d;
	long long	v;

	switch (o->key) {
	case 'j':
	case OPT_TARGETS:
	case OPT_TARGETS_QUERY:
	case OPT_KEEP_GOING:
	case OPT_FAIL_FAST:
	case OPT_CANARY:
	case OPT_SHARD:
		if (pgb_fleet_opt(&a->fleet, o->name, val, &d) == -1) {
			snprintf(why, len, "%s", d.msg);
			return -1;
		}
		break;
	case OPT_PUBKEY:
	case OPT_SIGNATURE:
		if ((o->key == OPT_PUBKEY ? a->npubkeys : a->nsigpaths) ==
		    PGB_KEYS_MAX) {
			snprintf(why, len, "at most %u --%s", PGB_KEYS_MAX,
			    o->name);
			return -1;
		}
		if (o->key == OPT_PUBKEY)
			a->pubkeys[a->npubkeys++] = val;
		else
			a->sigpaths[a->nsigpaths++] = val;
		break;
	case OPT_MIN_SIGS:
		if (parse_int(val, 1, PGB_KEYS_MAX, &a->min_sigs) == -1) {
			snprintf(why, len, "--min-signatures '%.60s' is not a "
			    "number from 1 to %u", val, PGB_KEYS_MAX);
			return -1;
		}
		break;
	case OPT_TRUST:
		a->trust = val;
		break;
	case OPT_UNSIGNED:
		a->allow_unsigned = 1;
		break;
	case OPT_TARGET:
		a->target = val;
		break;
	case OPT_DB:
		a->db = val;
		break;
	case OPT_DB_FILE:
		a->db_file = val;
		break;
	case OPT_WAIT:
	case OPT_LOCK_WAIT:
	case OPT_LOCK_RETRIES:
		if (parse_int(val, 0, 86400, &v) == -1) {
			snprintf(why, len, "'%.100s' is not a number from 0 to "
			    "86400", val);
			return -1;
		}
		if (o->key == OPT_WAIT)
			a->wait = (int)v;
		else if (o->key == OPT_LOCK_WAIT)
			a->ao.lock_wait = (int)v;
		else
			a->ao.lock_retries = (int)v;
		break;
	case OPT_HISTORY:
		a->history = val;
		break;
	case OPT_ROLE:
		a->role = val;
		break;
	case OPT_TO:
	case OPT_VERSION_N:
	case OPT_STEPS:
		if (parse_int(val, 0, 999999999999999999LL, &v) == -1) {
			snprintf(why, len, "'%.100s' is not a version or count",
			    val);
			return -1;
		}
		if (o->key == OPT_TO) {
			a->ao.to = v;
			a->ao.has_to = 1;
		} else if (o->key == OPT_STEPS) {
			a->ao.steps = v;
			a->ao.has_steps = 1;
		} else
			a->version = v;
		break;
	case OPT_FROM:
		a->from = val;
		break;
	case OPT_TABLE:
		a->table = a->ao.adopt_table = val;
		break;
	case OPT_ADOPT_FROM:
		a->ao.adopt_from = val;
		break;
	case OPT_MAP:
		a->ao.adopt_map = val;
		break;
	case OPT_NO_VERIFY:
		a->ao.no_verify = 1;
		break;
	case OPT_REASON:
		a->reason = val;
		break;
	case OPT_LOCK_TIMEOUT:
	case OPT_STMT_TIMEOUT:
		/* Else the server refuses it in the first migration. */
		if (pgb_db_parse_ms(val, &v) == -1) {
			snprintf(why, len, "--%s '%.60s' is not a duration: give "
			    "milliseconds, or a number with a unit (ms, s, min, "
			    "h, d), from 0 to 2147483647 ms", o->name, val);
			return -1;
		}
		if (o->key == OPT_LOCK_TIMEOUT) {
			a->ao.lock_timeout = val;
		} else {
			a->ao.statement_timeout = val;
			a->stmt_ms = v;
		}
		break;
	case OPT_OOO:
		a->ao.allow_out_of_order = 1;
		break;
	case OPT_RETRY_FAILED:
		a->ao.retry_failed = 1;
		break;
	case OPT_CHECK:
		a->ao.check = 1;
		break;
	case OPT_SINGLE:
		a->ao.single_tx = 1;
		break;
	case OPT_SYNC_EACH:
		a->ao.sync_each = 1;
		break;
	case OPT_JSON:
		a->json = 1;
		break;
	case 'q':
		a->quiet = 1;
		break;
	default:
		snprintf(why, len, "internal error: option '--%s'", o->name);
		return -1;
	}
	return 0;
}

/*
 * The command line of a->c into 'a': the table's rules, then what only
 * combinations of options can break.  0 to run; 1 when --help printed;
 * -1 with the reason for the usage error in 'why'.
 */
static int
parse_args(int argc, char *argv[], struct pgb_cmd_args *a, char *why,
    size_t len)
{
	const char	*pos[PGB_CMD_POS_MAX];
	size_t		 npos;
	struct pgb_diag	 d;
	int		 rc;

	a->history = "pgbundle.history";
	a->ao.lock_wait = 60;
	a->ao.lock_retries = 3;
	rc = pgb_cmd_parse(&prog, a->c, argc, argv, set_opt, a, pos, &npos,
	    why, len);
	if (rc != 0)
		return rc;
	a->file = npos > 0 ? pos[0] : NULL;
	if (a->trust != NULL && (a->npubkeys > 0 || a->min_sigs > 0))
		snprintf(why, len, "--trust excludes --pubkey and "
		    "--min-signatures: the trust file holds both");
	else if (pgb_fleet_check(&a->fleet, a->cmd, a->db, &d) == -1)
		snprintf(why, len, "%s", d.msg);
	else if (a->c->run == do_rollback && a->ao.has_to == a->ao.has_steps)
		snprintf(why, len, "rollback needs one of --to VERSION and "
		    "--steps N");
	else if (a->db != NULL && a->db_file != NULL)
		snprintf(why, len, "--db and --db-file exclude each other");
	else
		return 0;
	return -1;
}

/* The command's answer, with the output checked to its last byte. */
static int
finish(struct pgb_cmd_args *a)
{
	struct pgb_diag	d;
	int		rc;

	rc = run(a);
	pgb_conninfo_free(a->db_read);
	if (out_check() == -1 && rc == EXIT_OK) {
		pgb_diag_clear(&d);
		rc = fail(a, &d);
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	struct pgb_cmd_args	a;
	struct sigaction	sa;
	struct pgb_diag		d;
	char			why[256];
	int			rc;

	/* A closed pipe is a failed write that pgapply handles, not death. */
	(void)signal(SIGPIPE, SIG_IGN);
	json = pgb_cmd_wants_json(argc, argv);
	memset(&a, 0, sizeof(a));
	rc = pgb_cmd_front(&prog, argc, argv, json, PGB_VERSION, &a.c);
	if (rc != -1)
		return out_check() == 0 || rc != EXIT_OK ? rc : EXIT_INTERNAL;
	a.cmd = a.c->name;
	rc = parse_args(argc - 1, argv + 1, &a, why, sizeof(why));
	if (rc == 1)
		return out_check() == 0 ? EXIT_OK : EXIT_INTERNAL;
	if (rc == -1) {
		rc = pgb_cmd_usage(&prog, a.c, json, "%s", why);
		(void)out_check();
		return rc;
	}
	pgb_diag_clear(&d);
	if (a.db_file != NULL && pgb_conninfo_file(a.db_file, &a.db_read,
	    &d) == -1)
		return fail(&a, &d);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return finish(&a);
}
