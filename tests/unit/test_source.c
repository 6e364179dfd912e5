/*
 * test_source.c - pgb_source_compile() on migrations written to a
 * temporary folder: the directives it reads (no-transaction, verify,
 * allow, and the misspelled or unknown ones it refuses), \i and \ir
 * (their statements, lines and files; cycles, a missing file, an include
 * outside the root), the transaction mode (statements that need none,
 * a BEGIN ... COMMIT wrapper, transaction control) and each lint rule.
 * Each finding is checked by severity, file, line and message.
 * 010_build.pl and 016_directives.pl run the same through pgbundle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "manifest.h"
#include "report.h"
#include "scan.h"
#include "source.h"
#include "banned.h"

static char	dir[64];	/* the temporary folder of one test */

/* One compiled migration and what was said about it. */
struct compiled {
	struct pgb_manifest	 m;	/* holds the one migration */
	struct pgb_migration	*mig;
	struct pgb_report	 r;
	struct pgb_buf		 up, down;
	size_t			 errors;
};

/* DIR/name, for the caller to free. */
static char *
path_of(const char *name)
{
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s/%s", dir, name);
	return pgb_buf_steal(&b, NULL);
}

static void
put(const char *name, const char *text)
{
	char	*p = path_of(name);
	FILE	*f;

	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static int
setup(void **state)
{
	char	*inc;
	int	 rc;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pgb-test-source-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	inc = path_of("inc");
	rc = mkdir(inc, 0700);
	free(inc);
	return rc;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Compile migration 1 from 'up' (and 'down', NULL: none), the tables
 * of earlier migrations in 'seen' (may be NULL).
 */
static void
compile(struct compiled *c, const char *up, const char *down,
    struct pgb_tableset *seen)
{
	struct pgb_srcmig	 sm;
	struct pgb_source_opts	 o;
	struct pgb_tableset	 none = { NULL, 0 };

	memset(c, 0, sizeof(*c));
	memset(&sm, 0, sizeof(sm));
	memset(&o, 0, sizeof(o));
	put("001_m.sql", up);
	sm.version = 1;
	sm.name = (char *)"m";
	sm.up = path_of("001_m.sql");
	sm.up_base = (char *)"001_m.sql";
	if (down != NULL) {
		put("001_m.down.sql", down);
		sm.down = path_of("001_m.down.sql");
		sm.down_base = (char *)"001_m.down.sql";
	}
	o.include_root = dir;
	o.layout = PGB_LAYOUT_PGBUNDLE;
	pgb_report_init(&c->r, 0);
	pgb_buf_init(&c->up);
	pgb_buf_init(&c->down);
	c->m.migs = pgb_xcalloc(1, sizeof(*c->m.migs));
	c->m.nmigs = 1;
	c->mig = &c->m.migs[0];
	c->errors = pgb_source_compile(&sm, &o, seen ? seen : &none, c->mig,
	    &c->up, &c->down, &c->r);
	pgb_tableset_release(&none);
	free(sm.up);
	free(sm.down);
}

static void
release(struct compiled *c)
{
	pgb_manifest_release(&c->m);
	pgb_report_release(&c->r);
	pgb_buf_release(&c->up);
	pgb_buf_release(&c->down);
}

/*
 * The finding of severity 'sev' at DIR/'file':'line' whose message starts
 * with 'msg' (and whose rule is 'rule', when not NULL); fails without.
 */
static const struct pgb_finding *
said(const struct compiled *c, enum pgb_sev sev, const char *file,
    unsigned line, const char *rule, const char *msg)
{
	char	*p = path_of(file);
	size_t	 i;

	for (i = 0; i < c->r.n; i++) {
		const struct pgb_finding *f = &c->r.v[i];

		if (f->sev == sev && strcmp(f->file, p) == 0 &&
		    f->line == line && strncmp(f->msg, msg, strlen(msg)) == 0 &&
		    (rule == NULL || (f->rule && strcmp(f->rule, rule) == 0))) {
			free(p);
			return f;
		}
	}
	for (i = 0; i < c->r.n; i++)
		print_message("finding: %s:%u: [%d] %s\n", c->r.v[i].file,
		    c->r.v[i].line, c->r.v[i].sev, c->r.v[i].msg);
	fail_msg("no finding %s:%u '%s'", p, line, msg);
	free(p);
	return NULL;
}

/* Whether any finding names lint rule 'rule'. */
static int
has_rule(const struct compiled *c, const char *rule)
{
	size_t	i;

	for (i = 0; i < c->r.n; i++)
		if (c->r.v[i].rule && strcmp(c->r.v[i].rule, rule) == 0)
			return 1;
	return 0;
}

static void
test_source_directives(void **state)
{
	struct compiled	c;

	(void)state;
	compile(&c, "-- pgbundle:no-transaction\n"
	    "-- verify: SELECT true\n"
	    "-- verify: SELECT count(*) = 0 FROM pg_class WHERE false\n"
	    "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n",
	    "DROP TABLE IF EXISTS x;\n", NULL);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.mig->up.mode, PGB_MODE_NOTX);
	assert_int_equal(c.mig->down.mode, PGB_MODE_TX);
	assert_int_equal(c.mig->nverify, 2);
	assert_string_equal(c.mig->verify[0], "SELECT true");
	assert_int_equal(c.mig->up.nstmts, 1);
	assert_int_equal(c.mig->up.stmts[0].line, 4);
	assert_string_equal(c.mig->up.stmts[0].index, "i");
	assert_string_equal(c.mig->up.path, "migrations/001_m.sql");
	release(&c);

	/* Misspelled, unknown, and in the wrong place. */
	compile(&c, "-- Verify: SELECT true\n"
	    "-- pgbundle:frobnicate\n"
	    "-- pgbundle:allow drop-table, nonsense\n"
	    "SELECT 1;\n",
	    "-- verify: SELECT true\nSELECT 1;\n", NULL);
	assert_int_equal(c.errors, 4);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 1, NULL, "misspelled directive "
	    "'-- Verify: SELECT true': write '-- verify: SELECT true'");
	said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL, "unknown directive "
	    "'-- pgbundle:frobnicate': pgbundle reads "
	    "'-- pgbundle:no-transaction', ");
	said(&c, PGB_SEV_ERROR, "001_m.sql", 3, NULL, "unknown lint rule "
	    "'nonsense' in 'pgbundle:allow'");
	said(&c, PGB_SEV_ERROR, "001_m.down.sql", 1, NULL, "verify queries "
	    "belong in the up script");
	release(&c);
}

