/*
 * fuzz_lex.c - libFuzzer target: the compiler's SQL lexer and statement
 * classifier on any bytes, with standard_conforming_strings on and off.
 *
 * Trusts: nothing; the input is one migration file.  Checks the text,
 * splits it from a session with standard_conforming_strings on and from
 * one with it off, then classifies every statement, and asserts what the
 * compiler relies on, in both: statements lie inside the text, in order,
 * without overlap, each starting on a token and as long as one, and COPY
 * data ranges after their statement; variable references lie inside the
 * text, in order, each a ':' and more.  And the two splits agree on a text
 * without a backslash, the only byte the setting changes the meaning of
 * (pgapply relies on that to pipeline such statements).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "diag.h"
#include "lex.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *text, size_t len, const struct pgb_lex *lx)
{
	struct pgb_class	 cls;
	size_t			 i, end = 0;

	for (i = 0; i < lx->nstmts; i++) {
		const struct pgb_lex_stmt *s = &lx->stmts[i];

		if (s->off < end || s->off > len || s->len == 0 ||
		    s->len > len - s->off || text[s->off] == ' ' ||
		    text[s->off] == '\n' || s->sets_std > PGB_STD_DEFAULT)
			abort();
		end = s->off + s->len;
		if (s->is_copy && (s->copy_off < end || s->copy_off > len ||
		    s->copy_len > len - s->copy_off))
			abort();
		(void)pgb_classify(text + s->off, s->len, &cls);
	}
	for (i = 0, end = 0; i < lx->nvars; i++) {
		const struct pgb_lex_var *v = &lx->vars[i];

		if (v->off < end || v->off > len || v->len < 2 ||
		    v->len > len - v->off || text[v->off] != ':')
			abort();
		end = v->off + v->len;
		(void)pgb_lex_psql_builtin(text + v->off + 1, v->len - 1);
	}
}

/* Without a backslash, the setting cannot change the split. */
static void
same(const struct pgb_lex *a, int ra, const struct pgb_lex *b, int rb)
{
	size_t	i;

	if (ra != rb || (ra == 0 && (a->nstmts != b->nstmts ||
	    a->nmetas != b->nmetas || a->nvars != b->nvars)))
		abort();
	for (i = 0; ra == 0 && i < a->nstmts; i++)
		if (a->stmts[i].off != b->stmts[i].off ||
		    a->stmts[i].len != b->stmts[i].len ||
		    a->stmts[i].line != b->stmts[i].line ||
		    a->stmts[i].is_copy != b->stmts[i].is_copy ||
		    a->stmts[i].copy_off != b->stmts[i].copy_off ||
		    a->stmts[i].copy_len != b->stmts[i].copy_len ||
		    a->stmts[i].sets_std != b->stmts[i].sets_std)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char		*text = (const char *)data;
	struct pgb_lex		 on, off;
	struct pgb_diag		 d;
	unsigned		 line;
	int			 ron, roff;

	pgb_diag_clear(&d);
	(void)pgb_lex_check_text(text, len, &line, &d);
	pgb_diag_clear(&d);
	if ((ron = pgb_lex_split(text, len, &on, &line, &d)) == 0)
		check(text, len, &on);
	pgb_diag_clear(&d);
	if ((roff = pgb_lex_split_std(text, len, 0, &off, &line, &d)) == 0)
		check(text, len, &off);
	if (len == 0 || memchr(text, '\\', len) == NULL)
		same(&on, ron, &off, roff);
	pgb_lex_release(&on);
	pgb_lex_release(&off);
	return 0;
}
