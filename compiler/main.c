/*
 * main.c - pgbundle: compile a folder of migrations into a signed bundle.
 *
 * The table of pgbundle's commands (cmd.h): each names its handler
 * (cmd_*.c), the options it takes, its synopsis and its exit statuses;
 * parsing, usage errors and help follow from it.  Exit statuses: the
 * table 'exits' below.  Text from files, bundles and servers is cleaned
 * before it reaches a terminal (text.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conninfo.h"
#include "keys.h"
#include "banned.h"

/* The keys of the options in the table (letters are -X too). */
enum { OPT_UNSIGNED = 256, OPT_STRICT, OPT_PROJECT, OPT_TARGET,
	OPT_INCLUDE_ROOT, OPT_JSON, OPT_VERSION, OPT_NAME, OPT_LAYOUT, OPT_FIX,
	OPT_SIGNER, OPT_SIGFROM, OPT_MINISIG, OPT_MINISIGN, OPT_DB,
	OPT_SCRATCH, OPT_ARCHIVE, OPT_LOCKS, OPT_THROUGH, OPT_DATA, OPT_DB_FILE,
	OPT_SCHEMA_ONLY, OPT_LINT_ALL, OPT_SUMS };

static const struct pgb_opt opts[] = {
	{ "output", 'o', 1, "FILE", "bundle path (default: "
	    "bundles/PROJECT-LAST.pgb); keygen: writes NAME.key and NAME.pub",
	    NULL, 0 },
	{ "key", 'k', 1, "KEY", "Ed25519 private key to sign with", NULL, 0 },
	{ "unsigned", OPT_UNSIGNED, 0, NULL, "build without a signature "
	    "(pgapply refuses it unless told --insecure-allow-unsigned, or "
	    "signed later)", NULL, 0 },
	{ "signer", OPT_SIGNER, 1, "PUB", "build --unsigned: record the key "
	    "that will sign it; sign, cosign: the public key of "
	    "--signature-from", NULL, 0 },
	{ "signature-from", OPT_SIGFROM, 1, "SRC", "sign, cosign: a signature "
	    "made elsewhere, as 64 raw bytes, hex, base64 or vault:v1:BASE64 "
	    "('-': standard input), checked against --signer", NULL, 0 },
	{ "minisig", OPT_MINISIG, 0, NULL, "sign, cosign: also write "
	    "FILE.minisig for minisign -V", NULL, 0 },
	{ "minisign", OPT_MINISIGN, 0, NULL, "pubkey: print minisign's public "
	    "key file instead", NULL, 0 },
	{ "strict", OPT_STRICT, 0, NULL, "treat lint warnings as errors", NULL,
	    0 },
	{ "lint-all", OPT_LINT_ALL, 0, NULL, "lint released migrations too "
	    "(those DIR/pgbundle.sum records; by default only new ones)", NULL,
	    0 },
	{ "sums", OPT_SUMS, 0, NULL, "build: add the bundle's line to "
	    "SHA256SUMS beside it (by default only in a folder named bundles)",
	    NULL, 0 },
	{ "project", OPT_PROJECT, 1, "NAME", "project name (default: the "
	    "folder holding DIR)", NULL, 0 },
	{ "target", OPT_TARGET, 1, "NAME", "record a deploy target (pgapply "
	    "--expect-target)", NULL, 0 },
	{ "include-root", OPT_INCLUDE_ROOT, 1, "DIR", "resolve \\i paths from "
	    "DIR (default: the cwd); every \\i and \\ir must stay inside it",
	    NULL, 0 },
	{ "layout", OPT_LAYOUT, 1, "NAME", "read DIR as pgbundle, "
	    "golang-migrate, diesel, flyway, dbmate, goose, sql-migrate, "
	    "prisma, atlas, sqitch or liquibase lays it out (default: detect)",
	    NULL, 0 },
	{ "fix", OPT_FIX, 0, NULL, "sum: rewrite DIR/pgbundle.sum from the "
	    "migrations", NULL, 0 },
	{ "pubkey", 'p', 1, "KEY", "inspect: verify the signature with this "
	    "public key; configmap: verify it before writing", NULL, 0 },
	{ "json", OPT_JSON, 0, NULL, "print JSON (check: one object on every "
	    "path, findings and any error in it)", NULL, 0 },
	{ "db", OPT_DB, 1, "URL", "make (and drop) scratch databases on this "
	    "server; it touches no other database", NULL, 0 },
	{ "db-file", OPT_DB_FILE, 1, "PATH", "the same, read from PATH's first "
	    "line (no password in ps; PGPASSWORD and PGPASSFILE work too)",
	    NULL, 0 },
	{ "scratch", OPT_SCRATCH, 0, NULL, "check: start a throwaway server "
	    "(initdb) for it; squash does so unless given --db", NULL, 0 },
	{ "archive", OPT_ARCHIVE, 1, "DIR", "squash: move the replaced files "
	    "there; check: compare a baseline with the migrations there", NULL,
	    0 },
	{ "locks", OPT_LOCKS, 0, NULL, "check: report write-blocking locks on "
	    "filled tables", NULL, 0 },
	{ "through", OPT_THROUGH, 1, "N", "squash: the last version to "
	    "replace", NULL, 0 },
	{ "data", OPT_DATA, 1, "TABLE", "squash: keep TABLE's rows in the "
	    "baseline (repeatable)", NULL, 0 },
	{ "schema-only", OPT_SCHEMA_ONLY, 1, "TABLE", "squash: leave TABLE's "
	    "rows out of the baseline (a table the migrations fill needs one "
	    "or the other)", NULL, 0 },
	{ "name", OPT_NAME, 1, "NAME", "configmap: the ConfigMap's name", NULL,
	    0 },
	{ "quiet", 'q', 0, NULL, "print only errors and warnings", NULL, 0 },
	{ "help", 'h', 0, NULL, "show the help (of the command)", NULL, 1 },
	{ "version", OPT_VERSION, 0, NULL, "show the version", NULL, 1 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

#define SOURCE_OPTS	OPT_INCLUDE_ROOT, OPT_LAYOUT, 'q'

static const int keygen_opts[] = { 'o', 0 };
static const int build_opts[] = { SOURCE_OPTS, 'o', 'k', OPT_UNSIGNED,
	OPT_SIGNER, OPT_STRICT, OPT_PROJECT, OPT_TARGET, OPT_LINT_ALL, OPT_SUMS,
	0 };
static const int check_opts[] = { SOURCE_OPTS, OPT_STRICT, OPT_DB,
	OPT_DB_FILE, OPT_SCRATCH, OPT_ARCHIVE, OPT_LOCKS, OPT_JSON,
	OPT_LINT_ALL, 0 };
static const int new_opts[] = { OPT_LAYOUT, 'q', 0 };
static const int squash_opts[] = { SOURCE_OPTS, OPT_THROUGH, OPT_ARCHIVE,
	OPT_DATA, OPT_SCHEMA_ONLY, OPT_DB, OPT_DB_FILE, 0 };
static const int sum_opts[] = { SOURCE_OPTS, OPT_FIX, OPT_STRICT, 0 };
static const int inspect_opts[] = { 'p', OPT_JSON, 0 };
static const int configmap_opts[] = { OPT_NAME, 'p', 0 };
static const int sign_opts[] = { 'k', OPT_SIGFROM, OPT_SIGNER, OPT_MINISIG,
	'q', 0 };
static const int pubkey_opts[] = { OPT_MINISIGN, 'q', 0 };

static const int need_squash[] = { OPT_THROUGH, OPT_ARCHIVE, 0 };
static const int need_name[] = { OPT_NAME, 0 };

static const int keygen_exits[] = { 0, 2, 3, 4, -1 };
static const int build_exits[] = { 0, 1, 2, 3, 4, -1 };
static const int source_exits[] = { 0, 1, 2, 4, -1 };
static const int pubkey_exits[] = { 0, 2, 3, 4, -1 };

static const struct pgb_command cmds[] = {
	{ "keygen", cmd_keygen, "-o NAME", "write NAME.key (Ed25519, PKCS#8 "
	    "PEM, 0600) and NAME.pub (SubjectPublicKeyInfo PEM); print the key "
	    "id", "keygen -o NAME\n", NULL, keygen_opts, NULL, keygen_exits, 0,
	    0, "" },
	{ "build", cmd_build, "[DIR]", "validate, lint and pack DIR (default: "
	    "migrations/)",
	    "build [DIR] [-o FILE] (--key KEY | --unsigned [--signer PUB])\n"
	    "                [--strict] [--project NAME] [--target NAME]\n"
	    "                [--include-root DIR] [-q] [--layout NAME] "
	    "[--lint-all]\n                [--sums]\n", NULL, build_opts, NULL, build_exits, 0, 1, "" },
	{ "check", cmd_check, "[DIR]", "validate and lint only; write nothing; "
	    "with --db or --scratch, also prove every migration on a scratch "
	    "database: apply, verify, down scripts, re-runs",
	    "check [DIR] [--strict] [--include-root DIR] [--layout NAME]\n"
	    "                [-q] [--db URL | --db-file PATH | --scratch] "
	    "[--archive DIR]\n"
	    "                [--locks] [--json] [--lint-all]\n", NULL,
	    check_opts, NULL, source_exits, 0, 1, "" },
	{ "new", cmd_new, "NAME [DIR]", "write the next migration of DIR and an "
	    "empty down script, numbered as DIR numbers its migrations",
	    "new NAME [DIR] [--layout NAME] [-q]\n", NULL, new_opts, NULL,
	    source_exits, 1, 2, "the NAME of the migration" },
	{ "squash", cmd_squash, "[DIR]", "replace migrations 1..N by one "
	    "baseline (pg_dump)",
	    "squash [DIR] --through N --archive DIR [--data TABLE]...\n"
	    "                [--schema-only TABLE]... [--db URL | --db-file "
	    "PATH]\n"
	    "                [--include-root DIR] [--layout NAME] [-q]\n", NULL,
	    squash_opts, need_squash, source_exits, 0, 1, "" },
	{ "sum", cmd_sum, "[DIR]", "compare DIR/pgbundle.sum with the "
	    "migrations",
	    "sum [DIR] [--fix] [--strict] [--include-root DIR]\n"
	    "                [--layout NAME] [-q]\n", NULL, sum_opts, NULL, source_exits, 0, 1,
	    "" },
	{ "inspect", cmd_inspect, "FILE", "show a bundle's migrations, modes, "
	    "sizes and hashes", "inspect FILE [--pubkey KEY] [--json]\n", NULL,
	    inspect_opts, NULL, build_exits, 1, 1, "a bundle FILE" },
	{ "configmap", cmd_configmap, "FILE", "print a Kubernetes ConfigMap "
	    "holding FILE and its signatures (FILE.sig, FILE.KEYID.sig)",
	    "configmap FILE --name NAME [--pubkey KEY]\n", NULL,
	    configmap_opts, need_name, build_exits, 1, 1, "a bundle FILE" },
	{ "sign", cmd_sign, "FILE", "sign a built bundle, here (--key) or with "
	    "a signature made elsewhere (--signature-from); writes FILE.sig",
	    "sign FILE (--key KEY | --signature-from SRC --signer PUB)\n"
	    "                [--minisig]\n", NULL, sign_opts, NULL, build_exits,
	    1, 1, "a bundle FILE" },
	{ "cosign", cmd_cosign, "FILE", "add another approver's signature: "
	    "FILE.KEYID.sig",
	    "cosign FILE (--key KEY | --signature-from SRC --signer PUB)\n"
	    "                [--minisig]\n", NULL, sign_opts, NULL, build_exits,
	    1, 1, "a bundle FILE" },
	{ "pubkey", cmd_pubkey, "KEY", "print the public key of KEY (a .key "
	    "or .pub file)", "pubkey KEY [--minisign]\n", NULL, pubkey_opts,
	    NULL, pubkey_exits, 1, 1, "a KEY file" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL }
};

static const struct pgb_exit exits[] = {
	{ 0, "success" },
	{ EXIT_SOURCE, "problems in the migrations, or a bundle that fails "
	    "inspection" },
	{ EXIT_USAGE, "usage error (check, squash: also a --db server that "
	    "refuses the connection)" },
	{ EXIT_KEY, "key error (sign, cosign: also a signature that cannot be "
	    "read, that does not verify, or of another signer)" },
	{ EXIT_INTERNAL, "I/O or internal error, also a failed write to "
	    "pgbundle's own output (a closed pipe, a full disk); check, "
	    "squash: also a server that cannot be reached, or a scratch server "
	    "or database that cannot be made" },
	{ 0, NULL }
};

static const struct pgb_prog prog = {
	"pgbundle",
	"pgbundle compiles a folder of PostgreSQL migrations into one signed, "
	"deterministic bundle for pgapply.",
	"Environment: SOURCE_DATE_EPOCH sets the creation time recorded in the\n"
	"bundle; with it, the same sources and key give byte-identical bundles.\n"
	"PGBUNDLE_PG_BINDIR names the directory of initdb, pg_ctl and pg_dump for\n"
	"check --scratch and squash (default: `pg_config --bindir`, then PATH).\n",
	NULL, opts, cmds, exits, EXIT_USAGE, 22, 24, 1, NULL
};

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

/* Store one option of the command line in 'a' (pgb_cmd_set_fn). */
static int
set_opt(struct pgb_cmd_args *a, const struct pgb_opt *o, const char *val,
    char *why, size_t len)
{
	switch (o->key) {
	case 'o':
		a->out = val;
		break;
	case 'k':
		a->key = val;
		break;
	case 'p':
		a->pubkey = val;
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
		a->project = val;
		break;
	case OPT_TARGET:
		a->target = val;
		break;
	case OPT_INCLUDE_ROOT:
		a->include_root = val;
		break;
	case OPT_JSON:
		a->json = 1;
		break;
	case OPT_NAME:
		a->name = val;
		break;
	case OPT_LAYOUT:
		if (pgb_layout_lookup(val, &a->layout) == -1) {
			snprintf(why, len, "unknown layout '%.60s' (pgbundle, "
			    "golang-migrate, diesel, flyway, dbmate, goose, "
			    "sql-migrate, prisma, atlas, sqitch, liquibase or "
			    "auto)", val);
			return -1;
		}
		break;
	case OPT_FIX:
		a->fix = 1;
		break;
	case OPT_DB:
		a->db = val;
		break;
	case OPT_DB_FILE:
		a->db_file = val;
		break;
	case OPT_SCRATCH:
		a->scratch = 1;
		break;
	case OPT_ARCHIVE:
		a->archive = val;
		break;
	case OPT_LOCKS:
		a->locks = 1;
		break;
	case OPT_THROUGH:
		if (parse_version_arg(val, &a->through) == -1) {
			snprintf(why, len, "--through '%.60s' is not a version",
			    val);
			return -1;
		}
		break;
	case OPT_DATA:
	case OPT_SCHEMA_ONLY:
		if ((o->key == OPT_DATA ? a->ndata : a->nschema_only) ==
		    DATA_MAX) {
			snprintf(why, len, "more than %d --%s tables", DATA_MAX,
			    o->name);
			return -1;
		}
		if (o->key == OPT_DATA)
			a->data[a->ndata++] = val;
		else
			a->schema_only[a->nschema_only++] = val;
		break;
	case OPT_LINT_ALL:
		a->lint_all = 1;
		break;
	case OPT_SUMS:
		a->sums = 1;
		break;
	case OPT_SIGNER:
		a->signer = val;
		break;
	case OPT_SIGFROM:
		a->sigfrom = val;
		break;
	case OPT_MINISIG:
		a->minisig = 1;
		break;
	case OPT_MINISIGN:
		a->minisign = 1;
		break;
	case OPT_VERSION:
		printf("pgbundle %s\n", PGB_VERSION);
		return 1;
	default:
		snprintf(why, len, "internal error: option '--%s'", o->name);
		return -1;
	}
	return 0;
}

/*
 * The command line of a->c into 'a': the table's rules, then what only
 * combinations of options can break.  0 to run; 1 when done (help or
 * version printed); -1 with the reason for the usage error in 'why'.
 */
static int
parse_args(int argc, char *argv[], struct pgb_cmd_args *a, char *why,
    size_t len)
{
	const char	*pos[PGB_CMD_POS_MAX];
	size_t		 npos;
	int		 rc;

	rc = pgb_cmd_parse(&prog, a->c, argc, argv, set_opt, a, pos, &npos,
	    why, len);
	if (rc != 0)
		return rc;
	a->pos = npos > 0 ? pos[0] : NULL;
	a->pos2 = npos > 1 ? pos[1] : NULL;
	if (a->key != NULL && a->unsigned_ok)
		snprintf(why, len, "--key and --unsigned exclude each other");
	else if (a->db != NULL && a->db_file != NULL)
		snprintf(why, len, "--db and --db-file exclude each other");
	else
		return 0;
	return -1;
}

/* Run the command line; its exit status. */
static int
dispatch(int argc, char *argv[])
{
	struct pgb_cmd_args	a;
	struct pgb_diag		d;
	char			why[256];
	unsigned		mode;
	int			rc;

	memset(&a, 0, sizeof(a));
	a.prog = &prog;
	rc = pgb_cmd_front(&prog, argc, argv, pgb_cli_json, PGB_VERSION, &a.c);
	if (rc != -1)
		return rc;
	a.cmd = a.c->name;
	rc = parse_args(argc - 1, argv + 1, &a, why, sizeof(why));
	if (rc == 1)
		return 0;
	if (rc == -1)
		return pgb_cli_usage(&a, "%s", why);
	pgb_diag_clear(&d);
	if (a.db_file != NULL && pgb_conninfo_file(a.db_file, &a.db_read,
	    &d) == -1)
		return pgb_cli_fail(&d);
	/* A signing key others can read is no longer secret: say so. */
	if (a.key != NULL && (mode = pgb_keys_loose_mode(a.key)) != 0) {
		fputs("pgbundle: warning: private key '", stderr);
		pgb_cli_put(stderr, a.key);
		fprintf(stderr, "' is readable or writable by group or others "
		    "(mode %04o); run chmod 600 on it\n", mode);
	}
	rc = a.c->run(&a);
	pgb_conninfo_free(a.db_read);
	return rc;
}

int
main(int argc, char *argv[])
{
	int	rc;

	/* A closed pipe is a failed write, reported, not a silent death. */
	(void)signal(SIGPIPE, SIG_IGN);
	pgb_cli_json = pgb_cmd_wants_json(argc, argv);
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
