/*
 * cmd_build.c - pgbundle build, check and sum: compile a folder of
 * migrations, then write the bundle (build), prove it on a scratch
 * database or only report (check), or compare the sum file (sum).
 *
 * Trusts: the command line main.c parsed against the table.  Prints the
 * findings on stderr (check --json: one object on stdout on every path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "json.h"
#include "prove.h"
#include "banned.h"

/* A finding's optional text as JSON: the string, or null. */
static void
json_or_null(const char *s)
{
	if (s != NULL)
		pgb_json_str(stdout, s);
	else
		printf("null");
}

/*
 * check --json: the one object every check prints, whatever happened:
 * the findings, the proof on a scratch database when one ran ('pr' not
 * NULL), and why it stopped when it did ('d' not NULL, exit 'rc').
 */
static void
check_json(const struct pgb_report *r, const char *dir,
    const struct pgb_prove_result *pr, const struct pgb_build_result *br,
    long long ms, int rc, const struct pgb_diag *d)
{
	static const char *const sev[] = { "note", "warning", "error" };
	size_t	i;

	printf("{\"dir\":");
	pgb_json_str(stdout, dir);
	printf(",\"ok\":%s,\"errors\":%zu,\"warnings\":%zu,\"strict\":%s,"
	    "\"proven\":%s", rc == 0 && !pgb_report_failures(r) ? "true" :
	    "false", r->nerrors, r->nwarnings, r->strict ? "true" : "false",
	    pr != NULL ? "true" : "false");
	if (pr != NULL)
		printf(",\"applied\":%zu,\"down_scripts\":%zu,\"reruns\":%zu,"
		    "\"baselines\":%zu,\"not_checked\":%zu,\"duration_ms\":"
		    "%lld", pr->applied, pr->downs, pr->reruns, pr->baselines,
		    pr->skipped, ms);
	if (br != NULL)
		printf(",\"new\":%zu,\"not_linted\":%zu", br->nnew,
		    br->unlinted);
	printf(",\"findings\":[");
	for (i = 0; i < r->n; i++) {
		const struct pgb_finding *f = &r->v[i];
		enum pgb_sev s = f->sev;

		if (r->strict && s == PGB_SEV_WARNING)
			s = PGB_SEV_ERROR;
		printf("%s{\"file\":", i ? "," : "");
		pgb_json_str(stdout, f->file);
		printf(",\"line\":%u,\"severity\":\"%s\",\"rule\":",
		    f->line ? f->line : 1, sev[s]);
		if (f->rule)
			pgb_json_str(stdout, f->rule);
		else
			printf("null");
		printf(",\"message\":");
		pgb_json_str(stdout, f->msg);
		printf(",\"detail\":");
		json_or_null(f->detail);
		printf(",\"hint\":");
		json_or_null(f->hint);
		printf("}");
	}
	printf("]");
	if (d != NULL) {
		printf(",\"error\":{\"exit\":%d,\"message\":", rc);
		pgb_json_str(stdout, d->msg);
		printf(",\"detail\":");
		pgb_json_str(stdout, d->detail);
		printf("}");
	}
	printf("}\n");
}

/*
 * check stopped on 'd': the message on stderr, and under --json inside
 * the check's one object rather than as an object of its own.
 */
static int
check_fail(const struct pgb_cmd_args *a, struct pgb_report *r, const char *dir,
    const struct pgb_diag *d)
{
	int	rc, was = pgb_cli_json;

	pgb_cli_json = 0;
	rc = pgb_cli_fail(d);
	pgb_cli_json = was;
	if (a->json) {
		pgb_report_sort(r);
		check_json(r, dir, NULL, NULL, 0, rc, d);
	}
	return rc;
}

/*
 * check --json without a proof: the object for a compile that succeeded
 * ('rc' 0), found problems in the files, or stopped on 'd'.
 */
static int
check_static_json(const struct pgb_cmd_args *a, struct pgb_report *r,
    const char *dir, int rc, const struct pgb_diag *d)
{
	if (rc == -1 && (d->code != PGB_ESOURCE || r->n == 0))
		return check_fail(a, r, dir, d);
	pgb_report_sort(r);
	rc = rc == 0 ? 0 : EXIT_SOURCE;
	check_json(r, dir, NULL, NULL, 0, rc, NULL);
	return rc;
}

