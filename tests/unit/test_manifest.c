/*
 * test_manifest.c - the manifest writer and the hostile-input parser:
 * round trips, the bundle-id, and one malformed manifest per message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "hash.h"
#include "manifest.h"
#include "banned.h"

static void
set_stmt(struct pgb_stmt *s, size_t off, size_t len, unsigned line)
{
	memset(s, 0, sizeof(*s));
	s->off = off;
	s->len = len;
	s->line = line;
}

static void
set_script(struct pgb_script *sc, const char *path, const char *seed,
    size_t size, enum pgb_mode mode, size_t nstmts)
{
	sc->path = pgb_xstrdup(path);
	pgb_sha256(seed, strlen(seed), sc->sha256);
	sc->size = size;
	sc->mode = mode;
	sc->stmts = pgb_xcalloc(nstmts, sizeof(*sc->stmts));
	sc->nstmts = nstmts;
}

/* Fill the chain links from the up scripts' hashes. */
static void
chain_all(struct pgb_manifest *m)
{
	unsigned char	prev[PGB_SHA256_LEN];
	size_t		i;

	memset(prev, 0, sizeof(prev));
	for (i = 0; i < m->nmigs; i++) {
		pgb_chain(prev, m->migs[i].version, m->migs[i].up.sha256,
		    m->migs[i].chain);
		memcpy(prev, m->migs[i].chain, sizeof(prev));
	}
}

/*
 * The sample manifest; its text (what the tests mutate) is, by line:
 *  1 pgbundle-manifest 1		 9 migration 1 create_users
 *  2 project demo			10 file migrations/001_create_users.sql
 *  3 target prod			11 sha256  12 size 200  13 mode  14 chain
 *  4 created 1700000000		15 stmt 0 50 1
 *  5 compiler pgbundle 0.1.0		16 stmt 60 30 3 copy=91:40
 *  6 hash sha256			17 stmt 140 20 8 index=... src=...
 *  7 key-id 0123456789abcdef		18-19 verify  20 down  21 down-stmt
 *  8 bundle-id ...			22 end  23 migration 5 ... 30 end
 */
static void
sample(struct pgb_manifest *m)
{
	struct pgb_migration	*mg;

	pgb_manifest_init(m);
	m->format = 1;
	m->project = pgb_xstrdup("demo");
	m->target = pgb_xstrdup("prod");
	m->compiler = pgb_xstrdup("pgbundle 0.1.0");
	m->key_id = pgb_xstrdup("0123456789abcdef");
	m->created = 1700000000;
	m->migs = pgb_xcalloc(2, sizeof(*m->migs));
	m->nmigs = 2;

	mg = &m->migs[0];
	mg->version = 1;
	mg->name = pgb_xstrdup("create_users");
	set_script(&mg->up, "migrations/001_create_users.sql", "up1", 200,
	    PGB_MODE_TX, 3);
	set_stmt(&mg->up.stmts[0], 0, 50, 1);
	set_stmt(&mg->up.stmts[1], 60, 30, 3);
	mg->up.stmts[1].is_copy = 1;
	mg->up.stmts[1].copy_off = 91;
	mg->up.stmts[1].copy_len = 40;
	set_stmt(&mg->up.stmts[2], 140, 20, 8);
	mg->up.stmts[2].index = pgb_xstrdup("Weird Name\"x");
	mg->up.stmts[2].src = pgb_xstrdup("common/fn v2.sql");
	mg->verify = pgb_xcalloc(2, sizeof(*mg->verify));
	mg->verify[0] = pgb_xstrdup("SELECT true");
	mg->verify[1] = pgb_xstrdup("SELECT  count(*) > 0 FROM t\t-- x");
	mg->nverify = 2;
	mg->has_down = 1;
	set_script(&mg->down, "migrations/001_create_users.down.sql", "down1",
	    30, PGB_MODE_TX, 1);
	set_stmt(&mg->down.stmts[0], 0, 17, 1);
	mg->down.keeps_session = 1;

	mg = &m->migs[1];
	mg->version = 5;
	mg->name = pgb_xstrdup("");
	set_script(&mg->up, "migrations/005.sql", "up5", 10, PGB_MODE_NOTX, 1);
	set_stmt(&mg->up.stmts[0], 0, 10, 1);
	chain_all(m);
}

static char *
write_text(struct pgb_manifest *m, size_t *len)
{
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_manifest_write(m, &b);
	return pgb_buf_steal(&b, len);
}

static char *
sample_text(void)
{
	struct pgb_manifest	 m;
	char			*t;

	sample(&m);
	t = write_text(&m, NULL);
	pgb_manifest_release(&m);
	return t;
}

/* Replace the first 'old' in 't' (freed) with 'new'. */
static char *
replace(char *t, const char *old, const char *new)
{
	struct pgb_buf	 b;
	char		*p;

	p = strstr(t, old);
	if (p == NULL)
		fail_msg("'%s' not in the sample", old);
	pgb_buf_init(&b);
	pgb_buf_append(&b, t, (size_t)(p - t));
	pgb_buf_puts(&b, new);
	pgb_buf_puts(&b, p + strlen(old));
	free(t);
	return pgb_buf_steal(&b, NULL);
}

/* Recompute the bundle-id line of 't' in place, as the writer would. */
static void
fix_bid(char *t, size_t len)
{
	struct pgb_buf	 b;
	unsigned char	 h[PGB_SHA256_LEN];
	char		 hex[PGB_HEX256_LEN + 1], *p, *e;

	p = strstr(t, "bundle-id ");
	assert_non_null(p);
	e = memchr(p, '\n', len - (size_t)(p - t));
	assert_non_null(e);
	pgb_buf_init(&b);
	pgb_buf_append(&b, t, (size_t)(p - t));
	pgb_buf_append(&b, e + 1, len - (size_t)(e + 1 - t));
	pgb_sha256(b.data, b.len, h);
	pgb_hex(h, PGB_SHA256_LEN, hex);
	pgb_buf_release(&b);
	if ((size_t)(e - p) == 10 + PGB_HEX256_LEN)
		memcpy(p + 10, hex, PGB_HEX256_LEN);
}

