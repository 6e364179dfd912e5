/*
 * main.c - pgbundle: compile a folder of migrations into a signed bundle.
 *
 * The only file that prints and exits.  Exit status: 0 success, 1 problems
 * in the migrations (or a bundle that fails inspection), 2 usage, 3 key
 * errors, 4 I/O or internal errors (a failed write to its own output
 * too).  Text from files, bundles and servers is cleaned before it
 * reaches a terminal (text.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "build.h"
#include "bundle.h"
#include "clock.h"
#include "conninfo.h"
#include "fileio.h"
#include "json.h"
#include "configmap.h"
#include "keys.h"
#include "new.h"
#include "prove.h"
#include "report.h"
#include "scratch.h"
#include "squash.h"
#include "sig.h"
#include "sign.h"
#include "text.h"
#include "banned.h"

#define EXIT_SOURCE	1
#define EXIT_USAGE	2
#define EXIT_KEY	3
#define EXIT_INTERNAL	4

static const char usage_text[] =
"usage: pgbundle keygen -o NAME\n"
"       pgbundle build [DIR] [-o FILE] (--key KEY | --unsigned [--signer PUB])\n"
"                [--strict] [--project NAME] [--target NAME]\n"
"                [--include-root DIR] [-q] [--layout NAME] [--lint-all]\n"
"                [--sums]\n"
"       pgbundle check [DIR] [--strict] [--include-root DIR] [--layout NAME]\n"
"                [-q] [--db URL | --db-file PATH | --scratch] [--archive DIR]\n"
"                [--locks] [--json] [--lint-all]\n"
"       pgbundle new NAME [DIR] [--layout NAME]\n"
"       pgbundle squash [DIR] --through N --archive DIR [--data TABLE]...\n"
"                [--schema-only TABLE]... [--db URL | --db-file PATH]\n"
"                [--include-root DIR] [--layout NAME] [-q]\n"
"       pgbundle sum [DIR] [--fix] [--include-root DIR] [--layout NAME]\n"
"       pgbundle inspect FILE [--pubkey KEY] [--json]\n"
"       pgbundle configmap FILE --name NAME [--pubkey KEY]\n"
"       pgbundle sign FILE (--key KEY | --signature-from SRC --signer PUB)\n"
"                [--minisig]\n"
"       pgbundle cosign FILE (--key KEY | --signature-from SRC --signer PUB)\n"
"                [--minisig]\n"
"       pgbundle pubkey KEY [--minisign]\n";

static const char help_text[] =
"pgbundle compiles a folder of PostgreSQL migrations into one signed,\n"
"deterministic bundle for pgapply.\n"
"\n"
"Commands:\n"
"  keygen -o NAME      write NAME.key (Ed25519, PKCS#8 PEM, 0600) and\n"
"                      NAME.pub (SubjectPublicKeyInfo PEM); print the key id\n"
"  build [DIR]         validate, lint and pack DIR (default: migrations/)\n"
"  check [DIR]         validate and lint only; write nothing; with --db or\n"
"                      --scratch, also prove every migration on a scratch\n"
"                      database: apply, verify, down scripts, re-runs\n"
"  new NAME [DIR]      write the next migration of DIR and an empty down\n"
"                      script, numbered as DIR numbers its migrations\n"
"  squash [DIR]        replace migrations 1..N by one baseline (pg_dump)\n"
"  sum [DIR]           compare DIR/pgbundle.sum with the migrations\n"
"  inspect FILE        show a bundle's migrations, modes, sizes and hashes\n"
"  configmap FILE      print a Kubernetes ConfigMap holding FILE and its\n"
"                      signatures (FILE.sig, FILE.KEYID.sig)\n"
"  sign FILE           sign a built bundle, here (--key) or with a signature\n"
"                      made elsewhere (--signature-from); writes FILE.sig\n"
"  cosign FILE         add another approver's signature: FILE.KEYID.sig\n"
"  pubkey KEY          print the public key of KEY (a .key or .pub file)\n"
"\n"
"Options:\n"
"  -o, --output FILE   bundle path (default: bundles/PROJECT-LAST.pgb)\n"
"  -k, --key KEY       Ed25519 private key to sign with\n"
"      --unsigned      build without a signature (pgapply refuses it unless\n"
"                      told --insecure-allow-unsigned, or signed later)\n"
"      --signer PUB    build --unsigned: record the key that will sign it;\n"
"                      sign, cosign: the public key of --signature-from\n"
"      --signature-from SRC  sign, cosign: a signature made elsewhere, as\n"
"                      64 raw bytes, hex, base64 or vault:v1:BASE64 ('-':\n"
"                      standard input), checked against --signer\n"
"      --minisig       sign, cosign: also write FILE.minisig for minisign -V\n"
"      --minisign      pubkey: print minisign's public key file instead\n"
"      --strict        treat lint warnings as errors\n"
"      --lint-all      build, check: lint released migrations too (those\n"
"                      DIR/pgbundle.sum records; by default only new ones)\n"
"      --sums          build: add the bundle's line to SHA256SUMS beside it\n"
"                      (by default only in a folder named bundles)\n"
"      --project NAME  project name (default: the folder holding DIR)\n"
"      --target NAME   record a deploy target (pgapply --expect-target)\n"
"      --include-root DIR  resolve \\i paths from DIR (default: the cwd);\n"
"                      every \\i and \\ir must stay inside it\n"
"      --layout NAME   read DIR as pgbundle, golang-migrate, diesel, flyway,\n"
"                      dbmate, goose, sql-migrate, prisma, atlas, sqitch\n"
"                      or liquibase lays it out (default: detect)\n"
"      --fix           sum: rewrite DIR/pgbundle.sum from the migrations\n"
"  -p, --pubkey KEY    inspect: verify the signature with this public key\n"
"      --json          inspect, check: print JSON (check: one object on every\n"
"                      path, findings and any error in it)\n"
"      --db URL        check, squash: make (and drop) scratch databases on\n"
"                      this server; it touches no other database\n"
"      --db-file PATH  the same, read from PATH's first line (no password in\n"
"                      ps; PGPASSWORD and PGPASSFILE work too)\n"
"      --scratch       check: start a throwaway server (initdb) for it; squash\n"
"                      does so unless given --db\n"
"      --archive DIR   squash: move the replaced files there; check: compare\n"
"                      a baseline with the migrations there\n"
"      --locks         check: report write-blocking locks on filled tables\n"
"      --through N     squash: the last version to replace\n"
"      --data TABLE    squash: keep TABLE's rows in the baseline (repeatable)\n"
"      --schema-only TABLE  squash: leave TABLE's rows out of the baseline\n"
"                      (a table the migrations fill needs one or the other)\n"
"      --name NAME     configmap: the ConfigMap's name\n"
"  -q, --quiet         print only errors and warnings\n"
"  -h, --help          show this help\n"
"      --version       show the version\n"
"\n"
"Environment: SOURCE_DATE_EPOCH sets the creation time recorded in the\n"
"bundle; with it, the same sources and key give byte-identical bundles.\n"
"PGBUNDLE_PG_BINDIR names the directory of initdb, pg_ctl and pg_dump for\n"
"check --scratch and squash (default: `pg_config --bindir`, then PATH).\n"
"\n"
"Exit status: 0 success, 1 problems in the migrations, 2 usage error,\n"
"3 key error, 4 I/O or internal error (also: cannot write its own output).\n";

enum { OPT_UNSIGNED = 256, OPT_STRICT, OPT_PROJECT, OPT_TARGET,
	OPT_INCLUDE_ROOT, OPT_JSON, OPT_VERSION, OPT_NAME, OPT_LAYOUT, OPT_FIX };

enum { OPT_SIGNER = 768, OPT_SIGFROM, OPT_MINISIG, OPT_MINISIGN };

enum { OPT_DB = 512, OPT_SCRATCH, OPT_ARCHIVE, OPT_LOCKS, OPT_THROUGH,
	OPT_DATA, OPT_DB_FILE, OPT_SCHEMA_ONLY, OPT_LINT_ALL, OPT_SUMS };

#define DATA_MAX	64	/* --data tables, and --schema-only tables */

