/*
 * test_fleet.c - the target list (names, defaults, comments, every
 * refusal with its line and without the conninfo), --shard arithmetic,
 * the fleet options, the order of "worst", the events a child counts and
 * what it keeps of an error.
 * No database: fleet runs themselves are tests/e2e/085_fleet.pl's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "fleet.h"
#include "banned.h"

static int
parse(const char *text, struct pgb_targets *ts, struct pgb_diag *d)
{
	memset(ts, 0, sizeof(*ts));
	pgb_diag_clear(d);
	return pgb_targets_parse(text, strlen(text), "list", ts, d);
}

/* The list must be refused with 'msg', and nothing kept. */
static void
refused(const char *text, const char *msg)
{
	struct pgb_targets	ts;
	struct pgb_diag		d;

	assert_int_equal(parse(text, &ts, &d), -1);
	assert_int_equal(d.code, PGB_EUSAGE);
	assert_string_equal(d.msg, msg);
	pgb_targets_release(&ts);
}

static int
setup(void **state)
{
	(void)state;
	/* Default names take libpq's defaults from the environment. */
	setenv("PGHOST", "envhost", 1);
	setenv("PGUSER", "envuser", 1);
	unsetenv("PGDATABASE");
	unsetenv("PGSERVICE");
	unsetenv("PGHOSTADDR");
	return 0;
}

static void
test_fleet_list_names(void **state)
{
	struct pgb_targets	ts;
	struct pgb_diag		d;
	const char		*text =
	    "# tenants\n"
	    "\n"
	    "  acme  host=db1 dbname=acme password='p w'  \r\n"
	    "\tpostgres://u:s3cret@db2.example.com:6432/shop?sslmode=require\n"
	    "host=db3 dbname=x\n"
	    "dbname=onlydb\n"
	    "user=bob\n"
	    "postgresql:///local_db\n"
	    "last postgres://db9/last";

	(void)state;
	assert_int_equal(parse(text, &ts, &d), 0);
	assert_int_equal(ts.n, 7);
	assert_string_equal(ts.v[0].name, "acme");
	assert_string_equal(ts.v[0].conninfo, "host=db1 dbname=acme "
	    "password='p w'");
	assert_int_equal(ts.v[0].line, 3);
	assert_string_equal(ts.v[1].name, "db2.example.com/shop");
	assert_string_equal(ts.v[1].conninfo, "postgres://u:s3cret@"
	    "db2.example.com:6432/shop?sslmode=require");
	assert_string_equal(ts.v[2].name, "db3/x");
	assert_string_equal(ts.v[3].name, "envhost/onlydb");
	/* No dbname: libpq uses the user's name. */
	assert_string_equal(ts.v[4].name, "envhost/bob");
	assert_string_equal(ts.v[5].name, "envhost/local_db");
	assert_string_equal(ts.v[6].name, "last");
	assert_int_equal(ts.v[6].line, 9);
	assert_int_equal(ts.v[6].index, 6);
	pgb_targets_release(&ts);
	assert_null(ts.v);
}

static void
test_fleet_list_refusals(void **state)
{
	struct pgb_buf	b;
	size_t		i;

	(void)state;
	refused("t1 host=a\nt2\n", "list:2: target 't2' has no conninfo");
	refused("t1 host=a\nt\xc3\xa9 host=b\n", "list:2: target name "
	    "'t\\xc3\\xa9' is not 1 to 128 printable ASCII characters "
	    "without a blank or '='");
	refused("t1 host=a\nt2 host=b\nt1 host=c\n", "list:3: target 't1' "
	    "is listed twice (line 1 too): name one of them");
	refused("host=a dbname=x\npostgres://a/x\n", "list:2: target 'a/x' "
	    "is listed twice (line 1 too): name one of them");
	refused("t1 host=a\nt2 s3cret-word\n", "list:2: the conninfo of "
	    "target 't2' is not one libpq can parse");
	refused("postgres://u:%zzs3cret@h/db\n", "list:1: not a conninfo "
	    "libpq can parse");
	pgb_buf_init(&b);
	pgb_buf_puts(&b, "t1 host=");
	for (i = 0; i < PGB_TARGET_LINE_MAX; i++)
		pgb_buf_puts(&b, "a");
	refused(b.data, "list:1: line longer than 8192 bytes");
	pgb_buf_release(&b);
}

