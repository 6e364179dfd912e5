/*
 * main.c - pgapply: verify a bundle, then plan, apply or show status.
 *
 * The only file of the runtime that prints or exits.  Progress and errors
 * go to stderr; stdout carries only what a script would parse (the plan,
 * the status, or one JSON object per event with --json).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "bounds.h"
#include "bundle.h"
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

static const char usage_text[] =
"usage: pgapply verify FILE [--pubkey KEY]... [--signature SIG]...\n"
"                [--min-signatures N | --trust FILE]\n"
"       pgapply plan FILE [--db CONNINFO | --db-file PATH] [--to VERSION]\n"
"                [options]\n"
"       pgapply apply FILE [--db CONNINFO | --db-file PATH] [--to VERSION]\n"
"                [options]\n"
"       pgapply status [FILE] [--db CONNINFO | --db-file PATH] [--check]\n"
"               [options]\n"
"       pgapply rollback FILE (--to VERSION | --steps N) [options]\n"
"       pgapply baseline FILE --version N [--no-verify] [options]\n"
"       pgapply adopt FILE --from TOOL [--table NAME] [--map FILE] [options]\n"
"       pgapply accept FILE --version N --reason TEXT [options]\n"
"       pgapply plan|apply|status|rollback|accept FILE (--targets LIST |\n"
"                --targets-query SQL [--db CONTROL]) [-j N] [options]\n";

static const char help_text[] =
"pgapply verifies a pgbundle bundle completely, then applies it to a\n"
"PostgreSQL database: one runner at a time, each migration in its own\n"
"transaction together with its history row.\n"
"\n"
"Commands:\n"
"  verify FILE     check the signature, every entry and its hash; no database\n"
"  plan FILE       show what apply would do; change nothing\n"
"  apply FILE      apply the pending migrations\n"
"  status [FILE]   show applied, pending, drifted and failed migrations\n"
"  rollback FILE   run down scripts, newest first, down to --to VERSION\n"
"                  (or the last --steps N); each with its history row\n"
"  baseline FILE   record migrations up to --version N as applied, unrun,\n"
"                  once their verify queries return true\n"
"  adopt FILE      record what another tool ran, when it ran it: --from\n"
"                  golang-migrate, dbmate, sql-migrate, sqitch, flyway,\n"
"                  diesel, alembic (--map FILE of REVISION VERSION\n"
"                  lines), goose, prisma, atlas, liquibase or custom\n"
"                  (--table NAME; custom's default is schema_version);\n"
"                  that tool's table is only read\n"
"  accept FILE     record the bundle's checksum for applied migration\n"
"                  --version N, whose text changed, without running it;\n"
"                  the old checksum and --reason TEXT stay in its row\n"
"\n"
"Bundle options:\n"
"  --pubkey KEY           trusted Ed25519 public key (PEM file or PEM text);\n"
"                         repeat for key rotation or several approvers\n"
"                         (default: $PGAPPLY_PUBKEY)\n"
"  --min-signatures N     require valid signatures by N distinct trusted keys\n"
"                         (default 1)\n"
"  --trust FILE           the trusted keys (one PEM block each) and a line\n"
"                         'min-signatures N', instead of --pubkey\n"
"  --signature SIG        detached signature, repeatable (default: FILE.sig);\n"
"                         FILE.KEYID.sig of each trusted key is read too\n"
"  --insecure-allow-unsigned  accept a bundle without a signature\n"
"  --expect-target NAME   refuse a bundle built for another target\n"
"Database options:\n"
"  --db CONNINFO          conninfo string or postgres:// URL (default:\n"
"                         $DATABASE_URL, else libpq's PG* variables)\n"
"  --db-file PATH         read the conninfo from PATH's first line, so no\n"
"                         password shows in ps (or use PGPASSWORD, PGPASSFILE)\n"
"  --wait SECONDS         retry while the server is unreachable, starting\n"
"                         up, or has no such database yet (default 0;\n"
"                         each attempt 10 s unless connect_timeout is set)\n"
"  --history-table S.T    history table (default pgbundle.history); it and\n"
"                         its schema must be owned by the role pgapply runs\n"
"                         as, and be exactly what pgapply creates\n"
"  --role NAME            SET ROLE NAME after connecting: migrations run as\n"
"                         NAME, which owns the history table\n"
"Apply options:\n"
"  --to VERSION           apply up to and including VERSION\n"
"  --lock-wait SECONDS    wait for another runner's lock (default 60); this\n"
"                         wait and --wait's print a line (under --json a\n"
"                         \"waiting\" event) at once and every 5 s\n"
"  --lock-timeout DUR     SET LOCAL lock_timeout per migration (e.g. 5s)\n"
"  --statement-timeout DUR  SET LOCAL statement_timeout per migration; an\n"
"                         answer DUR + 5 s late gets a cancel request, and\n"
"                         5 s later pgapply hangs up (exit 75)\n"
"  --lock-retries N       retry a migration that hit lock_timeout (default 3)\n"
"  --allow-out-of-order   apply pending versions older than applied ones\n"
"  --retry-failed         resume a failed no-transaction migration\n"
"  --check                status: exit 0 only when nothing is pending,\n"
"                         drifted or failed (else 9, 4 or 6), for CI\n"
"  --single-transaction   apply all pending migrations in one transaction\n"
"  --no-verify            baseline: record without running verify queries\n"
"  --reason TEXT          accept: why the changed migration is accepted\n"
"  --adopt-from TOOL      with no pgbundle history yet, adopt TOOL's first\n"
"                         (as adopt; --table, --map); without it, apply\n"
"                         refuses a database another tool migrated\n"
"  --sync-each            wait for each migration's commit to be flushed\n"
"                         (default: only the last of the run, and any\n"
"                         before a no-transaction migration or an exit)\n"
"Fleet options (plan, apply, status, rollback, accept on many databases):\n"
"  --targets LIST         one target per line of file LIST (- for stdin):\n"
"                         NAME CONNINFO, or a conninfo or URL alone (named\n"
"                         host/dbname); '#' comments; never --db\n"
"  --targets-query SQL    the targets are the rows (columns name, conninfo)\n"
"                         SQL returns in a read-only transaction on the\n"
"                         control database (--db or $DATABASE_URL)\n"
"  -j, --jobs N           run N targets at once (default 1), each in its own\n"
"                         process, connection, lock and transactions\n"
"  --keep-going           after a target fails, run the others (default)\n"
"  --fail-fast            after a target fails, start no other\n"
"  --canary K             run the first K targets first; run the rest only\n"
"                         if all K succeeded\n"
"  --shard I/N            only the targets k (0-based, list order) with\n"
"                         k mod N = I: a Kubernetes Indexed Job passes\n"
"                         $(JOB_COMPLETION_INDEX)/N\n"
"  The bundle is verified once.  Each line of a target is prefixed with\n"
"  [NAME]; --json adds \"target\" to its events, then one \"target\" event\n"
"  per target and a \"fleet\" event.  status prints one row per target.\n"
"  The exit status is the worst over the targets, from best to worst:\n"
"  0, 9, 75, 7, 8, 4, 5, 6, 3, 2, 1.\n"
"Output:\n"
"  --json                 one JSON object per event on stdout\n"
"  -q, --quiet            no progress lines\n"
"  -h, --help             show this help\n"
"  --version              show the version\n"
"\n"
"Exit status:\n"
"  0   success, or nothing to do\n"
"  1   internal error, or I/O on pgapply's own output (a closed pipe, a\n"
"      full disk): pgapply then stops as on SIGTERM\n"
"  2   usage error\n"
"  3   bundle rejected (signature, archive or manifest); never connected\n"
"  4   database state conflict (drift, older bundle, out of order, a\n"
"      history table pgapply cannot trust, a corrupt history row)\n"
"  5   a migration failed and was rolled back\n"
"  6   needs an operator (a failed or interrupted no-transaction migration)\n"
"  7   interrupted by SIGTERM or SIGINT; the running migration rolled back\n"
"  8   cannot connect, and retrying will not help: no such database (after\n"
"      --wait) or role, password refused, a malformed conninfo or URL\n"
"  9   status --check: migrations are pending (drift exits 4, a failed\n"
"      no-transaction migration 6)\n"
"  75  retryable (lock wait ran out, database unreachable, connection lost,\n"
"      server not answering)\n";

enum { OPT_PUBKEY = 256, OPT_SIGNATURE, OPT_UNSIGNED, OPT_TARGET, OPT_DB,
	OPT_WAIT, OPT_HISTORY, OPT_TO, OPT_LOCK_WAIT, OPT_LOCK_TIMEOUT,
	OPT_STMT_TIMEOUT, OPT_LOCK_RETRIES, OPT_OOO, OPT_RETRY_FAILED,
	OPT_SINGLE, OPT_JSON, OPT_VERSION, OPT_STEPS, OPT_FROM, OPT_TABLE,
	OPT_MIN_SIGS, OPT_TRUST, OPT_ROLE, OPT_DB_FILE, OPT_NO_VERIFY,
	OPT_REASON, OPT_ADOPT_FROM, OPT_MAP, OPT_CHECK, OPT_FLEET,
	OPT_SYNC_EACH };

static const struct option longopts[] = {
	{ "pubkey",		required_argument, NULL, OPT_PUBKEY },
	{ "signature",		required_argument, NULL, OPT_SIGNATURE },
	{ "min-signatures",	required_argument, NULL, OPT_MIN_SIGS },
	{ "trust",		required_argument, NULL, OPT_TRUST },
	{ "insecure-allow-unsigned", no_argument,  NULL, OPT_UNSIGNED },
	{ "expect-target",	required_argument, NULL, OPT_TARGET },
	{ "db",			required_argument, NULL, OPT_DB },
	{ "db-file",		required_argument, NULL, OPT_DB_FILE },
	{ "wait",		required_argument, NULL, OPT_WAIT },
	{ "history-table",	required_argument, NULL, OPT_HISTORY },
	{ "role",		required_argument, NULL, OPT_ROLE },
	{ "to",			required_argument, NULL, OPT_TO },
	{ "lock-wait",		required_argument, NULL, OPT_LOCK_WAIT },
	{ "lock-timeout",	required_argument, NULL, OPT_LOCK_TIMEOUT },
	{ "statement-timeout",	required_argument, NULL, OPT_STMT_TIMEOUT },
	{ "lock-retries",	required_argument, NULL, OPT_LOCK_RETRIES },
	{ "allow-out-of-order",	no_argument,	   NULL, OPT_OOO },
	{ "retry-failed",	no_argument,	   NULL, OPT_RETRY_FAILED },
	{ "check",		no_argument,	   NULL, OPT_CHECK },
	{ "single-transaction",	no_argument,	   NULL, OPT_SINGLE },
	{ "sync-each",		no_argument,	   NULL, OPT_SYNC_EACH },
	{ "json",		no_argument,	   NULL, OPT_JSON },
	{ "steps",		required_argument, NULL, OPT_STEPS },
	{ "from",		required_argument, NULL, OPT_FROM },
	{ "table",		required_argument, NULL, OPT_TABLE },
	{ "no-verify",		no_argument,	   NULL, OPT_NO_VERIFY },
	{ "reason",		required_argument, NULL, OPT_REASON },
	{ "adopt-from",		required_argument, NULL, OPT_ADOPT_FROM },
	{ "map",		required_argument, NULL, OPT_MAP },
	{ "targets",		required_argument, NULL, OPT_FLEET },
	{ "targets-query",	required_argument, NULL, OPT_FLEET },
	{ "jobs",		required_argument, NULL, OPT_FLEET },
	{ "keep-going",		no_argument,	   NULL, OPT_FLEET },
	{ "fail-fast",		no_argument,	   NULL, OPT_FLEET },
	{ "canary",		required_argument, NULL, OPT_FLEET },
	{ "shard",		required_argument, NULL, OPT_FLEET },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "version",		no_argument,	   NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

struct args {
	const char	*cmd;
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
	int		 json, quiet, help;
	long long	 stmt_ms;	/* --statement-timeout, parsed */
	struct pgb_apply_opts ao;
	struct pgb_fleet_opts fleet;
	struct pgb_bundle *bundle;	/* a fleet's, verified once */
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