static const struct option longopts[] = {
	{ "output",	  required_argument, NULL, 'o' },
	{ "key",	  required_argument, NULL, 'k' },
	{ "pubkey",	  required_argument, NULL, 'p' },
	{ "unsigned",	  no_argument,	     NULL, OPT_UNSIGNED },
	{ "strict",	  no_argument,	     NULL, OPT_STRICT },
	{ "project",	  required_argument, NULL, OPT_PROJECT },
	{ "target",	  required_argument, NULL, OPT_TARGET },
	{ "include-root", required_argument, NULL, OPT_INCLUDE_ROOT },
	{ "json",	  no_argument,	     NULL, OPT_JSON },
	{ "name",	  required_argument, NULL, OPT_NAME },
	{ "layout",	  required_argument, NULL, OPT_LAYOUT },
	{ "fix",	  no_argument,	     NULL, OPT_FIX },
	{ "db",		  required_argument, NULL, OPT_DB },
	{ "db-file",	  required_argument, NULL, OPT_DB_FILE },
	{ "scratch",	  no_argument,	     NULL, OPT_SCRATCH },
	{ "archive",	  required_argument, NULL, OPT_ARCHIVE },
	{ "locks",	  no_argument,	     NULL, OPT_LOCKS },
	{ "through",	  required_argument, NULL, OPT_THROUGH },
	{ "data",	  required_argument, NULL, OPT_DATA },
	{ "schema-only",  required_argument, NULL, OPT_SCHEMA_ONLY },
	{ "lint-all",	  no_argument,	     NULL, OPT_LINT_ALL },
	{ "sums",	  no_argument,	     NULL, OPT_SUMS },
	{ "signer",	  required_argument, NULL, OPT_SIGNER },
	{ "signature-from", required_argument, NULL, OPT_SIGFROM },
	{ "minisig",	  no_argument,	     NULL, OPT_MINISIG },
	{ "minisign",	  no_argument,	     NULL, OPT_MINISIGN },
	{ "quiet",	  no_argument,	     NULL, 'q' },
	{ "help",	  no_argument,	     NULL, 'h' },
	{ "version",	  no_argument,	     NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

struct args {
	const char	*cmd;
	const char	*pos;		/* DIR or FILE; new: NAME */
	const char	*pos2;		/* new: DIR */
	const char	*out;
	const char	*key;
	const char	*pubkey;
	const char	*project;
	const char	*target;
	const char	*include_root;
	const char	*name;		/* configmap --name */
	enum pgb_layout	 layout;	/* --layout; AUTO: detect */
	int		 unsigned_ok, strict, json, quiet, fix;
	const char	*db;		/* check, squash --db */
	const char	*db_file;	/* --db-file */
	char		*db_read;	/* the conninfo read from it */
	const char	*archive;
	const char	*data[DATA_MAX];
	size_t		 ndata;
	const char	*schema_only[DATA_MAX];
	size_t		 nschema_only;
	int		 lint_all;
	int		 sums;
	long long	 through;
	int		 scratch, locks, has_through;
	const char	*signer;	/* build --unsigned, sign, cosign */
	const char	*sigfrom;	/* sign, cosign --signature-from */
	int		 minisig, minisign;
};

/* --json was given: errors answer with one JSON object on stdout too. */
static int	json;

/* 's' to 'f', safe for a terminal. */
static void
put_clean(FILE *f, const char *s)
{
	pgb_text_write(f, s, strlen(s));
}

static void
json_error(int rc, const char *msg, const char *detail)
{
	printf("{\"event\":\"error\",\"exit\":%d,\"message\":", rc);
	pgb_json_str(stdout, msg);
	printf(",\"detail\":");
	pgb_json_str(stdout, detail);
	printf("}\n");
}

/*
 * A usage error: its reason and the synopsis on stderr, and with --json
 * one error object on stdout.  Returns EXIT_USAGE.
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
	fputs("pgbundle: ", stderr);
	put_clean(stderr, msg);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	if (json)
		json_error(EXIT_USAGE, msg, "see pgbundle --help");
	return EXIT_USAGE;
}

static int
exit_for(int code)
{
	switch (code) {
	case PGB_ESOURCE:
		return EXIT_SOURCE;
	case PGB_EUSAGE:
	case PGB_ECONNECT:	/* --db names what cannot connect */
		return EXIT_USAGE;
	case PGB_EKEY:
		return EXIT_KEY;
	case PGB_EBUNDLE:
		return EXIT_SOURCE;
	default:
		return EXIT_INTERNAL;
	}
}