static void
expect_bad_len(char *t, size_t len, int fix, const char *want)
{
	struct pgb_manifest	m;
	struct pgb_diag		d;

	if (fix)
		fix_bid(t, len);
	pgb_diag_clear(&d);
	if (pgb_manifest_parse(t, len, &m, &d) != -1 ||
	    strstr(d.msg, want) == NULL)
		fail_msg("want '%s', got '%s'", want, d.msg);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_int_equal(m.nmigs, 0);
	assert_null(m.project);
	free(t);
}

static void
expect_bad(char *t, int fix, const char *want)
{
	expect_bad_len(t, strlen(t), fix, want);
}

static void
expect_good(char *t, int fix)
{
	struct pgb_manifest	m;
	struct pgb_diag		d;

	if (fix)
		fix_bid(t, strlen(t));
	if (pgb_manifest_parse(t, strlen(t), &m, &d) != 0)
		fail_msg("refused: %s", d.msg);
	pgb_manifest_release(&m);
	free(t);
}

/* A mutation of the sample text and the message it must produce. */
struct bad {
	const char	*old, *new, *want;
};

static const struct bad bads[] = {
	{ "pgbundle-manifest 1", "PGBUNDLE-manifest 1",
	    "manifest line 1: not a pgbundle manifest" },
	{ "pgbundle-manifest 1", "pgbundle-manifest 2",
	    "manifest line 1: format 2 is not supported" },
	{ "pgbundle-manifest 1", "pgbundle-manifest 01",
	    "manifest line 1: format '01' has a leading zero" },
	{ "project demo\n", "project demo\nproject x\n",
	    "manifest line 3: 'project' given twice (first on line 2)" },
	{ "project demo", "colour blue",
	    "manifest line 2: unknown key 'colour'" },
	{ "project demo", "project  demo",
	    "manifest line 2: empty field" },
	{ "project demo", "project demo ",
	    "manifest line 2: empty field" },
	{ "project demo", " project demo",
	    "manifest line 2: empty field" },
	{ "project demo", "project a b",
	    "manifest line 2: 'project' takes 1 field" },
	{ "project demo", "project demo\r",
	    "manifest line 2: control character 0x0d at byte 13" },
	{ "project demo", "project de\x1bmo",
	    "manifest line 2: control character 0x1b" },
	{ "project demo", "project d\x7f",
	    "manifest line 2: control character 0x7f" },
	{ "target prod", "target pr\xc3\xa9",
	    "manifest line 3: bad target name" },
	{ "project demo\n", "",
	    "manifest line 8: the header has no 'project'" },
	{ "created 1700000000\n", "",
	    "manifest line 8: the header has no 'created'" },
	{ "created 1700000000", "created -1",
	    "manifest line 4: created '-1' is not a number" },
	{ "created 1700000000", "created +17",
	    "manifest line 4: created '+17' is not a number" },
	{ "created 1700000000", "created 017",
	    "manifest line 4: created '017' has a leading zero" },
	{ "created 1700000000", "created 1e9",
	    "manifest line 4: created '1e9' is not a number" },
	{ "created 1700000000", "created 9223372036854775808",
	    "manifest line 4: created 9223372036854775808 is over the limit "
	    "of 9223372036854775807" },
	{ "created 1700000000", "created 99999999999999999999999",
	    "manifest line 4: created 99999999999999999999999 is over the "
	    "limit" },
	{ "compiler pgbundle 0.1.0", "compiler",
	    "manifest line 5: 'compiler' takes 1 field" },
	{ "hash sha256", "hash md5",
	    "manifest line 6: hash 'md5' is not supported (only sha256)" },
	{ "key-id 0123456789abcdef", "key-id 0123456789ABCDEF",
	    "manifest line 7: key-id must be 16 lowercase hex digits or "
	    "'unsigned'" },
	{ "key-id 0123456789abcdef", "key-id 0123456789abcde",
	    "manifest line 7: key-id must be 16" },
	{ "bundle-id ", "bundle-id 0",
	    "manifest line 8: bundle-id must be 64 lowercase hex digits" },
	{ "migration 1 create_users", "migration 1 create users",
	    "manifest line 9: 'migration' takes a version and a name" },
	{ "migration 1 create_users", "migration x create_users",
	    "manifest line 9: version 'x' is not a number" },
	{ "migration 1 create_users", "migration 1 create\xff",
	    "manifest line 9: bad migration name" },
	{ "migration 5\n", "migration 1\n",
	    "manifest line 23: version 1 does not follow version 1 (versions "
	    "must ascend)" },
	{ "migration 5\n", "migration 0\n",
	    "manifest line 23: version 0 does not follow version 1" },
	{ "file migrations/001_create_users.sql\n", "",
	    "manifest line 10: expected 'file', got 'sha256'" },
	{ "file migrations/001_create_users.sql",
	    "file migrations/../x.sql",
	    "manifest line 10: unsafe path 'migrations/../x.sql'" },
	{ "file migrations/001_create_users.sql", "file /x.sql",
	    "manifest line 10: unsafe path '/x.sql'" },
	{ "file migrations/001_create_users.sql", "file MANIFEST",
	    "manifest line 10: a script cannot be named 'MANIFEST'" },
	{ "file migrations/005.sql",
	    "file migrations/001_create_users.down.sql",
	    "manifest line 24: 'migrations/001_create_users.down.sql' is "
	    "listed twice (first on line 20)" },
	{ "\nsha256 ", "\nsha256 0",
	    "manifest line 11: sha256 must be 64 lowercase hex digits" },
	{ "size 200", "size 67108865",
	    "manifest line 12: size 67108865 is over the limit of 67108864" },
	{ "size 200", "size 18446744073709551616",
	    "manifest line 12: size 18446744073709551616 is over the limit" },
	{ "size 200", "size 2 00",
	    "manifest line 12: 'size' takes 1 field" },
	{ "mode transaction", "mode sometimes",
	    "manifest line 13: mode must be 'transaction' or 'no-transaction', "
	    "not 'sometimes'" },
	{ "\nchain ", "\nchain 0",
	    "manifest line 14: chain must be 64 lowercase hex digits" },
	{ "stmt 0 50 1\n", "stmt 0 0 1\n",
	    "manifest line 15: statement length is 0" },
	{ "stmt 0 50 1\n", "stmt 0 50 0\n",
	    "manifest line 15: statement line is 0 (lines count from 1)" },
	{ "stmt 0 50 1\n", "stmt 0 50\n",
	    "manifest line 15: 'stmt' takes 3 numbers and up to 3 options" },
	{ "stmt 0 50 1\n", "stmt 190 11 1\n",
	    "manifest line 15: statement 190+11 is outside the script (200 "
	    "bytes)" },
	{ "stmt 0 50 1\n", "stmt 201 0 1\n",
	    "manifest line 15: statement length is 0" },
	{ "stmt 0 50 1\n", "stmt 67108864 67108864 1\n",
	    "manifest line 15: statement 67108864+67108864 is outside" },
	{ "stmt 0 50 1\n", "stmt 0 18446744073709551615 1\n",
	    "manifest line 15: statement length 18446744073709551615 is over "
	    "the limit of 67108864" },
	{ "stmt 0 50 1\n", "stmt 0 50 4294967296\n",
	    "manifest line 15: statement line 4294967296 is over the limit" },
	{ "stmt 60 30 3", "stmt 40 30 3",
	    "manifest line 16: statement at 40 overlaps or precedes the "
	    "previous one" },
	{ "copy=91:40", "copy=91:110",
	    "manifest line 16: copy data 91+110 is outside the script (200 "
	    "bytes)" },
	{ "copy=91:40", "copy=91",
	    "manifest line 16: copy= must be OFFSET:LENGTH" },
	{ "copy=91:40", "copy=-1:40",
	    "manifest line 16: copy offset '-1' is not a number" },
	{ "copy=91:40", "copy=91:",
	    "manifest line 16: copy length is empty" },
	{ "copy=91:40", "copy=91:40 copy=1:1",
	    "manifest line 16: unknown, repeated or misplaced statement option "
	    "'copy=1:1'" },
	{ "copy=91:40", "foo=1",
	    "manifest line 16: unknown, repeated or misplaced statement option "
	    "'foo=1'" },
	{ "index=Weird%20Name%22x src=common/fn%20v2.sql",
	    "src=common/fn%20v2.sql index=Weird",
	    "manifest line 17: unknown, repeated or misplaced statement option "
	    "'index=Weird'" },
	{ "index=Weird%20Name%22x", "index=",
	    "manifest line 17: index= is empty" },
	{ "index=Weird%20Name%22x", "index=Weird%2",
	    "manifest line 17: bad percent-encoding in index=" },
	{ "index=Weird%20Name%22x", "index=Weird%2g",
	    "manifest line 17: bad percent-encoding in index=" },
	{ "index=Weird%20Name%22x", "index=Weird%2a",
	    "manifest line 17: bad percent-encoding in index=" },
	{ "index=Weird%20Name%22x", "index=Weird%41",
	    "manifest line 17: bad percent-encoding in index=" },
	{ "index=Weird%20Name%22x", "index=Weird%00",
	    "manifest line 17: bad percent-encoding in index=" },
	{ "index=Weird%20Name%22x", "index=Weird\"",
	    "manifest line 17: bad percent-encoding in index=" },
	{ "src=common/fn%20v2.sql", "src=a%",
	    "manifest line 17: bad percent-encoding in src=" },
	{ "verify SELECT true", "verify",
	    "manifest line 18: 'verify' takes a query" },
	{ "verify SELECT true", "verify ",
	    "manifest line 18: 'verify' takes a value" },
	{ "down-stmt 0 17 1\n", "down-stmt 0 17 1\nverify SELECT 1\n",
	    "manifest line 22: 'verify' out of place (order: stmt, verify, "
	    "down, down-stmt, end)" },
	{ "verify SELECT true\n", "verify SELECT true\nstmt 190 1 1\n",
	    "manifest line 19: 'stmt' out of place" },
	{ " 30 transaction keeps-session", " 30",
	    "manifest line 20: 'down' takes a path, a sha256, a size and a "
	    "mode" },
	{ " 30 transaction keeps-session", " 30 transaction keeps",
	    "manifest line 20: unknown flag 'keeps' after the mode (only "
	    "'keeps-session')" },
	{ " 30 transaction keeps-session", " 30 transaction keeps-session x",
	    "manifest line 20: 'down' takes a path, a sha256, a size and a "
	    "mode" },
	{ "mode transaction\n", "mode transaction keeps-sessions\n",
	    "manifest line 13: unknown flag 'keeps-sessions' after the mode" },
	{ "mode transaction\n", "mode transaction keeps-session x\n",
	    "manifest line 13: 'mode' takes 1 field" },
	{ " 30 transaction", " 30 maybe",
	    "manifest line 20: mode must be 'transaction'" },
	{ "down-stmt 0 17 1", "down-stmt 0 31 1",
	    "manifest line 21: statement 0+31 is outside the script (30 "
	    "bytes)" },
	{ "end\nmigration 5", "migration 5",
	    "manifest line 22: expected 'end', got 'migration'" },
	{ "end\nmigration 5", "end x\nmigration 5",
	    "manifest line 22: 'end' takes no fields" },
	{ "end\nmigration 5", "end\nmigrate 5",
	    "manifest line 23: expected 'migration', got 'migrate'" },
	{ "end\nmigration 5", "end\n\nmigration 5",
	    "manifest line 23: empty line" },
};

