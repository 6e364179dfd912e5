/*
 * test_schema.c - comparing two schema snapshots: what was added, removed
 * or changed, the parts of a whole table folded into it, and the words
 * pgbundle check uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "schema.h"
#include "banned.h"

/* A snapshot from "kind|name|def" triples, sorted as pgb_schema_read's. */
static void
snap(struct pgb_schema *s, const char *const *v, size_t n)
{
	size_t	i;

	s->v = pgb_xcalloc(n + 1, sizeof(*s->v));
	s->n = n;
	for (i = 0; i < n; i++) {
		const char *a = strchr(v[i], '|'), *b = strchr(a + 1, '|');

		s->v[i].kind = pgb_xstrndup(v[i], (size_t)(a - v[i]));
		s->v[i].name = pgb_xstrndup(a + 1, (size_t)(b - a - 1));
		s->v[i].def = pgb_xstrdup(b + 1);
	}
}

static char *
describe(const struct pgb_schema_diff *df)
{
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_schema_describe(df, &b);
	return pgb_buf_steal(&b, NULL);
}

static void
test_schema_equal(void **state)
{
	static const char *const a[] = {
		"column|users.id|bigint not null", "table|users|",
	};
	struct pgb_schema	 x, y;
	struct pgb_schema_diff	*v;

	(void)state;
	snap(&x, a, 2);
	snap(&y, a, 2);
	assert_int_equal(pgb_schema_diff(&x, &y, &v), 0);
	assert_null(v);
	pgb_schema_release(&x);
	pgb_schema_release(&y);
}

static void
test_schema_changes(void **state)
{
	static const char *const a[] = {
		"column|users.email|character varying(10)",
		"column|users.id|bigint not null",
		"function|f(integer)|CREATE OR REPLACE FUNCTION public.f(integer)\n"
		    " RETURNS integer\n AS 1",
		"table|users|",
	};
	static const char *const b[] = {
		"column|users.email|text",
		"column|users.id|bigint not null",
		"column|users.nickname|text",
		"function|f(integer)|CREATE OR REPLACE FUNCTION public.f(integer)\n"
		    " RETURNS integer\n AS 2",
		"table|users|",
	};
	struct pgb_schema	 x, y;
	struct pgb_schema_diff	*v;
	char			*t;

	(void)state;
	snap(&x, a, 4);
	snap(&y, b, 5);
	assert_int_equal(pgb_schema_diff(&x, &y, &v), 3);
	assert_int_equal(v[0].change, PGB_SCHEMA_CHANGED);
	t = describe(&v[0]);
	assert_string_equal(t, "column 'users.email' (was 'character "
	    "varying(10)', now 'text')");
	free(t);
	assert_int_equal(v[1].change, PGB_SCHEMA_ADDED);
	assert_null(v[1].a);
	t = describe(&v[1]);
	assert_string_equal(t, "column 'users.nickname'");
	free(t);
	/* A long definition is not quoted. */
	assert_int_equal(v[2].change, PGB_SCHEMA_CHANGED);
	t = describe(&v[2]);
	assert_string_equal(t, "function 'f(integer)'");
	free(t);
	free(v);
	pgb_schema_release(&x);
	pgb_schema_release(&y);
}

/* A table added or dropped whole is one difference, not one per part. */
static void
test_schema_fold(void **state)
{
	static const char *const a[] = {
		"column|t.id|integer",
		"column|users.id|bigint not null",
		"constraint|users.users_pkey|PRIMARY KEY (id)",
		"index|users_pkey|CREATE UNIQUE INDEX users_pkey ON "
		    "public.users USING btree (id)",
		"index|users_x|CREATE INDEX users_x ON ONLY public.users "
		    "USING btree (id)",
		"index|usersx_idx|CREATE INDEX usersx_idx ON public.usersx "
		    "USING btree (id)",
		"policy|users.p|for *",
		"sequence|users_id_seq|bigint start 1 increment 1 min 1 max 9 "
		    "cache 1 owned by users.id",
		"table|t|",
		"table|users|",
		"trigger|users.tg|CREATE TRIGGER tg ...",
	};
	static const char *const b[] = {
		"column|t.id|integer",
		"index|usersx_idx|CREATE INDEX usersx_idx ON public.usersx "
		    "USING btree (id)",
		"table|t|",
	};
	struct pgb_schema	 x, y;
	struct pgb_schema_diff	*v;
	char			*t;

	(void)state;
	snap(&x, a, sizeof(a) / sizeof(a[0]));
	snap(&y, b, sizeof(b) / sizeof(b[0]));
	assert_int_equal(pgb_schema_diff(&x, &y, &v), 1);
	assert_int_equal(v[0].change, PGB_SCHEMA_REMOVED);
	assert_null(v[0].b);
	t = describe(&v[0]);
	assert_string_equal(t, "table 'users'");
	free(t);
	free(v);
	/* The other way round: added, also folded. */
	assert_int_equal(pgb_schema_diff(&y, &x, &v), 1);
	assert_int_equal(v[0].change, PGB_SCHEMA_ADDED);
	free(v);
	pgb_schema_release(&x);
	pgb_schema_release(&y);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_equal),
		cmocka_unit_test(test_schema_changes),
		cmocka_unit_test(test_schema_fold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