/* Print 'd' once, as every error is printed; a detail line by line. */
static int
fail(const struct pgb_diag *d)
{
	const char	*p, *nl;

	fputs("pgbundle: ", stderr);
	put_clean(stderr, d->msg);
	fputs("\n", stderr);
	for (p = d->detail; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		fprintf(stderr, "  %s", p == d->detail ? "detail: " : "");
		pgb_text_write(stderr, p, (size_t)(nl - p));
		fputs("\n", stderr);
	}
	if (json)
		json_error(exit_for(d->code), d->msg, d->detail);
	return exit_for(d->code);
}

/* "  label: TEXT", each line of TEXT indented the same, cleaned. */
static void
print_indented(const char *label, const char *text)
{
	const char	*p, *nl;

	for (p = text; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		fprintf(stderr, "  %s", p == text ? label : "");
		pgb_text_write(stderr, p, (size_t)(nl - p));
		fputs("\n", stderr);
	}
}

static void
print_report(struct pgb_report *r, int quiet)
{
	static const char *const sev[] = { "note", "warning", "error" };
	size_t	i;

	pgb_report_sort(r);
	for (i = 0; i < r->n; i++) {
		const struct pgb_finding *f = &r->v[i];
		enum pgb_sev s = f->sev;

		if (quiet && s == PGB_SEV_NOTE)
			continue;
		if (r->strict && s == PGB_SEV_WARNING)
			s = PGB_SEV_ERROR;
		/* File names and messages quote what the files hold. */
		put_clean(stderr, f->file);
		fprintf(stderr, ":%u: %s: ", f->line > 0 ? f->line : 1, sev[s]);
		put_clean(stderr, f->msg);
		if (f->rule)
			fprintf(stderr, " [%s]", f->rule);
		fputc('\n', stderr);
		if (f->detail)
			print_indented("detail: ", f->detail);
		if (f->hint)
			print_indented("hint: ", f->hint);
	}
}

/*
 * What build and check say about the sum file's view: the released
 * migrations they did not lint.
 */