static void
test_manifest_malformed(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		expect_bad(replace(sample_text(), bads[i].old, bads[i].new), 1,
		    bads[i].want);
}

static void
test_manifest_malformed_tail(void **state)
{
	char	*t;
	size_t	 len;

	(void)state;
	/* The text ends without the last "end". */
	t = sample_text();
	len = strlen(t);
	t[len - 4] = '\0';
	expect_bad(t, 1, "manifest line 30: the manifest ends inside "
	    "migration 5");
	/* No newline after the last line. */
	t = sample_text();
	t[strlen(t) - 1] = '\0';
	expect_bad(t, 1, "manifest line 30: no newline at the end of the "
	    "manifest");
}

static void
test_manifest_nul_byte(void **state)
{
	char	*t;
	size_t	 len;

	(void)state;
	t = sample_text();
	len = strlen(t);
	t[strstr(t, "demo") - t + 2] = '\0';
	expect_bad_len(t, len, 0,
	    "manifest line 2: control character 0x00 at byte 11");
}

static void
test_manifest_trailing(void **state)
{
	struct pgb_buf	 b;
	char		*t;

	(void)state;
	t = sample_text();
	pgb_buf_init(&b);
	pgb_buf_puts(&b, t);
	free(t);
	pgb_buf_puts(&b, "garbage\n");
	expect_bad(pgb_buf_steal(&b, NULL), 1,
	    "manifest line 31: expected 'migration', got 'garbage'");
}

