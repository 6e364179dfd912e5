/*
 * fleet_report.c - what a fleet run prints about its targets, as
 * opposed to what their own runs print (fleet.c relays that): one JSON
 * event per target as it ends, and at the end the summary on stderr (a
 * line per target and the count of each class) or, for status, the
 * matrix on stdout, or the "fleet" JSON event.
 *
 * Trusts: the results the children sent.  Names are printable ASCII
 * (targets.c saw to it); messages were cleaned by the child.
 */
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "fleet_local.h"
#include "json.h"
#include "banned.h"

struct cls {
	const char	*key;	/* JSON "result" */
	const char	*label;	/* in the counts line */
};

enum { C_APPLIED, C_ACCEPTED, C_PENDING, C_ROLLED_BACK, C_NOTHING,
	C_CURRENT, C_BEHIND, C_AHEAD, C_DRIFTED, C_FAILED, C_OPERATOR,
	C_REFUSED, C_CONNECT, C_UNREACHABLE, C_RETRYABLE, C_INTERRUPTED,
	C_NOT_STARTED, C_ERROR, NCLASSES };

/* In the order the counts line gives them. */
static const struct cls classes[NCLASSES] = {
	[C_APPLIED] = { "applied", "applied" },
	[C_ACCEPTED] = { "accepted", "accepted" },
	[C_PENDING] = { "pending", "with pending migrations" },
	[C_ROLLED_BACK] = { "rolled-back", "rolled back" },
	[C_NOTHING] = { "nothing-to-do", "nothing to do" },
	[C_CURRENT] = { "current", "current" },
	[C_BEHIND] = { "behind", "behind" },
	[C_AHEAD] = { "ahead", "ahead of the bundle" },
	[C_DRIFTED] = { "drifted", "drifted" },
	[C_FAILED] = { "failed", "failed" },
	[C_OPERATOR] = { "needs-operator", "need an operator" },
	[C_REFUSED] = { "refused", "refused" },
	[C_CONNECT] = { "cannot-connect", "cannot connect" },
	[C_UNREACHABLE] = { "unreachable", "unreachable" },
	[C_RETRYABLE] = { "retryable", "retryable" },
	[C_INTERRUPTED] = { "interrupted", "interrupted" },
	[C_NOT_STARTED] = { "not-started", "not started" },
	[C_ERROR] = { "error", "internal error" },
};

static int
class_ok(const struct pgb_fleet *f, const struct pgb_fleet_result *r)
{
	if (strcmp(f->cmd, "status") == 0)
		return r->failed ? C_FAILED : r->drifted ? C_DRIFTED :
		    r->missing ? C_AHEAD : r->pending ? C_BEHIND : C_CURRENT;
	if (r->count == 0)
		return C_NOTHING;
	return strcmp(f->cmd, "plan") == 0 ? C_PENDING :
	    strcmp(f->cmd, "rollback") == 0 ? C_ROLLED_BACK :
	    strcmp(f->cmd, "accept") == 0 ? C_ACCEPTED : C_APPLIED;
}

/*
 * 1 when status listed every row of the target: it succeeded, or only
 * --check failed it (pending 9, drifted or ahead 4, failed 6), and the
 * matrix has its counts.
 */
static int
listed(const struct pgb_fleet *f, size_t t)
{
	const struct pgb_fleet_result *r = &f->res[t];

	if (f->state[t] != PGB_T_DONE || !r->listed)
		return 0;
	return r->code == PGB_OK || r->code == PGB_EPENDING ||
	    r->code == PGB_ECONFLICT || r->code == PGB_EOPERATOR;
}

/* The class of target 't', an index into classes[]. */
static int
class_of(const struct pgb_fleet *f, size_t t)
{
	const struct pgb_fleet_result *r = &f->res[t];

	if (f->state[t] != PGB_T_DONE)
		return C_NOT_STARTED;
	if (listed(f, t))
		return class_ok(f, r);
	switch (r->code) {
	case PGB_OK:
		return class_ok(f, r);
	case PGB_ESQL:
		return C_FAILED;
	case PGB_EOPERATOR:
		return C_OPERATOR;
	case PGB_ECONFLICT:
	case PGB_EUSAGE:
	case PGB_EBUNDLE:
	case PGB_EKEY:
		return C_REFUSED;
	case PGB_ECONNECT:
		return C_CONNECT;
	case PGB_ERETRY:
		return r->connected ? C_RETRYABLE : C_UNREACHABLE;
	case PGB_ECANCEL:
		return C_INTERRUPTED;
	default:
		return C_ERROR;
	}
}

/* "applied 3", "failed at 002_users", ... for the summary. */
static void
describe(const struct pgb_fleet *f, size_t t, char *buf, size_t n)
{
	const struct pgb_fleet_result *r = &f->res[t];
	int	c = class_of(f, t);

	if (c == C_APPLIED || c == C_ROLLED_BACK)
		snprintf(buf, n, "%s %zu", classes[c].label, r->count);
	else if (c == C_PENDING)
		snprintf(buf, n, "%zu pending", r->count);
	else if (c == C_FAILED && strcmp(f->cmd, "status") == 0)
		snprintf(buf, n, "a failed migration in its history");
	else if ((c == C_FAILED || c == C_OPERATOR || c == C_INTERRUPTED) &&
	    r->at >= 0)
		snprintf(buf, n, "%s at %s", c == C_FAILED ? "failed" :
		    c == C_OPERATOR ? "needs an operator" : "interrupted",
		    r->at_label);
	else
		snprintf(buf, n, "%s", c == C_OPERATOR ? "needs an operator" :
		    classes[c].label);
}

static void
json_num_or_null(const char *key, long long v)
{
	if (v < 0)
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%lld", key, v);
}