/* The conninfo never reaches a message, whatever is wrong with it. */
static void
test_fleet_list_no_secret(void **state)
{
	static const char *const lines[] = {
		"t1 host=a password=s3cret port=notanumber\nt1 host=b\n",
		"postgres://u:s3cret@h/db?bogus=%zz\n",
		"t1 password='s3cret\n",
		"bad\xffname password=s3cret\n",
	};
	struct pgb_targets	ts;
	struct pgb_diag		d;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(parse(lines[i], &ts, &d), -1);
		assert_null(strstr(d.msg, "s3cret"));
		assert_null(strstr(d.detail, "s3cret"));
		pgb_targets_release(&ts);
	}
}

static void
test_fleet_list_nul(void **state)
{
	static const char	text[] = "t1 host=a\nt2 host=b\0c\n";
	struct pgb_targets	ts;
	struct pgb_diag		d;

	(void)state;
	memset(&ts, 0, sizeof(ts));
	assert_int_equal(pgb_targets_parse(text, sizeof(text) - 1, "list",
	    &ts, &d), -1);
	assert_string_equal(d.msg, "list:2: a NUL byte");
	pgb_targets_release(&ts);
}

static void
test_fleet_list_limit(void **state)
{
	struct pgb_targets	ts;
	struct pgb_diag		d;
	struct pgb_buf		b;
	size_t			i;

	(void)state;
	pgb_buf_init(&b);
	for (i = 0; i <= PGB_TARGETS_MAX; i++)
		pgb_buf_printf(&b, "t%zu host=h\n", i);
	memset(&ts, 0, sizeof(ts));
	assert_int_equal(pgb_targets_parse(b.data, b.len, "list", &ts, &d),
	    -1);
	assert_string_equal(d.msg, "list:100001: more than 100000 targets");
	pgb_targets_release(&ts);
	pgb_buf_release(&b);
}

/* Target k belongs to shard k mod n: every target in exactly one shard. */
static void
test_fleet_shard(void **state)
{
	struct pgb_targets	ts;
	struct pgb_diag		d;
	struct pgb_buf		b;
	size_t			n, i, k, seen[23];

	(void)state;
	pgb_buf_init(&b);
	for (k = 0; k < 23; k++)
		pgb_buf_printf(&b, "# comment\nt%zu host=h\n", k);
	for (n = 1; n <= 25; n++) {
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < n; i++) {
			memset(&ts, 0, sizeof(ts));
			assert_int_equal(pgb_targets_parse(b.data, b.len,
			    "list", &ts, &d), 0);
			pgb_targets_shard(&ts, i, n);
			assert_int_equal(ts.n, 23 / n + (i < 23 % n));
			for (k = 0; k < ts.n; k++) {
				assert_int_equal(ts.v[k].index % n, i);
				assert_int_equal(ts.v[k].line,
				    2 * ts.v[k].index + 2);
				if (k > 0)
					assert_true(ts.v[k].index >
					    ts.v[k - 1].index);
				seen[ts.v[k].index]++;
			}
			pgb_targets_release(&ts);
		}
		for (k = 0; k < 23; k++)
			assert_int_equal(seen[k], 1);
	}
	pgb_buf_release(&b);
}

static void
test_fleet_options(void **state)
{
	static const char *const bad_shards[] = { "3/3", "1/0", "-1/3",
	    "01/3", "a/3", "1/", "/3", "1", "1/3/5", "1/100001", " 1/3" };
	struct pgb_fleet_opts	o;
	struct pgb_diag		d;
	size_t			i;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(pgb_fleet_opt(&o, "shard", "0/1", &d), 0);
	assert_int_equal(o.shard_i, 0);
	assert_int_equal(o.shard_n, 1);
	assert_int_equal(pgb_fleet_opt(&o, "shard", "41/42", &d), 0);
	assert_int_equal(o.shard_i, 41);
	assert_int_equal(o.shard_n, 42);
	for (i = 0; i < sizeof(bad_shards) / sizeof(bad_shards[0]); i++) {
		assert_int_equal(pgb_fleet_opt(&o, "shard", bad_shards[i], &d),
		    -1);
		assert_int_equal(d.code, PGB_EUSAGE);
		assert_non_null(strstr(d.msg, "is not I/N with 0 <= I < N"));
	}
	assert_int_equal(pgb_fleet_opt(&o, "jobs", "128", &d), 0);
	assert_int_equal(o.jobs, 128);
	assert_int_equal(pgb_fleet_opt(&o, "jobs", "0", &d), -1);
	assert_string_equal(d.msg, "-j '0' is not a number from 1 to 128");
	assert_int_equal(pgb_fleet_opt(&o, "jobs", "129", &d), -1);
	assert_int_equal(pgb_fleet_opt(&o, "canary", "x", &d), -1);
	assert_string_equal(d.msg, "--canary 'x' is not a number from 1 to "
	    "100000");
	assert_int_equal(pgb_fleet_opt(&o, "fail-fast", NULL, &d), 0);
	assert_true(o.fail_fast);
	assert_int_equal(pgb_fleet_opt(&o, "keep-going", NULL, &d), 0);
	assert_false(o.fail_fast);
}