static void
test_manifest_bundle_id_checked(void **state)
{
	(void)state;
	/* Any other line changed without a new bundle-id. */
	expect_bad(replace(sample_text(), "project demo", "project demx"), 0,
	    "manifest line 8: bundle-id does not match the other lines");
	expect_bad(replace(sample_text(), "stmt 0 50 1", "stmt 0 51 1"), 0,
	    "manifest line 8: bundle-id does not match");
}

static void
test_manifest_chain_checked(void **state)
{
	char	*t, *p;

	(void)state;
	t = sample_text();
	p = strstr(t, "\nchain ") + 7;
	*p = *p == '0' ? '1' : '0';
	expect_bad(t, 1, "manifest line 14: chain does not follow from the "
	    "previous migration and this script's sha256");
	/* The second link depends on the first script. */
	t = sample_text();
	p = strstr(t, "\nsha256 ") + 8;
	*p = *p == '0' ? '1' : '0';
	expect_bad(t, 1, "manifest line 14: chain does not follow");
}

static void
test_manifest_line_length(void **state)
{
	struct pgb_buf	q;
	char		*t;

	(void)state;
	/* "verify " + 8185 bytes: a line of exactly PGB_LINE_MAX. */
	pgb_buf_init(&q);
	pgb_buf_puts(&q, "verify SELECT ");
	while (q.len < PGB_LINE_MAX)
		pgb_buf_puts(&q, "1");
	t = replace(sample_text(), "verify SELECT true", q.data);
	expect_good(t, 1);
	pgb_buf_puts(&q, "1");
	t = replace(sample_text(), "verify SELECT true", q.data);
	expect_bad(t, 1, "manifest line 18: line is longer than 8192 bytes");
	pgb_buf_release(&q);
}

static void
test_manifest_verify_count(void **state)
{
	struct pgb_buf	q;
	unsigned	i;

	(void)state;
	pgb_buf_init(&q);
	for (i = 0; i < PGB_VERIFY_MAX - 1; i++)
		pgb_buf_puts(&q, "verify SELECT 1\n");
	expect_good(replace(sample_text(), "verify SELECT true\n", q.data),
	    1);
	pgb_buf_puts(&q, "verify SELECT 1\n");
	expect_bad(replace(sample_text(), "verify SELECT true\n", q.data), 1,
	    "manifest line 82: more than 64 verify queries");
	pgb_buf_release(&q);
}

/*
 * verify-line after a verify query: written when known, read back, and
 * optional, so a manifest written before it existed reads the same.
 */