/* {"event":"target",...} for a target that ended or never started. */
void
pgb_fleet_json_target(const struct pgb_fleet *f, size_t t)
{
	const struct pgb_fleet_result *r = &f->res[t];

	printf("{\"event\":\"target\",\"target\":");
	pgb_json_str(stdout, f->ts->v[t].name);
	printf(",\"command\":\"%s\",\"result\":\"%s\"", f->cmd,
	    classes[class_of(f, t)].key);
	if (f->state[t] == PGB_T_DONE)
		printf(",\"exit\":%d", r->exit);
	else
		printf(",\"exit\":null");
	if (strcmp(f->cmd, "status") == 0) {
		json_num_or_null("version", listed(f, t) ? r->version : -1);
		if (listed(f, t))
			printf(",\"pending\":%zu,\"drifted\":%zu,\"failed\":"
			    "%zu,\"ahead\":%zu", r->pending, r->drifted,
			    r->failed, r->missing);
	} else
		printf(",\"count\":%zu", r->count);
	if (r->at >= 0) {
		printf(",\"at_version\":%lld,\"at_migration\":", r->at);
		pgb_json_str(stdout, r->at_label);
	}
	if (r->msg[0] != '\0') {
		printf(",\"message\":");
		pgb_json_str(stdout, r->msg);
	}
	printf("}\n");
	fflush(stdout);
}

static void
matrix(const struct pgb_fleet *f, int width)
{
	const struct pgb_fleet_result *r;
	char	v[24];
	size_t	t;

	printf("%-*s  %-8s %7s %7s %7s %7s  %s\n", width, "TARGET",
	    "VERSION", "PENDING", "DRIFTED", "FAILED", "AHEAD", "STATE");
	for (t = 0; t < f->ts->n; t++) {
		r = &f->res[t];
		if (!listed(f, t)) {
			printf("%-*s  %-8s %7s %7s %7s %7s  %s\n", width,
			    f->ts->v[t].name, "-", "-", "-", "-", "-",
			    classes[class_of(f, t)].key);
			continue;
		}
		if (r->version < 0)
			snprintf(v, sizeof(v), "-");
		else
			snprintf(v, sizeof(v), "%lld", r->version);
		printf("%-*s  %-8s %7zu %7zu %7zu %7zu  %s\n", width,
		    f->ts->v[t].name, v, r->pending, r->drifted, r->failed,
		    r->missing, classes[class_of(f, t)].key);
	}
	fflush(stdout);
}

/* One line per target on stderr (only the failures with -q). */
static void
listing(const struct pgb_fleet *f, int width)
{
	const struct pgb_fleet_result *r;
	char	what[PGB_NAME_MAX + 64];
	size_t	t;

	if (!f->quiet)
		fprintf(stderr, "pgapply: %s on %zu target%s:\n", f->cmd,
		    f->ts->n, f->ts->n == 1 ? "" : "s");
	for (t = 0; t < f->ts->n; t++) {
		r = &f->res[t];
		if (f->quiet && f->state[t] == PGB_T_DONE && r->code == 0)
			continue;
		describe(f, t, what, sizeof(what));
		fprintf(stderr, "  %-*s  %s%s%s\n", width, f->ts->v[t].name,
		    what, r->msg[0] ? ": " : "", r->msg);
	}
}

void
pgb_fleet_summary(const struct pgb_fleet *f, int worst)
{
	size_t		 count[NCLASSES], t, w = 6;
	const char	*sep = "";
	int		 c, exit = f->h->exit_for(worst);

	memset(count, 0, sizeof(count));
	for (t = 0; t < f->ts->n; t++) {
		count[class_of(f, t)]++;
		if (strlen(f->ts->v[t].name) > w)
			w = strlen(f->ts->v[t].name);
	}
	if (w > 40)
		w = 40;
	if (f->ts->n == 0 && !f->json)
		return;
	if (f->json) {
		printf("{\"event\":\"fleet\",\"command\":\"%s\",\"targets\":%zu,"
		    "\"listed\":%zu,\"exit\":%d,\"results\":{", f->cmd,
		    f->ts->n, f->ts->total, exit);
		for (c = 0; c < NCLASSES; c++) {
			if (count[c] == 0)
				continue;
			printf("%s\"%s\":%zu", sep, classes[c].key, count[c]);
			sep = ",";
		}
		printf("}}\n");
		fflush(stdout);
		return;
	}
	if (strcmp(f->cmd, "status") == 0)
		matrix(f, (int)w);
	else
		listing(f, (int)w);
	if (f->quiet && worst == 0)
		return;
	fprintf(stderr, "pgapply: ");
	for (c = 0; c < NCLASSES; c++) {
		if (count[c] == 0)
			continue;
		fprintf(stderr, "%s%zu %s", sep, count[c], classes[c].label);
		sep = ", ";
	}
	fprintf(stderr, "; exit %d\n", exit);
}

void
pgb_fleet_announce(const struct pgb_fleet *f)
{
	if (f->quiet || f->json)
		return;
	if (f->ts->n == 0)
		fprintf(stderr, "pgapply: shard %lld/%lld holds none of the "
		    "%zu targets\n", f->o->shard_i, f->o->shard_n,
		    f->ts->total);
	else if (f->o->shard_n > 0)
		fprintf(stderr, "pgapply: %s on %zu of %zu targets (shard "
		    "%lld/%lld), %zu at a time\n", f->cmd, f->ts->n,
		    f->ts->total, f->o->shard_i, f->o->shard_n, f->nslots);
	else
		fprintf(stderr, "pgapply: %s on %zu target%s, %zu at a time\n",
		    f->cmd, f->ts->n, f->ts->n == 1 ? "" : "s", f->nslots);
}