static void
print_unlinted(const char *dir, const struct pgb_build_result *res, int quiet)
{
	if (quiet || res->unlinted == 0)
		return;
	fputs("pgbundle: ", stderr);
	put_clean(stderr, dir);
	fprintf(stderr, ": %zu released migration%s (in the sum file) not "
	    "linted; --lint-all lints them too\n", res->unlinted,
	    res->unlinted == 1 ? "" : "s");
}

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
check_fail(const struct args *a, struct pgb_report *r, const char *dir,
    const struct pgb_diag *d)
{
	int	rc, was = json;

	json = 0;
	rc = fail(d);
	json = was;
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
check_static_json(const struct args *a, struct pgb_report *r,
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
cmd_keygen(const struct args *a)
{
	struct pgb_diag	d;
	char		id[PGB_KEYID_LEN + 1];

	if (a->out == NULL || a->pos != NULL)
		return usage_error("keygen takes -o NAME and no other argument");
	pgb_diag_clear(&d);
	if (pgb_keys_generate(a->out, id, &d) == -1)
		return fail(&d);
	printf("%s\n", id);
	fprintf(stderr, "pgbundle: wrote %s.key (keep it secret) and %s.pub, "
	    "key id %s\n", a->out, a->out, id);
	return 0;
}

static int
cmd_build(const struct args *a, int write)
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
	print_report(&r, a->quiet);
	if (rc == -1 && d.code == PGB_ESOURCE && r.n > 0) {
		print_unlinted(o.dir, &res, a->quiet);
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
		return fail(&d);
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
		print_unlinted(o.dir, &res, 0);
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

/* The signature files beside the bundle, as a list: "", or ", a, b". */
static void
sig_list(char *const *sigs, size_t n, int as_json)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		printf("%s", i ? as_json ? "," : ", " : "");
		if (as_json)
			pgb_json_str(stdout, sigs[i]);
		else
			put_clean(stdout, sigs[i]);
	}
	if (n == 0 && !as_json)
		printf("none");
}

static void
inspect_json(const struct pgb_bundle *b, const char *path, int verified,
    char *const *sigs, size_t nsigs)
{
	const struct pgb_manifest *m = &b->manifest;
	char	hex[PGB_HEX256_LEN + 1];
	size_t	i;

	printf("{\"bundle\":");
	pgb_json_str(stdout, path);
	printf(",\"format\":%u,\"project\":", m->format);
	pgb_json_str(stdout, m->project);
	printf(",\"target\":");
	if (m->target)
		pgb_json_str(stdout, m->target);
	else
		printf("null");
	printf(",\"bundle_id\":\"%s\",\"created\":%lld,\"compiler\":",
	    m->bundle_id, m->created);
	pgb_json_str(stdout, m->compiler);
	printf(",\"key_id\":");
	pgb_json_str(stdout, m->key_id);
	printf(",\"signature\":\"%s\",\"signature_files\":[",
	    verified ? "verified" : "not checked");
	sig_list(sigs, nsigs, 1);
	printf("],\"migrations\":[");
	for (i = 0; i < m->nmigs; i++) {
		const struct pgb_migration *g = &m->migs[i];

		pgb_hex(g->up.sha256, PGB_SHA256_LEN, hex);
		printf("%s{\"version\":%lld,\"name\":", i ? "," : "", g->version);
		pgb_json_str(stdout, g->name);
		printf(",\"file\":");
		pgb_json_str(stdout, g->up.path);
		printf(",\"mode\":\"%s\",\"statements\":%zu,\"size\":%zu,"
		    "\"sha256\":\"%s\",\"verify\":%zu,\"down\":%s}",
		    g->up.mode == PGB_MODE_NOTX ? "no-transaction" :
		    "transaction", g->up.nstmts, g->up.size, hex, g->nverify,
		    g->has_down ? "true" : "false");
	}
	printf("]}\n");
}

static void
inspect_text(const struct pgb_bundle *b, const char *path, size_t len,
    int verified, char *const *sigs, size_t nsigs)
{
	const struct pgb_manifest *m = &b->manifest;
	char		hex[PGB_HEX256_LEN + 1], when[32], c[4 * PGB_NAME_MAX];
	time_t		t = (time_t)m->created;
	struct tm	tm;
	size_t		i;

	/* Without --pubkey nothing here is vouched for: clean it all. */
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("bundle     %s (%zu bytes)\n", pgb_text_clean(c, sizeof(c),
	    path), len);
	printf("project    %s\n", pgb_text_clean(c, sizeof(c), m->project));
	printf("target     %s\n", m->target ? pgb_text_clean(c, sizeof(c),
	    m->target) : "-");
	printf("bundle id  %s\n", pgb_text_clean(c, sizeof(c), m->bundle_id));
	printf("created    %s\n", when);
	printf("compiler   %s\n", pgb_text_clean(c, sizeof(c), m->compiler));
	if (verified && strcmp(m->key_id, b->key_id) != 0)
		printf("key id     %s (signature verified, by key %s)\n",
		    pgb_text_clean(c, sizeof(c), m->key_id), b->key_id);
	else
		printf("key id     %s (signature %s)\n", pgb_text_clean(c,
		    sizeof(c), m->key_id), verified ? "verified" :
		    "not checked: pass --pubkey");
	printf("signatures ");
	sig_list(sigs, nsigs, 0);
	printf("\n");
	printf("\n%-8s %-40s %-14s %5s %9s %-4s %s\n", "VERSION", "NAME",
	    "MODE", "STMTS", "BYTES", "DOWN", "SHA256");
	for (i = 0; i < m->nmigs; i++) {
		const struct pgb_migration *g = &m->migs[i];

		pgb_hex(g->up.sha256, PGB_SHA256_LEN, hex);
		printf("%-8lld %-40s %-14s %5zu %9zu %-4s %.16s\n", g->version,
		    pgb_text_clean(c, sizeof(c), g->name), g->up.mode == PGB_MODE_NOTX ? "no-transaction" :
		    "transaction", g->up.nstmts, g->up.size,
		    g->has_down ? "yes" : "no", hex);
	}
}

/*
 * Without --pubkey, inspect shows what is inside and says the signature
 * was not checked; the archive checks still run.
 */
static int
cmd_inspect(const struct args *a)
{
	struct pgb_bundle_opts	 o;
	struct pgb_bundle	*b = NULL;
	struct pgb_diag		 d;
	const char		*keys[1];
	char			*data, **sigs = NULL;
	size_t			 len, nsigs, i;
	int			 rc;

	if (a->pos == NULL)
		return usage_error("inspect needs a bundle FILE");
	pgb_diag_clear(&d);
	if (a->pubkey != NULL) {
		memset(&o, 0, sizeof(o));
		o.path = a->pos;
		keys[0] = a->pubkey;
		o.pubkeys = keys;
		o.npubkeys = 1;
		rc = pgb_bundle_open(&o, &b, &d);
	} else {
		if (pgb_file_read("bundle", a->pos, PGB_BUNDLE_MAX, 0,
		    PGB_EBUNDLE, &data, &len, &d) == -1)
			return fail(&d);
		rc = pgb_bundle_load((unsigned char *)data, len, NULL, 0, NULL,
		    0, 1, NULL, &b, &d);
		free(data);
	}
	if (rc == -1)
		return fail(&d);
	if (pgb_sigfiles_find(a->pos, &sigs, &nsigs, &d) == -1)
		nsigs = 0;
	if (a->json)
		inspect_json(b, a->pos, a->pubkey != NULL, sigs, nsigs);
	else
		inspect_text(b, a->pos, b->filelen, a->pubkey != NULL, sigs,
		    nsigs);
	for (i = 0; i < nsigs; i++)
		free(sigs[i]);
	free(sigs);
	pgb_bundle_free(b);
	return 0;
}

/*
 * pgbundle sum: compile DIR and compare DIR/pgbundle.sum with it, or
 * with --fix rewrite it.  Writes no bundle.
 */
static int
cmd_sum(const struct args *a)
{
	struct pgb_build_opts	o;
	struct pgb_build_result	res;
	struct pgb_report	r;
	struct pgb_diag		d;
	int			rc;

	if (a->out != NULL || a->key != NULL || a->unsigned_ok)
		return usage_error("sum takes no -o, --key or --unsigned");
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
	print_report(&r, a->quiet);
	if (rc == -1 && d.code == PGB_ESOURCE && r.n > 0) {
		fprintf(stderr, "pgbundle: %s: %zu error%s\n", o.dir, r.nerrors,
		    r.nerrors == 1 ? "" : "s");
		pgb_report_release(&r);
		return EXIT_SOURCE;
	}
	pgb_report_release(&r);
	if (rc == -1)
		return fail(&d);
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

/* The ConfigMap's YAML on stdout, written only once all of it is ready. */
static int
cmd_configmap(const struct args *a)
{
	struct pgb_configmap_opts	o;
	struct pgb_buf			out;
	struct pgb_diag			d;

	if (a->pos == NULL || a->name == NULL)
		return usage_error("configmap needs a bundle FILE and --name NAME");
	memset(&o, 0, sizeof(o));
	o.path = a->pos;
	o.name = a->name;
	o.pubkey = a->pubkey;
	pgb_diag_clear(&d);
	pgb_buf_init(&out);
	if (pgb_configmap_write(&o, &out, NULL, &d) == -1) {
		pgb_buf_release(&out);
		return fail(&d);
	}
	fwrite(out.data, 1, out.len, stdout);
	pgb_buf_release(&out);
	return 0;
}

/*
 * pgbundle sign and cosign: the signature file's path on stdout, what
 * was written on stderr.
 */
static int
cmd_sign(const struct args *a, int cosign)
{
	struct pgb_sign_opts	o;
	struct pgb_sign_result	res;
	struct pgb_diag		d;

	if (a->pos == NULL)
		return usage_error("%s needs a bundle FILE", a->cmd);
	if (a->out || a->unsigned_ok || a->pubkey || a->minisign)
		return usage_error("%s takes no -o, --unsigned, --pubkey or "
		    "--minisign", a->cmd);
	memset(&o, 0, sizeof(o));
	o.path = a->pos;
	o.key = a->key;
	o.sigfrom = a->sigfrom;
	o.signer = a->signer;
	o.cosign = cosign;
	o.minisig = a->minisig;
	pgb_diag_clear(&d);
	if (pgb_sign(&o, &res, &d) == -1)
		return fail(&d);
	if (!a->quiet) {
		fprintf(stderr, "pgbundle: wrote %s: key %s's signature of %s",
		    res.sigpath, res.key_id, a->pos);
		if (a->sigfrom != NULL)
			fprintf(stderr, " (read as %s, verified)", res.form);
		fputc('\n', stderr);
		if (res.minisig[0] != '\0')
			fprintf(stderr, "pgbundle: wrote %s (check with: minisign "
			    "-Vm %s -x %s -p KEY.minisign.pub)\n", res.minisig,
			    a->pos, res.minisig);
	}
	printf("%s\n", res.sigpath);
	return 0;
}

/* pgbundle pubkey KEY [--minisign]: the public key on stdout. */
static int
cmd_pubkey(const struct args *a)
{
	struct pgb_pubkey	pub;
	struct pgb_buf		out;
	struct pgb_diag		d;
	int			rc = 0;

	if (a->pos == NULL)
		return usage_error("pubkey needs a KEY file");
	if (a->key || a->out || a->pubkey || a->signer)
		return usage_error("pubkey takes no --key, -o, --pubkey or "
		    "--signer");
	pgb_diag_clear(&d);
	if (pgb_keys_load_either(a->pos, &pub, &d) == -1)
		return fail(&d);
	pgb_buf_init(&out);
	if (a->minisign)
		pgb_minisign_pubkey(&pub, &out);
	else if (pgb_pubkey_pem(&pub, &out, &d) == -1)
		rc = fail(&d);
	if (rc == 0) {
		fwrite(out.data, 1, out.len, stdout);
		if (!a->quiet)
			fprintf(stderr, "pgbundle: key id %s\n", pub.id);
	}
	pgb_buf_release(&out);
	pgb_pubkey_release(&pub);
	return rc;
}

/* A version for --through: decimal digits, no sign, at most 18. */
static int
parse_version_arg(const char *s, long long *out)
{
	size_t	i;

	*out = 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 18; i++)
		*out = *out * 10 + (s[i] - '0');
	return i > 0 && s[i] == '\0' ? 0 : -1;
}

static void
on_signal(int sig)
{
	(void)sig;
	pgb_interrupted = 1;
}

/* SIGINT/SIGTERM end the run between steps, so scratch state goes. */
static void
catch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

/*
 * Compile 'dir' into a bundle in memory ('res' gets the counts).  0; or
 * an exit status after printing the problems (EXIT_SOURCE) or the
 * failure.
 */
static int
compile_mem(const struct args *a, const char *dir, enum pgb_sum_mode sum,
    struct pgb_report *r, struct pgb_build_result *res,
    struct pgb_bundle **b)
{
	struct pgb_build_opts	o;
	struct pgb_diag		d;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.include_root = a->include_root;
	o.layout = a->layout;
	o.lint_all = a->lint_all;
	o.sum = sum;
	pgb_diag_clear(&d);
	if (pgb_build_bundle(&o, r, res, b, &d) == 0)
		return 0;
	if (a->json)		/* check: its one object */
		return check_static_json(a, r, dir, -1, &d);
	if (d.code == PGB_ESOURCE && r->n > 0) {
		print_report(r, a->quiet);
		print_unlinted(dir, res, a->quiet);
		fprintf(stderr, "pgbundle: %s: %zu error%s, %zu warning%s%s\n",
		    dir, r->nerrors, r->nerrors == 1 ? "" : "s", r->nwarnings,
		    r->nwarnings == 1 ? "" : "s",
		    r->strict && r->nwarnings ? " (--strict)" : "");
		return EXIT_SOURCE;
	}
	return fail(&d);
}

/* Start the server check or squash works on: --db, else a scratch one. */
static int
open_server(const struct args *a, struct pgb_scratch *sc,
    struct pgb_server *srv, struct pgb_diag *d)
{
	const char	*db = a->db_read ? a->db_read : a->db;

	memset(sc, 0, sizeof(*sc));
	if (db == NULL && pgb_scratch_start(sc, d) == -1)
		return -1;
	if (pgb_server_open(srv, db ? db : sc->conninfo, d) == -1) {
		pgb_scratch_stop(sc);
		return -1;
	}
	return 0;
}

static void
close_server(struct pgb_scratch *sc, struct pgb_server *srv)
{
	pgb_server_close(srv);
	pgb_scratch_stop(sc);
}

/*
 * pgbundle check --db URL | --scratch: the static checks, then every
 * migration proven on a scratch database (prove.c).
 */
static int
cmd_prove(const struct args *a)
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
		return usage_error("--db and --scratch exclude each other");
	if (a->out || a->key || a->unsigned_ok || a->has_through || a->ndata ||
	    a->nschema_only)
		return usage_error("check takes no -o, --key, --unsigned, "
		    "--through, --data or --schema-only");
	catch_signals();
	pgb_report_init(&r, a->strict);
	pgb_report_init(&ar, 0);
	pgb_diag_clear(&d);
	if ((rc = compile_mem(a, dir, PGB_SUM_CHECK, &r, &br, &b)) != 0 ||
	    (a->archive && (rc = compile_mem(a, a->archive, PGB_SUM_IGNORE,
	    &ar, &abr, &ab)) != 0)) {
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
	rc = open_server(a, &sc, &srv, &d);
	if (rc == 0) {
		rc = pgb_prove(&srv, &b->manifest, &po, &r, &pr, &d);
		close_server(&sc, &srv);
	}
	pgb_bundle_free(b);
	pgb_bundle_free(ab);
	if (rc == -1) {
		if (!a->json)
			print_report(&r, a->quiet);
		rc = check_fail(a, &r, dir, &d);
		pgb_report_release(&r);
		return rc;
	}
	ms = (long long)((pgb_clock_s() - t0) * 1000);
	pgb_report_sort(&r);
	if (a->json)
		check_json(&r, dir, &pr, &br, ms, 0, NULL);
	else {
		print_report(&r, a->quiet);
		print_unlinted(dir, &br, a->quiet);
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

/* pgbundle new NAME [DIR]: the paths written on stdout (new.c). */
static int
cmd_new(const struct args *a)
{
	struct pgb_new_opts	o;
	struct pgb_new_result	res;
	struct pgb_diag		d;

	if (a->pos == NULL)
		return usage_error("new needs the NAME of the migration");
	if (a->out || a->key || a->unsigned_ok || a->pubkey || a->db ||
	    a->db_file || a->archive || a->json)
		return usage_error("new takes NAME, DIR and --layout");
	memset(&o, 0, sizeof(o));
	o.name = a->pos;
	o.dir = a->pos2 ? a->pos2 : "migrations";
	o.layout = a->layout;
	pgb_diag_clear(&d);
	if (pgb_now_or_epoch(&o.now, &d) == -1 || pgb_new(&o, &res, &d) == -1)
		return fail(&d);
	if (!a->quiet && res.down[0] != '\0')
		fprintf(stderr, "pgbundle: wrote %s and %s, an empty down "
		    "script (%s layout)\n", res.up, res.down,
		    pgb_layout_label(res.layout));
	else if (!a->quiet)
		fprintf(stderr, "pgbundle: wrote %s, with an empty down "
		    "section (%s layout)\n", res.up,
		    pgb_layout_label(res.layout));
	printf("%s\n", res.up);
	if (res.down[0] != '\0')
		printf("%s\n", res.down);
	return 0;
}

/* pgbundle squash: migrations 1..N become one baseline (squash.c). */
static int
cmd_squash(const struct args *a)
{
	struct pgb_report	 r;
	struct pgb_bundle	*b = NULL;
	struct pgb_scratch	 sc;
	struct pgb_server	 srv;
	struct pgb_squash_opts	 so;
	struct pgb_squash_result sr;
	struct pgb_build_result	 br;
	struct pgb_diag		 d;
	const char		*dir = a->pos ? a->pos : "migrations";
	int			 rc;

	if (!a->has_through || a->archive == NULL)
		return usage_error("squash needs --through N and --archive DIR");
	if (a->scratch || a->out || a->key || a->unsigned_ok || a->locks ||
	    a->json)
		return usage_error("squash takes no --scratch, -o, --key, "
		    "--unsigned, --locks or --json");
	catch_signals();
	pgb_report_init(&r, 0);
	pgb_diag_clear(&d);
	if ((rc = compile_mem(a, dir, PGB_SUM_IGNORE, &r, &br, &b)) != 0) {
		pgb_report_release(&r);
		return rc;
	}
	memset(&so, 0, sizeof(so));
	so.dir = dir;
	so.through = a->through;
	so.archive = a->archive;
	so.data = a->data;
	so.ndata = a->ndata;
	so.schema_only = a->schema_only;
	so.nschema_only = a->nschema_only;
	so.history = "pgbundle.history";
	so.include_root = a->include_root;
	so.layout = a->layout;
	/* The folder's own lint warnings were for check and build. */
	pgb_report_release(&r);
	pgb_report_init(&r, 0);
	rc = open_server(a, &sc, &srv, &d);
	if (rc == 0) {
		rc = pgb_squash(&srv, &b->manifest, &so, &r, &sr, &d);
		close_server(&sc, &srv);
	}
	pgb_bundle_free(b);
	print_report(&r, a->quiet);
	pgb_report_release(&r);
	if (rc == -1) {
		if (d.code == PGB_ESOURCE)
			fprintf(stderr, "pgbundle: %s; '%s' is unchanged\n",
			    d.msg, dir);
		return d.code == PGB_ESOURCE ? EXIT_SOURCE : fail(&d);
	}
	if (!a->quiet)
		fprintf(stderr, "pgbundle: wrote %s, the baseline of %lld..%lld "
		    "(%zu migrations); moved %zu files to %s\n", sr.path,
		    sr.first, a->through, sr.replaced, sr.moved, a->archive);
	if (!a->quiet && sr.sum != 0)
		fprintf(stderr, sr.sum == 1 ? "pgbundle: updated %s/%s\n" :
		    "pgbundle: could not update %s/%s: run 'pgbundle sum "
		    "--fix'\n", dir, PGB_SUM_NAME);
	printf("%s\n", sr.path);
	return 0;
}

static void
show_help(void)
{
	fputs(usage_text, stdout);
	fputs("\n", stdout);
	fputs(help_text, stdout);
}

/*
 * The options after the command into 'a'.  0; 1 for --help or
 * --version (printed); or EXIT_USAGE after a usage error.
 */
static int
parse_args(int argc, char *argv[], struct args *a)
{
	int	ch;

	optind = 1;
	opterr = 0;		/* the reasons go through usage_error() */
	while ((ch = getopt_long(argc, argv, ":o:k:p:qh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'o':
			a->out = optarg;
			break;
		case 'k':
			a->key = optarg;
			break;
		case 'p':
			a->pubkey = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case OPT_UNSIGNED:
			a->unsigned_ok = 1;
			break;
		case OPT_STRICT:
			a->strict = 1;
			break;
		case OPT_PROJECT:
			a->project = optarg;
			break;
		case OPT_TARGET:
			a->target = optarg;
			break;
		case OPT_INCLUDE_ROOT:
			a->include_root = optarg;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case OPT_NAME:
			a->name = optarg;
			break;
		case OPT_LAYOUT:
			if (pgb_layout_lookup(optarg, &a->layout) == -1)
				return usage_error("unknown layout '%.60s' "
				    "(pgbundle, golang-migrate, diesel, flyway, "
				    "dbmate, goose, sql-migrate, prisma, atlas, "
				    "sqitch, liquibase or auto)", optarg);
			break;
		case OPT_FIX:
			a->fix = 1;
			break;
		case OPT_DB:
			a->db = optarg;
			break;
		case OPT_DB_FILE:
			a->db_file = optarg;
			break;
		case OPT_SCRATCH:
			a->scratch = 1;
			break;
		case OPT_ARCHIVE:
			a->archive = optarg;
			break;
		case OPT_LOCKS:
			a->locks = 1;
			break;
		case OPT_THROUGH:
			if (parse_version_arg(optarg, &a->through) == -1)
				return usage_error("--through '%.60s' is not a "
				    "version", optarg);
			a->has_through = 1;
			break;
		case OPT_DATA:
			if (a->ndata == DATA_MAX)
				return usage_error("more than %d --data tables",
				    DATA_MAX);
			a->data[a->ndata++] = optarg;
			break;
		case OPT_SCHEMA_ONLY:
			if (a->nschema_only == DATA_MAX)
				return usage_error("more than %d --schema-only "
				    "tables", DATA_MAX);
			a->schema_only[a->nschema_only++] = optarg;
			break;
		case OPT_LINT_ALL:
			a->lint_all = 1;
			break;
		case OPT_SUMS:
			a->sums = 1;
			break;
		case OPT_SIGNER:
			a->signer = optarg;
			break;
		case OPT_SIGFROM:
			a->sigfrom = optarg;
			break;
		case OPT_MINISIG:
			a->minisig = 1;
			break;
		case OPT_MINISIGN:
			a->minisign = 1;
			break;
		case 'h':
			show_help();
			return 1;
		case OPT_VERSION:
			printf("pgbundle %s\n", PGB_VERSION);
			return 1;
		case ':':
			return usage_error("option '%.60s' needs a value",
			    argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				return usage_error("unknown option '-%c'",
				    optopt);
			return usage_error("unknown option '%.60s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->pos = argv[optind++];
	if (optind < argc && strcmp(a->cmd, "new") == 0)
		a->pos2 = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%.60s'",
		    argv[optind]);
	if (a->key != NULL && a->unsigned_ok)
		return usage_error("--key and --unsigned exclude each other");
	if (a->db != NULL && a->db_file != NULL)
		return usage_error("--db and --db-file exclude each other");
	return 0;
}

static int
run_cmd(const struct args *a)
{
	unsigned	mode;

	/* A signing key others can read is no longer secret: say so. */
	if (a->key != NULL && (mode = pgb_keys_loose_mode(a->key)) != 0) {
		fputs("pgbundle: warning: private key '", stderr);
		put_clean(stderr, a->key);
		fprintf(stderr, "' is readable or writable by group or others "
		    "(mode %04o); run chmod 600 on it\n", mode);
	}
	if (strcmp(a->cmd, "keygen") == 0)
		return cmd_keygen(a);
	if (strcmp(a->cmd, "build") == 0)
		return cmd_build(a, 1);
	if (strcmp(a->cmd, "check") == 0)
		return a->db || a->db_read || a->scratch ? cmd_prove(a) :
		    cmd_build(a, 0);
	if (strcmp(a->cmd, "squash") == 0)
		return cmd_squash(a);
	if (strcmp(a->cmd, "new") == 0)
		return cmd_new(a);
	if (strcmp(a->cmd, "inspect") == 0)
		return cmd_inspect(a);
	if (strcmp(a->cmd, "configmap") == 0)
		return cmd_configmap(a);
	if (strcmp(a->cmd, "sum") == 0)
		return cmd_sum(a);
	if (strcmp(a->cmd, "sign") == 0 || strcmp(a->cmd, "cosign") == 0)
		return cmd_sign(a, a->cmd[0] == 'c');
	if (strcmp(a->cmd, "pubkey") == 0)
		return cmd_pubkey(a);
	return usage_error("unknown command '%.60s'", a->cmd);
}

/* Run the command line; its exit status. */
static int
dispatch(int argc, char *argv[])
{
	struct args	a;
	struct pgb_diag	d;
	int		rc;

	memset(&a, 0, sizeof(a));
	if (argc < 2)
		return usage_error("no command given");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		show_help();
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("pgbundle %s\n", PGB_VERSION);
		return 0;
	}
	a.cmd = argv[1];
	if ((rc = parse_args(argc - 1, argv + 1, &a)) != 0)
		return rc == 1 ? 0 : rc;
	pgb_diag_clear(&d);
	if (a.db_file != NULL && pgb_conninfo_file(a.db_file, &a.db_read,
	    &d) == -1)
		return fail(&d);
	rc = run_cmd(&a);
	pgb_conninfo_free(a.db_read);
	return rc;
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

int
main(int argc, char *argv[])
{
	int	rc;

	/* A closed pipe is a failed write, reported, not a silent death. */
	(void)signal(SIGPIPE, SIG_IGN);
	json = wants_json(argc, argv);
	rc = dispatch(argc, argv);
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout) || ferror(stderr)) {
		fprintf(stderr, "pgbundle: internal error: I/O on pgbundle's "
		    "own output: cannot write to %s: %s\n", ferror(stdout) ?
		    "stdout" : "stderr", errno ? strerror(errno) :
		    "write error");
		if (rc == 0)
			rc = EXIT_INTERNAL;
	}
	return rc;
}