static void
test_manifest_verify_line(void **state)
{
	struct pgb_manifest	 m, p;
	struct pgb_diag		 d;
	char			*t, *t2;
	size_t			 len, len2;

	(void)state;
	sample(&m);
	m.migs[0].verify_line = pgb_xcalloc(2, sizeof(unsigned));
	m.migs[0].verify_line[1] = 7;
	t = write_text(&m, &len);
	assert_non_null(strstr(t, "\nverify SELECT true\nverify SELECT  "
	    "count(*) > 0 FROM t\t-- x\nverify-line 7\ndown "));
	assert_int_equal(pgb_manifest_parse(t, len, &p, &d), 0);
	assert_int_equal(p.migs[0].nverify, 2);
	assert_int_equal(p.migs[0].verify_line[0], 0);
	assert_int_equal(p.migs[0].verify_line[1], 7);
	assert_null(p.migs[1].verify_line);
	t2 = write_text(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(t, t2, len);
	free(t2);
	pgb_manifest_release(&p);
	pgb_manifest_release(&m);

	expect_bad(replace(pgb_xstrdup(t), "verify-line 7", "verify-line 0"),
	    1, "manifest line 20: verify line is 0 (lines count from 1)");
	expect_bad(replace(pgb_xstrdup(t), "verify-line 7", "verify-line 07"),
	    1, "manifest line 20: verify line '07' has a leading zero");
	expect_bad(replace(pgb_xstrdup(t), "verify-line 7", "verify-line"),
	    1, "manifest line 20: 'verify-line' takes a line number");
	expect_bad(replace(pgb_xstrdup(t), "verify-line 7", "verify-line 7 8"),
	    1, "manifest line 20: 'verify-line' takes a line number");
	expect_bad(replace(pgb_xstrdup(t), "verify-line 7",
	    "verify-line 4294967296"), 1, "manifest line 20: verify line");
	/* Only right after its verify query. */
	expect_bad(replace(pgb_xstrdup(t), "verify-line 7\n",
	    "verify-line 7\nverify-line 8\n"), 1, "manifest line 21: "
	    "'verify-line' out of place");
	expect_bad(replace(pgb_xstrdup(t), "stmt 0 50 1\n",
	    "stmt 0 50 1\nverify-line 3\n"), 1, "manifest line 16: "
	    "'verify-line' out of place");
	free(t);
}

/*
 * A statement's options: any of copy=, index= and src=, each at most
 * once and in that order, and what each sets (line 17 of the sample).
 */
static void
test_manifest_stmt_options(void **state)
{
	static const struct {
		const char	*opts;
		const char	*want;	/* the refusal; NULL: accepted */
	} c[] = {
		{ "", NULL },
		{ " src=a.sql", NULL },
		{ " index=i", NULL },
		{ " copy=150:5 src=a.sql", NULL },
		{ " copy=150:5 index=i src=a.sql", NULL },
		{ " src=a.sql copy=150:5", "manifest line 17: unknown, "
		    "repeated or misplaced statement option 'copy=150:5'" },
		{ " index=i copy=150:5", "option 'copy=150:5'" },
		{ " src=a.sql index=i", "option 'index=i'" },
		{ " src=a.sql src=b.sql", "option 'src=b.sql'" },
		{ " index=i index=j", "option 'index=j'" },
		{ " copy=150:5 index=i src=a.sql x=1",
		    "manifest line 17: 'stmt' takes 3 numbers and up to 3 "
		    "options" },
	};
	struct pgb_manifest	 m;
	struct pgb_diag		 d;
	const struct pgb_stmt	*st;
	char			 line[128], *t;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(line, sizeof(line), "stmt 140 20 8%s\n", c[i].opts);
		t = replace(sample_text(), "stmt 140 20 8 index=Weird%20Name%22x "
		    "src=common/fn%20v2.sql\n", line);
		if (c[i].want != NULL) {
			expect_bad(t, 1, c[i].want);
			continue;
		}
		fix_bid(t, strlen(t));
		if (pgb_manifest_parse(t, strlen(t), &m, &d) != 0)
			fail_msg("'%s' refused: %s", c[i].opts, d.msg);
		st = &m.migs[0].up.stmts[2];
		assert_int_equal(st->is_copy, strstr(c[i].opts, "copy=") != NULL);
		if (st->is_copy) {
			assert_int_equal(st->copy_off, 150);
			assert_int_equal(st->copy_len, 5);
		}
		if (strstr(c[i].opts, "index=") != NULL)
			assert_string_equal(st->index, "i");
		else
			assert_null(st->index);
		if (strstr(c[i].opts, "src=") != NULL)
			assert_string_equal(st->src, "a.sql");
		else
			assert_null(st->src);
		pgb_manifest_release(&m);
		free(t);
	}
}

static void
test_manifest_stmt_count(void **state)
{
	struct pgb_manifest	 m;
	struct pgb_script	*sc;
	char			*t;
	size_t			 i, len;

	(void)state;
	sample(&m);
	sc = &m.migs[1].up;
	free(sc->stmts);
	sc->size = PGB_STMTS_MAX + 1;
	sc->nstmts = PGB_STMTS_MAX;
	sc->stmts = pgb_xcalloc(PGB_STMTS_MAX + 1, sizeof(*sc->stmts));
	for (i = 0; i < PGB_STMTS_MAX + 1; i++)
		set_stmt(&sc->stmts[i], i, 1, 1);
	t = write_text(&m, &len);
	expect_good(t, 0);
	sc->nstmts = PGB_STMTS_MAX + 1;
	t = write_text(&m, &len);
	expect_bad(t, 0, "more than 100000 statements in "
	    "'migrations/005.sql'");
	pgb_manifest_release(&m);
}

static void
test_manifest_migration_count(void **state)
{
	struct pgb_manifest	 m;
	struct pgb_migration	*mg;
	char			 path[64], *t;
	size_t			 i;

	(void)state;
	pgb_manifest_init(&m);
	m.project = pgb_xstrdup("many");
	m.compiler = pgb_xstrdup("pgbundle 0.1.0");
	m.nmigs = PGB_MIGRATIONS_MAX + 1;
	m.migs = pgb_xcalloc(m.nmigs, sizeof(*m.migs));
	for (i = 0; i < m.nmigs; i++) {
		mg = &m.migs[i];
		mg->version = (long long)i + 1;
		mg->name = pgb_xstrdup("m");
		snprintf(path, sizeof(path), "migrations/%06zu_m.sql", i + 1);
		set_script(&mg->up, path, "x", 0, PGB_MODE_TX, 0);
	}
	chain_all(&m);
	m.nmigs--;
	t = write_text(&m, NULL);
	expect_good(t, 0);
	m.nmigs++;
	t = write_text(&m, NULL);
	expect_bad(t, 0, "more than 20000 migrations");
	pgb_manifest_release(&m);
}

static void
test_manifest_too_big(void **state)
{
	struct pgb_manifest	 m;
	struct pgb_diag		 d;
	char			*t;

	(void)state;
	t = pgb_xcalloc(PGB_MANIFEST_MAX + 1, 1);
	assert_int_equal(pgb_manifest_parse(t, PGB_MANIFEST_MAX + 1, &m, &d),
	    -1);
	assert_string_equal(d.msg, "manifest is 33554433 bytes, over the "
	    "limit of 33554432");
	free(t);
	assert_int_equal(pgb_manifest_parse("", 0, &m, &d), -1);
	assert_string_equal(d.msg, "manifest line 1: not a pgbundle manifest "
	    "(expected 'pgbundle-manifest 1')");
}