/*
 * A usage error: its reason and the synopsis on stderr, and with --json
 * one error object on stdout as for any other error.  Returns EXIT_USAGE.
 */
static int	usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		pgb_utf8_trim(msg);
	va_end(ap);
	fputs("pgapply: ", stderr);
	eputs(msg);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	if (json) {
		printf("{\"event\":\"error\",\"exit\":%d,\"message\":",
		    EXIT_USAGE);
		pgb_json_str(stdout, msg);
		printf(",\"detail\":\"see pgapply --help\"}\n");
	}
	(void)out_check();
	return EXIT_USAGE;
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
fail(const struct args *a, const struct pgb_diag *d)
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
	    ev->kind == PGB_EV_DOWN || ev->kind == PGB_EV_REVERTED ?
	    &ev->mig->down : &ev->mig->up;

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

static void
emit_human(const struct args *a, const struct pgb_event *ev)
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
		if (ev->mig != NULL)
			label_of(ev->mig, label, sizeof(label));
		else {
			/* A name from the history table: anything at all. */
			snprintf(raw, sizeof(raw), "%lld_%s", ev->row->version,
			    ev->row->name);
			pgb_text_clean(label, sizeof(label), raw);
		}
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
	const struct args	*a = ctx;
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
	const struct args *a = ctx;

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
open_bundle(const struct args *a, struct pgb_bundle **b, struct pgb_diag *d)
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
report_verified(const struct args *a, const struct pgb_bundle *b)
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