static void
test_source_verify_queries(void **state)
{
	struct compiled	c;

	(void)state;
	compile(&c, "-- verify: SELECT 1; SELECT 2\n"
	    "-- verify: COMMIT\n"
	    "-- verify:\n"
	    "-- verify: SELECT 'open\n"
	    "SELECT 1;\n", NULL, NULL);
	assert_int_equal(c.errors, 4);
	assert_int_equal(c.mig->nverify, 0);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 1, NULL, "verify query must be "
	    "one statement, not 2");
	said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL, "transaction control "
	    "not allowed in a verify query: it runs inside the migration's "
	    "transaction");
	said(&c, PGB_SEV_ERROR, "001_m.sql", 3, NULL, "empty verify query");
	said(&c, PGB_SEV_ERROR, "001_m.sql", 4, NULL, "verify query: ");
	release(&c);
}

static void
test_source_includes(void **state)
{
	struct compiled	c;
	char		*a;

	(void)state;
	put("inc/a.sql", "-- a\n\nCREATE TABLE a (x int);\n");
	put("inc/b.sql", "CREATE TABLE b (x int);\n\\ir a.sql\n");
	compile(&c, "CREATE TABLE top (x int);\n\\i inc/b.sql\n", NULL, NULL);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.mig->up.nstmts, 3);
	/* Each statement names the file and line it came from. */
	assert_null(c.mig->up.stmts[0].src);
	assert_int_equal(c.mig->up.stmts[1].line, 1);
	a = path_of("inc/b.sql");
	assert_string_equal(c.mig->up.stmts[1].src, a);
	free(a);
	assert_int_equal(c.mig->up.stmts[2].line, 3);
	a = path_of("inc/a.sql");
	assert_string_equal(c.mig->up.stmts[2].src, a);
	free(a);
	/* The included text is what ships (and is checksummed). */
	assert_non_null(strstr(c.up.data, "CREATE TABLE a (x int);"));
	assert_null(strstr(c.up.data, "\\i"));
	release(&c);
}