static void
assert_script_eq(const struct pgb_script *a, const struct pgb_script *b)
{
	size_t	i;

	assert_string_equal(a->path, b->path);
	assert_memory_equal(a->sha256, b->sha256, PGB_SHA256_LEN);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->keeps_session, b->keeps_session);
	assert_int_equal(a->nstmts, b->nstmts);
	for (i = 0; i < a->nstmts; i++) {
		assert_int_equal(a->stmts[i].off, b->stmts[i].off);
		assert_int_equal(a->stmts[i].len, b->stmts[i].len);
		assert_int_equal(a->stmts[i].line, b->stmts[i].line);
		assert_int_equal(a->stmts[i].is_copy, b->stmts[i].is_copy);
		assert_int_equal(a->stmts[i].copy_off, b->stmts[i].copy_off);
		assert_int_equal(a->stmts[i].copy_len, b->stmts[i].copy_len);
		if (a->stmts[i].index || b->stmts[i].index)
			assert_string_equal(a->stmts[i].index,
			    b->stmts[i].index);
		if (a->stmts[i].src || b->stmts[i].src)
			assert_string_equal(a->stmts[i].src, b->stmts[i].src);
	}
}

static void
assert_manifest_eq(const struct pgb_manifest *a, const struct pgb_manifest *b)
{
	size_t	i, j;

	assert_int_equal(a->format, b->format);
	assert_string_equal(a->project, b->project);
	if (a->target || b->target)
		assert_string_equal(a->target, b->target);
	assert_string_equal(a->compiler, b->compiler);
	assert_string_equal(a->key_id, b->key_id);
	assert_int_equal(a->created, b->created);
	assert_string_equal(a->bundle_id, b->bundle_id);
	assert_int_equal(a->nmigs, b->nmigs);
	for (i = 0; i < a->nmigs; i++) {
		assert_int_equal(a->migs[i].version, b->migs[i].version);
		assert_string_equal(a->migs[i].name, b->migs[i].name);
		assert_memory_equal(a->migs[i].chain, b->migs[i].chain,
		    PGB_SHA256_LEN);
		assert_script_eq(&a->migs[i].up, &b->migs[i].up);
		assert_int_equal(a->migs[i].has_down, b->migs[i].has_down);
		if (a->migs[i].has_down)
			assert_script_eq(&a->migs[i].down, &b->migs[i].down);
		assert_int_equal(a->migs[i].nverify, b->migs[i].nverify);
		for (j = 0; j < a->migs[i].nverify; j++)
			assert_string_equal(a->migs[i].verify[j],
			    b->migs[i].verify[j]);
	}
}