/* Connect with 'conninfo' and run the command: one target. */
static int
run_one(struct args *a, struct pgb_bundle *b, const char *conninfo)
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
	a->ao.bundle_id = b ? b->manifest.bundle_id : "";
	a->ao.bundle = a->file;
	a->ao.emit = on_event;
	a->ao.ctx = a;
	if (strcmp(a->cmd, "plan") == 0)
		rc = pgb_plan(&db, &b->manifest, &a->ao, &d);
	else if (strcmp(a->cmd, "apply") == 0) {
		a->ao.session_ends = 1;		/* pgb_db_close() follows */
		rc = pgb_apply(&db, &b->manifest, &a->ao, &d);
	}
	else if (strcmp(a->cmd, "rollback") == 0)
		rc = pgb_rollback(&db, &b->manifest, &a->ao, &d);
	else if (strcmp(a->cmd, "baseline") == 0)
		rc = pgb_baseline(&db, &b->manifest, &a->ao, a->version, &d);
	else if (strcmp(a->cmd, "adopt") == 0)
		rc = pgb_adopt(&db, &b->manifest, &a->ao, a->from, a->table, &d);
	else if (strcmp(a->cmd, "accept") == 0)
		rc = pgb_accept(&db, &b->manifest, &a->ao, a->version,
		    a->reason, &d);
	else
		rc = pgb_status(&db, b ? &b->manifest : NULL, &a->ao, &d);
	rc = rc == -1 ? fail(a, &d) : EXIT_OK;
	pgb_db_close(&db);
	return rc;
}