static void
test_fleet_check(void **state)
{
	struct pgb_fleet_opts	o;
	struct pgb_diag		d;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(pgb_fleet_check(&o, "baseline", "x", &d), 0);
	o.any = 1;
	o.jobs = 4;
	assert_int_equal(pgb_fleet_check(&o, "apply", NULL, &d), -1);
	assert_string_equal(d.msg, "-j, --canary, --fail-fast, --keep-going "
	    "and --shard need --targets or --targets-query");
	o.list = "l";
	assert_int_equal(pgb_fleet_check(&o, "apply", NULL, &d), 0);
	assert_int_equal(pgb_fleet_check(&o, "status", NULL, &d), 0);
	assert_int_equal(pgb_fleet_check(&o, "accept", NULL, &d), 0);
	assert_int_equal(pgb_fleet_check(&o, "baseline", NULL, &d), -1);
	assert_string_equal(d.msg, "'baseline' does not run on a fleet: "
	    "--targets works with plan, apply, status, rollback and accept");
	assert_int_equal(pgb_fleet_check(&o, "adopt", NULL, &d), -1);
	assert_int_equal(pgb_fleet_check(&o, "verify", NULL, &d), -1);
	assert_int_equal(pgb_fleet_check(&o, "apply", "dbname=x", &d), -1);
	assert_string_equal(d.msg, "--db names the control database of "
	    "--targets-query; with --targets each line names its database");
	o.query = "SELECT 1";
	assert_int_equal(pgb_fleet_check(&o, "apply", NULL, &d), -1);
	assert_string_equal(d.msg, "--targets and --targets-query exclude "
	    "each other");
	o.list = NULL;
	assert_int_equal(pgb_fleet_check(&o, "plan", "dbname=control", &d),
	    0);
}

/*
 * Exit 0 < 9 < 75 < 7 < 8 < 4 < 5 < 6 < 3 < 2 < 1: success < pending
 * (status --check) < retryable < interrupted < cannot connect < conflict
 * < SQL < operator < bundle < usage < internal.
 */
static void
test_fleet_worse(void **state)
{
	static const int order[] = { PGB_OK, PGB_EPENDING, PGB_ERETRY,
	    PGB_ECANCEL, PGB_ECONNECT, PGB_ECONFLICT, PGB_ESQL, PGB_EOPERATOR,
	    PGB_EBUNDLE, PGB_EUSAGE, PGB_EINTERNAL };
	size_t	i, j, n = sizeof(order) / sizeof(order[0]);

	(void)state;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			assert_int_equal(pgb_fleet_worse(order[i], order[j]),
			    order[i > j ? i : j]);
		}
	assert_int_equal(pgb_fleet_worse(PGB_EKEY, PGB_EBUNDLE), PGB_EBUNDLE);
	assert_int_equal(pgb_fleet_worse(PGB_EOPERATOR, PGB_EKEY), PGB_EKEY);
}