static void
test_manifest_roundtrip(void **state)
{
	struct pgb_manifest	 m, p;
	struct pgb_diag		 d;
	char			*t, *t2;
	size_t			 len, len2;

	(void)state;
	sample(&m);
	t = write_text(&m, &len);
	assert_int_equal(pgb_manifest_parse(t, len, &p, &d), 0);
	assert_manifest_eq(&m, &p);
	assert_null(p.migs[0].up.text);
	/* Written again, the parsed form gives the same bytes. */
	t2 = write_text(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(t, t2, len);
	assert_non_null(strstr(t, "index=Weird%20Name%22x "
	    "src=common/fn%20v2.sql\n"));
	assert_non_null(strstr(t, "\nmigration 5\n"));
	assert_non_null(strstr(t, " 30 transaction keeps-session\n"));
	assert_non_null(strstr(t, "\nmode no-transaction\n"));
	assert_int_equal(p.migs[0].down.keeps_session, 1);
	assert_int_equal(p.migs[0].up.keeps_session, 0);
	assert_non_null(strstr(t, "\nverify SELECT  count(*) > 0 FROM t\t-- x\n"));
	assert_string_equal(p.migs[1].name, "");
	assert_string_equal(pgb_mode_name(p.migs[1].up.mode), "no-transaction");
	assert_string_equal(pgb_mode_name(PGB_MODE_TX), "transaction");
	free(t);
	free(t2);
	pgb_manifest_release(&p);
	pgb_manifest_release(&m);
	/* Release leaves an empty manifest; releasing again is harmless. */
	pgb_manifest_release(&m);
	assert_int_equal(m.nmigs, 0);
}

/*
 * A script of comments only has no statement, and a zero-byte one has
 * no room for one: both parse, and a statement in a zero-byte script is
 * out of bounds.
 */
static void
test_manifest_empty_scripts(void **state)
{
	struct pgb_manifest	 m, p;
	struct pgb_diag		 d;
	char			*t;
	size_t			 len;

	(void)state;
	sample(&m);
	free(m.migs[1].up.stmts);
	m.migs[1].up.stmts = NULL;
	m.migs[1].up.nstmts = 0;
	m.migs[1].has_down = 1;
	set_script(&m.migs[1].down, "migrations/005.down.sql", "", 0,
	    PGB_MODE_TX, 0);
	chain_all(&m);
	t = write_text(&m, &len);
	assert_int_equal(pgb_manifest_parse(t, len, &p, &d), 0);
	assert_manifest_eq(&m, &p);
	assert_int_equal(p.migs[1].up.nstmts, 0);
	assert_int_equal(p.migs[1].down.nstmts, 0);
	assert_int_equal(p.migs[1].down.size, 0);
	pgb_manifest_release(&p);
	/* The last "end" is migration 5's: a statement goes before it. */
	assert_string_equal(t + len - 5, "\nend\n");
	t = pgb_xreallocarray(t, len + 32, 1);
	memcpy(t + len - 4, "down-stmt 0 1 1\nend\n", 21);
	pgb_manifest_release(&m);
	expect_bad(t, 1, "is outside the script (0 bytes)");
}

/* bundle-id is SHA-256 of the text without its own line. */
static void
test_manifest_bundle_id(void **state)
{
	struct pgb_manifest	 m;
	struct pgb_buf		 rest;
	unsigned char		 h[PGB_SHA256_LEN];
	char			 hex[PGB_HEX256_LEN + 1], *t, *p, *e;

	(void)state;
	sample(&m);
	t = write_text(&m, NULL);
	p = strstr(t, "\nbundle-id ") + 1;
	e = strchr(p, '\n') + 1;
	pgb_buf_init(&rest);
	pgb_buf_append(&rest, t, (size_t)(p - t));
	pgb_buf_puts(&rest, e);
	pgb_sha256(rest.data, rest.len, h);
	pgb_hex(h, PGB_SHA256_LEN, hex);
	assert_string_equal(m.bundle_id, hex);
	assert_memory_equal(p + 10, hex, PGB_HEX256_LEN);
	/* The line sits after key-id, as in FORMAT.md. */
	assert_true(strncmp(p - 24, "key-id 0123456789abcdef\n", 24) == 0);
	pgb_buf_release(&rest);
	free(t);
	pgb_manifest_release(&m);
}

static void
test_manifest_variants(void **state)
{
	struct pgb_manifest	 m, p;
	struct pgb_diag		 d;
	char			*t;
	size_t			 len;

	(void)state;
	/* No migrations, no target, unsigned. */
	pgb_manifest_init(&m);
	m.project = pgb_xstrdup("empty");
	m.compiler = pgb_xstrdup("pgbundle 0.1.0");
	t = write_text(&m, &len);
	assert_int_equal(pgb_manifest_parse(t, len, &p, &d), 0);
	assert_null(p.target);
	assert_string_equal(p.key_id, "unsigned");
	assert_int_equal(p.nmigs, 0);
	assert_int_equal(p.format, 1);
	pgb_manifest_release(&p);
	free(t);
	pgb_manifest_release(&m);

	/* Header keys in another order are accepted. */
	expect_good(replace(replace(sample_text(), "project demo\n", ""),
	    "hash sha256\n", "hash sha256\nproject demo\n"), 1);
	expect_good(replace(sample_text(), "target prod\n", ""), 1);
	expect_good(replace(sample_text(), "key-id 0123456789abcdef",
	    "key-id unsigned"), 1);
	expect_good(replace(sample_text(), "created 1700000000",
	    "created 0"), 1);
	/* Both flags of a down script, and neither. */
	expect_good(replace(sample_text(), " 30 transaction keeps-session",
	    " 30 transaction idempotent keeps-session"), 1);
	expect_good(replace(sample_text(), " 30 transaction keeps-session",
	    " 30 no-transaction idempotent"), 1);
	expect_good(replace(sample_text(), " 30 transaction keeps-session",
	    " 30 transaction"), 1);
	expect_good(replace(sample_text(), "mode transaction\n",
	    "mode transaction keeps-session\n"), 1);
}

/*
 * A bundle whose second migration is a baseline of 2..9; by line:
 *  8 migration 1 first ... 15 end   16 migration 9 baseline ...
 * 20 mode  21 chain  22 baseline-of 2 9  23-25 replaces 2, 5, 9
 * 26 stmt 0 10 1  27 end
 */
static void
baseline_sample(struct pgb_manifest *m)
{
	struct pgb_migration	*mg;

	pgb_manifest_init(m);
	m->format = 1;
	m->project = pgb_xstrdup("demo");
	m->compiler = pgb_xstrdup("pgbundle 0.1.0");
	m->key_id = pgb_xstrdup("0123456789abcdef");
	m->created = 1700000000;
	m->migs = pgb_xcalloc(2, sizeof(*m->migs));
	m->nmigs = 2;
	mg = &m->migs[0];
	mg->version = 1;
	mg->name = pgb_xstrdup("first");
	set_script(&mg->up, "migrations/001_first.sql", "f", 10, PGB_MODE_TX,
	    1);
	set_stmt(&mg->up.stmts[0], 0, 10, 1);
	mg = &m->migs[1];
	mg->version = 9;
	mg->name = pgb_xstrdup("baseline");
	set_script(&mg->up, "migrations/009_baseline.sql", "b", 10,
	    PGB_MODE_TX, 1);
	set_stmt(&mg->up.stmts[0], 0, 10, 1);
	mg->baseline = 1;
	mg->baseline_first = 2;
	mg->nreplaces = 3;
	mg->replaces = pgb_xcalloc(3, sizeof(*mg->replaces));
	mg->replaces[0].version = 2;
	mg->replaces[0].name = pgb_xstrdup("a");
	pgb_sha256("2", 1, mg->replaces[0].sha256);
	mg->replaces[1].version = 5;
	mg->replaces[1].name = pgb_xstrdup("");
	pgb_sha256("5", 1, mg->replaces[1].sha256);
	mg->replaces[2].version = 9;
	mg->replaces[2].name = pgb_xstrdup("c");
	pgb_sha256("9", 1, mg->replaces[2].sha256);
	chain_all(m);
}

static void
test_manifest_baseline_roundtrip(void **state)
{
	struct pgb_manifest	 m, p;
	struct pgb_diag		 d;
	char			*t, *t2;
	size_t			 len, len2, i;

	(void)state;
	baseline_sample(&m);
	t = write_text(&m, &len);
	assert_non_null(strstr(t, "\nchain "));
	assert_non_null(strstr(t, "\nbaseline-of 2 9\nreplaces 2 "));
	assert_non_null(strstr(t, "\nreplaces 5 "));
	assert_int_equal(pgb_manifest_parse(t, len, &p, &d), 0);
	assert_manifest_eq(&m, &p);
	assert_false(p.migs[0].baseline);
	assert_true(p.migs[1].baseline);
	assert_int_equal(p.migs[1].baseline_first, 2);
	assert_int_equal(p.migs[1].nreplaces, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(p.migs[1].replaces[i].version,
		    m.migs[1].replaces[i].version);
		assert_string_equal(p.migs[1].replaces[i].name,
		    m.migs[1].replaces[i].name);
		assert_memory_equal(p.migs[1].replaces[i].sha256,
		    m.migs[1].replaces[i].sha256, PGB_SHA256_LEN);
	}
	t2 = write_text(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(t, t2, len);
	free(t);
	free(t2);
	pgb_manifest_release(&p);
	pgb_manifest_release(&m);
}

static char *
baseline_text(void)
{
	struct pgb_manifest	 m;
	char			*t;

	baseline_sample(&m);
	t = write_text(&m, NULL);
	pgb_manifest_release(&m);
	return t;
}

static void
test_manifest_baseline_malformed(void **state)
{
	static const struct bad bb[] = {
		{ "baseline-of 2 9", "baseline-of 2 8",
		    "manifest line 22: baseline-of must end at the "
		    "migration's own version 9, not 8" },
		{ "baseline-of 2 9", "baseline-of 1 9",
		    "manifest line 22: baseline-of 1..9 overlaps migration 1" },
		{ "baseline-of 2 9", "baseline-of 10 9",
		    "manifest line 22: baseline-of range 10..9 is empty" },
		{ "baseline-of 2 9", "baseline-of 2",
		    "manifest line 22: 'baseline-of' takes 2 versions" },
		{ "baseline-of 2 9", "baseline-of 02 9",
		    "manifest line 22: baseline first version '02' has a "
		    "leading zero" },
		{ "replaces 2 ", "replaces 3 ",
		    "manifest line 23: the first replaced version must be 2, "
		    "not 3" },
		{ "replaces 5 ", "replaces 2 ",
		    "manifest line 24: replaced version 2 does not follow 2" },
		{ "replaces 9 ", "replaces 10 ",
		    "manifest line 25: replaced version 10 is outside "
		    "baseline-of 2..9" },
		{ "replaces 2 ", "replaces 2 0 ",
		    "manifest line 23: 'replaces' takes a version, a sha256 "
		    "and a name" },
		{ "replaces 5 ", "replaces 5 x",
		    "manifest line 24: replaced sha256 must be 64 lowercase "
		    "hex digits" },
		{ " c\nstmt", " c\xff\nstmt",
		    "manifest line 25: bad replaced migration name" },
		{ "baseline-of 2 9\n", "",
		    "manifest line 22: 'replaces' out of place (order: chain, "
		    "baseline-of, replaces, stmt)" },
		{ "stmt 0 10 1\nend\nmigration 9",
		    "stmt 0 10 1\nbaseline-of 1 1\nend\nmigration 9",
		    "manifest line 15: 'baseline-of' out of place" },
	};
	struct pgb_manifest	 m;
	char			*t, *p;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bb) / sizeof(bb[0]); i++)
		expect_bad(replace(baseline_text(), bb[i].old, bb[i].new), 1,
		    bb[i].want);
	/* The list must end at the baseline's own version. */
	t = baseline_text();
	p = strstr(t, "replaces 9 ");
	memmove(p, strchr(p, '\n') + 1, strlen(strchr(p, '\n') + 1) + 1);
	expect_bad(t, 1, "manifest line 25: the 'replaces' lines of baseline "
	    "9 must end at version 9");
	/* A baseline runs in one transaction with its history rows. */
	baseline_sample(&m);
	m.migs[1].up.mode = PGB_MODE_NOTX;
	expect_bad(write_text(&m, NULL), 0, "manifest line 22: a baseline "
	    "must be a transaction migration");
	pgb_manifest_release(&m);
}