/* In a fleet's child process: one target, as a single run would do it. */
static int
run_target(void *ctx, const struct pgb_target *t, struct pgb_fleet_result *r)
{
	struct args	*a = ctx;

	a->res = r;
	return run_one(a, a->bundle, t->conninfo);
}

/* --targets, --targets-query: the bundle verified once, then each target. */
static int
run_fleet(struct args *a, struct pgb_bundle *b, const char *control)
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
	a->bundle = b;
	rc = exit_for(pgb_fleet_run(a->cmd, &a->fleet, &ts, a->json, a->quiet,
	    &h));
	pgb_targets_release(&ts);
	return rc;
}

static int
run(struct args *a)
{
	struct pgb_bundle	*b = NULL;
	struct pgb_diag		 d;
	const char		*conninfo;
	int			 rc;

	pgb_diag_clear(&d);
	if (a->file != NULL && open_bundle(a, &b, &d) == -1)
		return fail(a, &d);
	if (strcmp(a->cmd, "verify") == 0) {
		report_verified(a, b);
		pgb_bundle_free(b);
		return EXIT_OK;
	}
	conninfo = a->db_read ? a->db_read : a->db ? a->db :
	    getenv("DATABASE_URL");
	if (conninfo != NULL && *conninfo == '\0')
		conninfo = NULL;
	if (a->fleet.any)
		rc = run_fleet(a, b, conninfo);
	else
		rc = run_one(a, b, conninfo);
	pgb_bundle_free(b);
	return rc;
}

/*
 * The options of a->cmd into 'a'.  0, or -1 with the reason for the
 * usage error in 'why'.
 */