static int
build_or_check(const struct pgb_cmd_args *a, int write)
{
	struct pgb_build_opts	o;
	struct pgb_build_result	res;
	struct pgb_report	r;
	struct pgb_diag		d;
	int			rc;

	if (a->signer != NULL && !a->unsigned_ok) {
		fputs("pgbundle: --signer goes with --unsigned (with --key, "
		    "the key is the signer)\n", stderr);
		return EXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	o.dir = a->pos ? a->pos : "migrations";
	o.out = a->out;
	o.key = a->key;
	o.signer = a->signer;
	o.unsigned_ok = a->unsigned_ok || !write;
	o.project = a->project;
	o.target = a->target;
	o.include_root = a->include_root;
	o.write = write;
	o.layout = a->layout;
	o.lint_all = a->lint_all;
	o.sums = a->sums;
	o.sum = write ? PGB_SUM_UPDATE : PGB_SUM_CHECK;
	if (!write)
		o.key = NULL;
	pgb_report_init(&r, a->strict);
	pgb_diag_clear(&d);
	rc = pgb_build(&o, &r, &res, &d);
	if (!write && a->json) {
		rc = check_static_json(a, &r, o.dir, rc, &d);
		pgb_report_release(&r);
		return rc;
	}
	pgb_cli_report(&r, a->quiet);
	if (rc == -1 && d.code == PGB_ESOURCE && r.n > 0) {
		pgb_cli_unlinted(o.dir, &res, a->quiet);
		fprintf(stderr, "pgbundle: %s: %zu error%s, %zu warning%s%s%s\n",
		    o.dir, r.nerrors, r.nerrors == 1 ? "" : "s", r.nwarnings,
		    r.nwarnings == 1 ? "" : "s",
		    r.strict && r.nwarnings ? " (--strict)" : "",
		    write ? "; nothing was written" : "");
		pgb_report_release(&r);
		return EXIT_SOURCE;
	}
	if (rc == -1) {
		pgb_report_release(&r);
		return pgb_cli_fail(&d);
	}
	if (!a->quiet) {
		if (write && a->signer != NULL)
			fprintf(stderr, "pgbundle: wrote %s (%zu migrations, %zu "
			    "statements, %zu bytes, unsigned, to be signed by "
			    "key %s)\n", res.path, res.nmigs, res.nstmts,
			    res.size, res.signer);
		else if (write)
			fprintf(stderr, "pgbundle: wrote %s (%zu migrations, %zu "
			    "statements, %zu bytes, key %s)\n", res.path,
			    res.nmigs, res.nstmts, res.size, res.key_id);
		else if (res.nnew > 0)
			fprintf(stderr, "pgbundle: %s: %zu migrations (%zu new), "
			    "%zu statements, %zu warning%s\n", o.dir, res.nmigs,
			    res.nnew, res.nstmts, r.nwarnings, r.nwarnings == 1 ?
			    "" : "s");
		else
			fprintf(stderr, "pgbundle: %s: %zu migrations, %zu "
			    "statements, %zu warning%s\n", o.dir, res.nmigs,
			    res.nstmts, r.nwarnings, r.nwarnings == 1 ? "" : "s");
		pgb_cli_unlinted(o.dir, &res, 0);
		if (strcmp(res.layout, "pgbundle") != 0)
			fprintf(stderr, "pgbundle: %s: read in the %s layout\n",
			    o.dir, res.layout);
		if (res.sum_written)
			fprintf(stderr, "pgbundle: updated %s/%s\n", o.dir,
			    PGB_SUM_NAME);
	}
	if (write)
		printf("%s\n", res.path);
	pgb_report_release(&r);
	return 0;
}

/* pgbundle build: write the bundle, signed or to be signed elsewhere. */
int
cmd_build(struct pgb_cmd_args *a)
{
	return build_or_check(a, 1);
}

/*
 * check's compile of 'dir' in memory: 0; or its exit status after
 * printing the problems, or under --json the check's one object.
 */
static int
compile(const struct pgb_cmd_args *a, const char *dir, enum pgb_sum_mode sum,
    struct pgb_report *r, struct pgb_build_result *res, struct pgb_bundle **b)
{
	struct pgb_diag	d;

	if (pgb_cli_compile(a, dir, sum, r, res, b, &d) == 0)
		return 0;
	if (a->json)
		return check_static_json(a, r, dir, -1, &d);
	return pgb_cli_compile_failed(a, dir, r, res, &d);
}

/*
 * pgbundle check --db URL | --scratch: the static checks, then every
 * migration proven on a scratch database (prove.c).
 */
static int
prove(const struct pgb_cmd_args *a)
{
	struct pgb_report	 r, ar;
	struct pgb_bundle	*b = NULL, *ab = NULL;
	struct pgb_scratch	 sc;
	struct pgb_server	 srv;
	struct pgb_prove_opts	 po;
	struct pgb_prove_result	 pr;
	struct pgb_build_result	 br, abr;
	struct pgb_diag		 d;
	const char		*dir = a->pos ? a->pos : "migrations";
	double			 t0 = pgb_clock_s();
	long long		 ms;
	int			 rc;

	if ((a->db != NULL || a->db_file != NULL) && a->scratch)
		return pgb_cli_usage(a, "--db and --scratch exclude each other");
	pgb_cli_signals();
	pgb_report_init(&r, a->strict);
	pgb_report_init(&ar, 0);
	pgb_diag_clear(&d);
	if ((rc = compile(a, dir, PGB_SUM_CHECK, &r, &br, &b)) != 0 ||
	    (a->archive && (rc = compile(a, a->archive, PGB_SUM_IGNORE, &ar,
	    &abr, &ab)) != 0)) {
		pgb_bundle_free(b);
		pgb_report_release(&r);
		pgb_report_release(&ar);
		return rc;
	}
	pgb_report_release(&ar);
	memset(&po, 0, sizeof(po));
	po.dir = dir;
	po.history = "pgbundle.history";
	po.archive = ab ? &ab->manifest : NULL;
	po.archive_dir = a->archive;
	po.locks = a->locks;
	rc = pgb_cli_server_open(a, &sc, &srv, &d);
	if (rc == 0) {
		rc = pgb_prove(&srv, &b->manifest, &po, &r, &pr, &d);
		pgb_cli_server_close(&sc, &srv);
	}
	pgb_bundle_free(b);
	pgb_bundle_free(ab);
	if (rc == -1) {
		if (!a->json)
			pgb_cli_report(&r, a->quiet);
		rc = check_fail(a, &r, dir, &d);
		pgb_report_release(&r);
		return rc;
	}
	ms = (long long)((pgb_clock_s() - t0) * 1000);
	pgb_report_sort(&r);
	if (a->json)
		check_json(&r, dir, &pr, &br, ms, 0, NULL);
	else {
		pgb_cli_report(&r, a->quiet);
		pgb_cli_unlinted(dir, &br, a->quiet);
		fprintf(stderr, "pgbundle: %s: %zu migration%s proven on a "
		    "scratch database in %.1f s (%zu down script%s, %zu "
		    "re-run%s, %zu baseline%s): %zu error%s, %zu warning%s%s\n",
		    dir, pr.applied, pr.applied == 1 ? "" : "s", ms / 1000.0,
		    pr.downs, pr.downs == 1 ? "" : "s", pr.reruns,
		    pr.reruns == 1 ? "" : "s", pr.baselines,
		    pr.baselines == 1 ? "" : "s", r.nerrors,
		    r.nerrors == 1 ? "" : "s", r.nwarnings,
		    r.nwarnings == 1 ? "" : "s",
		    r.strict && r.nwarnings ? " (--strict)" : "");
	}
	rc = pgb_report_failures(&r) > 0 ? EXIT_SOURCE : 0;
	pgb_report_release(&r);
	return rc;
}

/* pgbundle check: the static checks, proven on a server when told one. */
int
cmd_check(struct pgb_cmd_args *a)
{
	return a->db || a->db_read || a->scratch ? prove(a) :
	    build_or_check(a, 0);
}

/*
 * pgbundle sum: compile DIR and compare DIR/pgbundle.sum with it, or
 * with --fix rewrite it.  Writes no bundle.
 */
int
cmd_sum(struct pgb_cmd_args *a)
{
	struct pgb_build_opts	o;
	struct pgb_build_result	res;
	struct pgb_report	r;
	struct pgb_diag		d;
	int			rc;

	memset(&o, 0, sizeof(o));
	o.dir = a->pos ? a->pos : "migrations";
	o.unsigned_ok = 1;
	o.include_root = a->include_root;
	o.layout = a->layout;
	o.sum = a->fix ? PGB_SUM_FIX : PGB_SUM_CHECK;
	o.sum_only = 1;
	pgb_report_init(&r, a->strict);
	pgb_diag_clear(&d);
	rc = pgb_build(&o, &r, &res, &d);
	pgb_cli_report(&r, a->quiet);
	if (rc == -1 && d.code == PGB_ESOURCE && r.n > 0) {
		fprintf(stderr, "pgbundle: %s: %zu error%s\n", o.dir, r.nerrors,
		    r.nerrors == 1 ? "" : "s");
		pgb_report_release(&r);
		return EXIT_SOURCE;
	}
	pgb_report_release(&r);
	if (rc == -1)
		return pgb_cli_fail(&d);
	if (!a->quiet && res.nnew > 0 && !res.sum_written)
		fprintf(stderr, "pgbundle: %s/%s agrees with the folder and "
		    "lacks %zu new migration%s (%zu migrations): 'pgbundle "
		    "build' or 'pgbundle sum --fix' records them\n", o.dir,
		    PGB_SUM_NAME, res.nnew, res.nnew == 1 ? "" : "s",
		    res.nmigs);
	else if (!a->quiet)
		fprintf(stderr, "pgbundle: %s/%s %s (%zu migrations)\n", o.dir,
		    PGB_SUM_NAME, res.sum_written ? "written" : "is up to date",
		    res.nmigs);
	return 0;
}