static void
test_fleet_note(void **state)
{
	struct pgb_migration	m1, m2;
	struct pgb_hrow		row;
	struct pgb_fleet_result	r;
	struct pgb_event	ev;
	struct pgb_diag		d;

	(void)state;
	memset(&m1, 0, sizeof(m1));
	memset(&m2, 0, sizeof(m2));
	memset(&row, 0, sizeof(row));
	m1.version = 1;
	m1.name = (char *)"one";
	m1.up.path = (char *)"migrations/001_one.sql";
	m2.version = 2;
	m2.name = (char *)"two";
	m2.up.path = (char *)"migrations/002_two.sql";
	memset(&r, 0, sizeof(r));
	r.at = r.version = -1;
	memset(&ev, 0, sizeof(ev));
	ev.kind = PGB_EV_BEGIN;
	ev.mig = &m1;
	assert_int_equal(pgb_fleet_note(&r, &ev), 0);
	ev.kind = PGB_EV_APPLIED;
	assert_int_equal(pgb_fleet_note(&r, &ev), 0);
	ev.kind = PGB_EV_BEGIN;
	ev.mig = &m2;
	pgb_fleet_note(&r, &ev);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.at, 2);
	assert_string_equal(r.at_label, "002_two");
	pgb_fail(&d, PGB_ESQL, "migration '002_two' failed");
	pgb_fleet_failed(&r, &d, 5);
	assert_int_equal(r.code, PGB_ESQL);
	assert_int_equal(r.exit, 5);
	assert_string_equal(r.msg, "migration '002_two' failed");

	/* status rows are counted, not printed */
	memset(&r, 0, sizeof(r));
	r.at = r.version = -1;
	ev.kind = PGB_EV_STATUS;
	ev.mig = &m1;
	ev.state = "applied";
	assert_int_equal(pgb_fleet_note(&r, &ev), 1);
	ev.mig = NULL;
	ev.row = &row;
	row.version = 7;
	ev.state = "missing";
	pgb_fleet_note(&r, &ev);
	ev.row = NULL;
	ev.mig = &m2;
	ev.state = "pending";
	pgb_fleet_note(&r, &ev);
	ev.state = "drifted";
	pgb_fleet_note(&r, &ev);
	assert_int_equal(r.version, 7);
	assert_int_equal(r.pending, 1);
	assert_int_equal(r.drifted, 1);
	assert_int_equal(r.missing, 1);
	assert_int_equal(r.listed, 0);
	ev.kind = PGB_EV_SUMMARY;
	ev.state = "status";
	assert_int_equal(pgb_fleet_note(&r, &ev), 1);
	assert_int_equal(r.listed, 1);
	ev.state = "apply";
	assert_int_equal(pgb_fleet_note(&r, &ev), 0);

	/* status --check failed it after the rows: they still count */
	pgb_fail(&d, PGB_EPENDING, "status --check: 1 migration pending");
	pgb_fleet_failed(&r, &d, 9);
	assert_int_equal(r.code, PGB_EPENDING);
	assert_int_equal(r.listed, 1);
	assert_int_equal(r.pending, 1);

	/* a history with no table: listed too */
	memset(&r, 0, sizeof(r));
	ev.state = "status-empty";
	assert_int_equal(pgb_fleet_note(&r, &ev), 0);
	assert_int_equal(r.listed, 1);

	/* accept: what it recorded counts */
	memset(&r, 0, sizeof(r));
	ev.kind = PGB_EV_ACCEPTED;
	ev.mig = &m2;
	ev.state = "accepted";
	assert_int_equal(pgb_fleet_note(&r, &ev), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.listed, 0);
}

/* Class 8 keeps the reason, never the conninfo; others keep the message. */
static void
test_fleet_failed_connect(void **state)
{
	static const char *const cases[][2] = {
		{ "connection to server at \"127.0.0.1\", port 5432 failed: "
		  "FATAL:  database \"x\" does not exist",
		  "database \"x\" does not exist" },
		{ "connection to server on socket \"/tmp/.s.PGSQL.5432\" "
		  "failed: FATAL:  28P01: password authentication failed for "
		  "user \"app\"",
		  "password authentication failed for user \"app\"" },
		{ "unknown URL scheme \"postgress://\"; a connection URL "
		  "starts with postgresql:// or postgres://",
		  "unknown URL scheme \"postgress://\"; a connection URL "
		  "starts with postgresql:// or postgres://" },
		{ "", "cannot connect to the database" },
		{ "connection to server at \"h\" failed: FATAL:  role \"\x1b[31m"
		  "\" does not exist",
		  "role \"\\x1b[31m\" does not exist" },
	};
	struct pgb_fleet_result	r;
	struct pgb_diag		d;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		pgb_fail(&d, PGB_ECONNECT, "cannot connect to the database");
		if (cases[i][0][0] != '\0')
			pgb_detail(&d, "%s", cases[i][0]);
		pgb_fleet_failed(&r, &d, 8);
		assert_int_equal(r.code, PGB_ECONNECT);
		assert_int_equal(r.exit, 8);
		assert_string_equal(r.msg, cases[i][1]);
	}
	/* A retryable one keeps its message: the summary says unreachable. */
	memset(&r, 0, sizeof(r));
	pgb_fail(&d, PGB_ERETRY, "cannot connect to the database");
	pgb_detail(&d, "connection to server at \"h\", port 1 failed: "
	    "Connection refused");
	pgb_fleet_failed(&r, &d, 75);
	assert_string_equal(r.msg, "cannot connect to the database");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fleet_list_names),
		cmocka_unit_test(test_fleet_list_refusals),
		cmocka_unit_test(test_fleet_list_no_secret),
		cmocka_unit_test(test_fleet_list_nul),
		cmocka_unit_test(test_fleet_list_limit),
		cmocka_unit_test(test_fleet_shard),
		cmocka_unit_test(test_fleet_options),
		cmocka_unit_test(test_fleet_check),
		cmocka_unit_test(test_fleet_worse),
		cmocka_unit_test(test_fleet_note),
		cmocka_unit_test(test_fleet_failed_connect),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