static int
parse_args(int argc, char *argv[], struct args *a, char *why, size_t len)
{
	long long	v;
	int		ch, li;

	struct option	opts[sizeof(longopts) / sizeof(longopts[0])];
	size_t		i;
	struct pgb_diag	d;

	/*
	 * "baseline --version N" and "accept --version N" take a value;
	 * elsewhere --version is bare.
	 */
	memcpy(opts, longopts, sizeof(opts));
	for (i = 0; opts[i].name != NULL; i++)
		if (strcmp(opts[i].name, "version") == 0 &&
		    (strcmp(a->cmd, "baseline") == 0 ||
		    strcmp(a->cmd, "accept") == 0))
			opts[i].has_arg = required_argument;
	a->history = "pgbundle.history";
	a->ao.lock_wait = 60;
	a->ao.lock_retries = 3;
	optind = 1;
	opterr = 0;		/* the reasons go through usage_error() */
	while ((ch = getopt_long(argc, argv, ":qhj:", opts, &li)) != -1) {
		switch (ch) {
		case 'j':
		case OPT_FLEET:
			if (pgb_fleet_opt(&a->fleet, ch == 'j' ? "jobs" :
			    opts[li].name, optarg, &d) == -1) {
				snprintf(why, len, "%s", d.msg);
				return -1;
			}
			break;
		case OPT_PUBKEY:
			if (a->npubkeys == PGB_KEYS_MAX) {
				snprintf(why, len, "at most %u --pubkey",
				    PGB_KEYS_MAX);
				return -1;
			}
			a->pubkeys[a->npubkeys++] = optarg;
			break;
		case OPT_SIGNATURE:
			if (a->nsigpaths == PGB_KEYS_MAX) {
				snprintf(why, len, "at most %u --signature",
				    PGB_KEYS_MAX);
				return -1;
			}
			a->sigpaths[a->nsigpaths++] = optarg;
			break;
		case OPT_MIN_SIGS:
			if (parse_int(optarg, 1, PGB_KEYS_MAX,
			    &a->min_sigs) == -1) {
				snprintf(why, len, "--min-signatures '%.60s' is "
				    "not a number from 1 to %u", optarg,
				    PGB_KEYS_MAX);
				return -1;
			}
			break;
		case OPT_TRUST:
			a->trust = optarg;
			break;
		case OPT_UNSIGNED:
			a->allow_unsigned = 1;
			break;
		case OPT_TARGET:
			a->target = optarg;
			break;
		case OPT_DB:
			a->db = optarg;
			break;
		case OPT_DB_FILE:
			a->db_file = optarg;
			break;
		case OPT_WAIT:
		case OPT_LOCK_WAIT:
		case OPT_LOCK_RETRIES:
			if (parse_int(optarg, 0, 86400, &v) == -1) {
				snprintf(why, len, "'%.100s' is not a number "
				    "from 0 to 86400", optarg);
				return -1;
			}
			if (ch == OPT_WAIT)
				a->wait = (int)v;
			else if (ch == OPT_LOCK_WAIT)
				a->ao.lock_wait = (int)v;
			else
				a->ao.lock_retries = (int)v;
			break;
		case OPT_HISTORY:
			a->history = optarg;
			break;
		case OPT_ROLE:
			a->role = optarg;
			break;
		case OPT_TO:
		case OPT_VERSION:
		case OPT_STEPS:
			if (optarg == NULL || parse_int(optarg, 0,
			    999999999999999999LL, &v) == -1) {
				snprintf(why, len, "'%.100s' is not a version "
				    "or count", optarg ? optarg : "");
				return -1;
			}
			if (ch == OPT_TO) {
				a->ao.to = v;
				a->ao.has_to = 1;
			} else if (ch == OPT_STEPS) {
				a->ao.steps = v;
				a->ao.has_steps = 1;
			} else {
				a->version = v;
				a->has_version = 1;
			}
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_TABLE:
			a->table = a->ao.adopt_table = optarg;
			break;
		case OPT_ADOPT_FROM:
			a->ao.adopt_from = optarg;
			break;
		case OPT_MAP:
			a->ao.adopt_map = optarg;
			break;
		case OPT_NO_VERIFY:
			a->ao.no_verify = 1;
			break;
		case OPT_REASON:
			a->reason = optarg;
			break;
		case OPT_LOCK_TIMEOUT:
		case OPT_STMT_TIMEOUT:
			/* Else the server refuses it in the first migration. */
			if (pgb_db_parse_ms(optarg, &v) == -1) {
				snprintf(why, len, "--%s '%.60s' is not a "
				    "duration: give milliseconds, or a number "
				    "with a unit (ms, s, min, h, d), from 0 to "
				    "2147483647 ms", ch == OPT_LOCK_TIMEOUT ?
				    "lock-timeout" : "statement-timeout",
				    optarg);
				return -1;
			}
			if (ch == OPT_LOCK_TIMEOUT) {
				a->ao.lock_timeout = optarg;
			} else {
				a->ao.statement_timeout = optarg;
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
		case 'h':
			a->help = 1;
			return 0;
		case ':':
			snprintf(why, len, "option '%.60s' needs a value",
			    argv[optind - 1]);
			return -1;
		default:
			if (optopt > 0 && optopt < 256)
				snprintf(why, len, "unknown option '-%c'",
				    optopt);
			else
				snprintf(why, len, "unknown option '%.60s'",
				    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc)
		snprintf(why, len, "unexpected argument '%.60s'", argv[optind]);
	else if (a->trust != NULL && (a->npubkeys > 0 || a->min_sigs > 0))
		snprintf(why, len, "--trust excludes --pubkey and "
		    "--min-signatures: the trust file holds both");
	else if (pgb_fleet_check(&a->fleet, a->cmd, a->db, &d) == -1)
		snprintf(why, len, "%s", d.msg);
	else if (a->file == NULL && strcmp(a->cmd, "status") != 0)
		snprintf(why, len, "%s needs a bundle FILE", a->cmd);
	else if (strcmp(a->cmd, "rollback") == 0 &&
	    a->ao.has_to == a->ao.has_steps)
		snprintf(why, len, "rollback needs one of --to VERSION and "
		    "--steps N");
	else if ((strcmp(a->cmd, "baseline") == 0 ||
	    strcmp(a->cmd, "accept") == 0) && !a->has_version)
		snprintf(why, len, "%s needs --version N", a->cmd);
	else if (strcmp(a->cmd, "accept") == 0 && a->reason == NULL)
		snprintf(why, len, "accept needs --reason TEXT: why the changed "
		    "migration is accepted");
	else if (strcmp(a->cmd, "accept") != 0 && a->reason != NULL)
		snprintf(why, len, "--reason goes with accept");
	else if (strcmp(a->cmd, "baseline") != 0 && a->ao.no_verify)
		snprintf(why, len, "--no-verify goes with baseline");
	else if (strcmp(a->cmd, "adopt") == 0 && a->from == NULL)
		snprintf(why, len, "adopt needs --from TOOL");
	else if (a->ao.check && strcmp(a->cmd, "status") != 0)
		snprintf(why, len, "--check is an option of status only");
	else if (a->db != NULL && a->db_file != NULL)
		snprintf(why, len, "--db and --db-file exclude each other");
	else
		return 0;
	return -1;
}

/* --json anywhere among the options: usage errors answer in JSON too. */
static int
wants_json(int argc, char *argv[])
{
	int	i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return 1;
	return 0;
}

static int
help(void)
{
	fputs(usage_text, stdout);
	fputs("\n", stdout);
	fputs(help_text, stdout);
	return out_check() == 0 ? EXIT_OK : EXIT_INTERNAL;
}

/* The command's answer, with the output checked to its last byte. */
static int
finish(struct args *a)
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
	struct args		a;
	struct sigaction	sa;
	struct pgb_diag		d;
	char			why[256];

	/* A closed pipe is a failed write that pgapply handles, not death. */
	(void)signal(SIGPIPE, SIG_IGN);
	json = wants_json(argc, argv);
	if (argc < 2)
		return usage_error("no command given");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return help();
	if (strcmp(argv[1], "--version") == 0) {
		printf("pgapply %s\n", PGB_VERSION);
		return out_check() == 0 ? EXIT_OK : EXIT_INTERNAL;
	}
	memset(&a, 0, sizeof(a));
	a.cmd = argv[1];
	if (strcmp(a.cmd, "verify") != 0 && strcmp(a.cmd, "plan") != 0 &&
	    strcmp(a.cmd, "apply") != 0 && strcmp(a.cmd, "status") != 0 &&
	    strcmp(a.cmd, "rollback") != 0 && strcmp(a.cmd, "baseline") != 0 &&
	    strcmp(a.cmd, "adopt") != 0 && strcmp(a.cmd, "accept") != 0) {
		return usage_error("unknown command '%.60s'", a.cmd);
	}
	if (parse_args(argc - 1, argv + 1, &a, why, sizeof(why)) == -1)
		return usage_error("%s", why);
	if (a.help)
		return help();
	pgb_diag_clear(&d);
	if (a.db_file != NULL && pgb_conninfo_file(a.db_file, &a.db_read,
	    &d) == -1)
		return fail(&a, &d);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return finish(&a);
}