static void
test_manifest_path_ok(void **state)
{
	static const char *const good[] = {
		"MANIFEST", "migrations/001_a.sql", "a", "a/b/c", "a.b",
		"..a", "a..", ".a/b", "a/.b", "x-y_z:1",
	};
	static const char *const bad[] = {
		"", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/./b",
		"a/../b", "../a", "a/..", "a b", "a\\b", "a\tb", "a\x01",
		"caf\xc3\xa9", "a\x7f",
	};
	char	long_name[PGB_NAME_MAX + 2];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!pgb_manifest_path_ok(good[i], strlen(good[i])))
			fail_msg("refused '%s'", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pgb_manifest_path_ok(bad[i], strlen(bad[i])))
			fail_msg("accepted '%s'", bad[i]);
	}
	memset(long_name, 'a', sizeof(long_name));
	assert_true(pgb_manifest_path_ok(long_name, PGB_NAME_MAX));
	assert_false(pgb_manifest_path_ok(long_name, PGB_NAME_MAX + 1));
	/* The length is the truth, not a NUL. */
	assert_false(pgb_manifest_path_ok("a\0b", 3));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_roundtrip),
		cmocka_unit_test(test_manifest_bundle_id),
		cmocka_unit_test(test_manifest_empty_scripts),
		cmocka_unit_test(test_manifest_variants),
		cmocka_unit_test(test_manifest_malformed),
		cmocka_unit_test(test_manifest_malformed_tail),
		cmocka_unit_test(test_manifest_nul_byte),
		cmocka_unit_test(test_manifest_trailing),
		cmocka_unit_test(test_manifest_bundle_id_checked),
		cmocka_unit_test(test_manifest_chain_checked),
		cmocka_unit_test(test_manifest_line_length),
		cmocka_unit_test(test_manifest_verify_count),
		cmocka_unit_test(test_manifest_verify_line),
		cmocka_unit_test(test_manifest_stmt_options),
		cmocka_unit_test(test_manifest_stmt_count),
		cmocka_unit_test(test_manifest_migration_count),
		cmocka_unit_test(test_manifest_too_big),
		cmocka_unit_test(test_manifest_path_ok),
		cmocka_unit_test(test_manifest_baseline_roundtrip),
		cmocka_unit_test(test_manifest_baseline_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