static void
test_source_include_refusals(void **state)
{
	struct compiled	c;
	char		*p;

	(void)state;
	/* a -> b -> a */
	put("inc/c1.sql", "SELECT 1;\n\\i inc/c2.sql\n");
	put("inc/c2.sql", "\n\\i inc/c1.sql\n");
	compile(&c, "\\i inc/c1.sql\n", NULL, NULL);
	p = path_of("inc/c1.sql");
	said(&c, PGB_SEV_ERROR, "inc/c2.sql", 2, NULL, "include cycle: '");
	assert_non_null(strstr(c.r.v[0].msg, p));
	free(p);
	release(&c);
	/* A file that includes itself. */
	compile(&c, "SELECT 1;\n\\i 001_m.sql\n", NULL, NULL);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL, "include cycle: '");
	release(&c);
	/* Missing, a folder, outside the root. */
	compile(&c, "\\i inc/none.sql\n\\i inc\n\\i /etc/passwd\n", NULL,
	    NULL);
	assert_int_equal(c.errors, 3);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 1, NULL, "cannot include '");
	assert_non_null(strstr(said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL,
	    "cannot include '")->msg, "is not a regular file"));
	said(&c, PGB_SEV_ERROR, "001_m.sql", 3, NULL, "cannot include "
	    "'/etc/passwd': it resolves to '/etc/passwd', outside the "
	    "include root");
	release(&c);
	/* Other meta-commands. */
	compile(&c, "\\set x 1\n\\gexec\n\\i\n", NULL, NULL);
	assert_int_equal(c.errors, 3);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 1, NULL, "psql variable commands "
	    "are not");
	said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL, "psql meta-command "
	    "'\\gexec' is not");
	said(&c, PGB_SEV_ERROR, "001_m.sql", 3, NULL, "'\\i' needs a file "
	    "name");
	release(&c);
}

static void
test_source_transaction_mode(void **state)
{
	struct compiled	c;

	(void)state;
	/* Needs no-transaction, and does not say so. */
	compile(&c, "CREATE TABLE t (a int);\n"
	    "CREATE INDEX CONCURRENTLY i ON t (a);\n", NULL, NULL);
	assert_int_equal(c.errors, 1);
	assert_int_equal(c.mig->up.mode, PGB_MODE_TX);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL, "CREATE INDEX "
	    "CONCURRENTLY cannot run inside a transaction block: mark the "
	    "migration '-- pgbundle:no-transaction'");
	release(&c);
	/* Said so, but a statement cannot run twice. */
	compile(&c, "-- pgbundle:no-transaction\n"
	    "CREATE INDEX CONCURRENTLY i ON t (a);\n", NULL, NULL);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.mig->up.idempotent, 0);
	said(&c, PGB_SEV_WARNING, "001_m.sql", 2, "not-idempotent",
	    "statement in a no-transaction migration is not idempotent");
	release(&c);
	/* A BEGIN ... COMMIT wrapper goes; transaction control inside not. */
	compile(&c, "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;\n", NULL, NULL);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.mig->up.nstmts, 1);
	assert_int_equal(c.mig->up.stmts[0].line, 2);
	said(&c, PGB_SEV_NOTE, "001_m.sql", 1, NULL, "BEGIN ... COMMIT "
	    "wrapper dropped: pgapply runs each migration in its own "
	    "transaction");
	release(&c);
	compile(&c, "CREATE TABLE t (a int);\nCOMMIT;\nCREATE TABLE u (a "
	    "int);\n", NULL, NULL);
	assert_int_equal(c.errors, 1);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL, "transaction control "
	    "statement not allowed: pgapply runs each migration in its own "
	    "transaction");
	release(&c);
	compile(&c, "-- pgbundle:no-transaction\nBEGIN;\nVACUUM;\nCOMMIT;\n",
	    NULL, NULL);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 2, NULL, "a no-transaction "
	    "migration cannot wrap itself in BEGIN ... COMMIT");
	release(&c);
	/* COPY to the client. */
	compile(&c, "COPY t TO STDOUT;\n", NULL, NULL);
	said(&c, PGB_SEV_ERROR, "001_m.sql", 1, NULL, "COPY ... TO STDOUT "
	    "writes to the client, which a migration cannot use");
	release(&c);
}

static void
test_source_lint(void **state)
{
	struct pgb_tableset	seen = { NULL, 0 };
	struct compiled		c;
	const char		*up =
	    "DROP TABLE old;\n"
	    "ALTER TABLE t DROP COLUMN c;\n"
	    "ALTER TABLE t ADD COLUMN n int NOT NULL;\n"
	    "ALTER TABLE t ALTER COLUMN a TYPE bigint;\n"
	    "CREATE INDEX ti ON t (a);\n"
	    "CREATE TABLE fresh (a int);\n";

	(void)state;
	compile(&c, "CREATE TABLE t (a int);\n", "DROP TABLE t;\n", &seen);
	assert_int_equal(c.errors, 0);
	/* A down script drops what its up made: no drop-table there. */
	assert_int_equal(has_rule(&c, "drop-table"), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.v[0], "t");
	release(&c);

	compile(&c, up, NULL, &seen);
	assert_int_equal(c.errors, 0);
	said(&c, PGB_SEV_WARNING, "001_m.sql", 1, "drop-table", "DROP TABLE "
	    "loses data");
	said(&c, PGB_SEV_WARNING, "001_m.sql", 2, "drop-column", "DROP COLUMN "
	    "loses data");
	said(&c, PGB_SEV_WARNING, "001_m.sql", 3, "not-null-no-default", "ADD "
	    "COLUMN ... NOT NULL without DEFAULT fails on a table that has "
	    "rows");
	said(&c, PGB_SEV_WARNING, "001_m.sql", 4, "alter-type", "ALTER "
	    "COLUMN ... TYPE may rewrite the table under an exclusive lock");
	said(&c, PGB_SEV_WARNING, "001_m.sql", 5, "index-locks", "CREATE "
	    "INDEX without CONCURRENTLY blocks writes to 't', which an "
	    "earlier migration created");
	said(&c, PGB_SEV_WARNING, "001_m.sql", 0, "no-down", "migration has "
	    "no down script");
	assert_int_equal(seen.n, 2);
	release(&c);

	/* Each rule named in 'pgbundle:allow' is quiet. */
	{
		struct pgb_buf	b;

		pgb_buf_init(&b);
		pgb_buf_printf(&b, "-- pgbundle:allow drop-table drop-column "
		    "not-null-no-default,alter-type, index-locks no-down\n%s",
		    up);
		compile(&c, b.data, NULL, &seen);
		pgb_buf_release(&b);
	}
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.r.nwarnings, 0);
	release(&c);

	/* Nothing to run. */
	compile(&c, "-- only a comment\n", "\n", NULL);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.mig->up.nstmts, 0);
	said(&c, PGB_SEV_WARNING, "001_m.sql", 0, "empty-up", "migration has "
	    "no statements: applying it changes nothing");
	said(&c, PGB_SEV_WARNING, "001_m.down.sql", 0, "empty-down", "down "
	    "script has no statements");
	release(&c);
	pgb_tableset_release(&seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_source_directives, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_source_verify_queries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_includes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_source_include_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_transaction_mode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_lint, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
