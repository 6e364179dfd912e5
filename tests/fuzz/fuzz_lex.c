/*
 * fuzz_lex.c - libFuzzer target: the compiler's SQL lexer and statement
 * classifier on any bytes.
 *
 * Trusts: nothing; the input is one migration file.  Checks the text,
 * splits it, then classifies every statement, and asserts what the
 * compiler relies on: statements lie inside the text, in order, without
 * overlap, and COPY data ranges too; variable references lie inside the
 * text, in order, each a ':' and more.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "classify.h"
#include "diag.h"
#include "lex.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char		*text = (const char *)data;
	struct pgb_lex		 lx;
	struct pgb_class	 cls;
	struct pgb_diag		 d;
	unsigned		 line;
	size_t			 i, end = 0;

	pgb_diag_clear(&d);
	(void)pgb_lex_check_text(text, len, &line, &d);
	pgb_diag_clear(&d);
	if (pgb_lex_split(text, len, &lx, &line, &d) == 0) {
		for (i = 0; i < lx.nstmts; i++) {
			const struct pgb_lex_stmt *s = &lx.stmts[i];

			if (s->off < end || s->off > len || s->len > len - s->off)
				abort();
			end = s->off + s->len;
			if (s->is_copy && (s->copy_off > len ||
			    s->copy_len > len - s->copy_off))
				abort();
			(void)pgb_classify(text + s->off, s->len, &cls);
		}
		for (i = 0, end = 0; i < lx.nvars; i++) {
			const struct pgb_lex_var *v = &lx.vars[i];

			if (v->off < end || v->off > len || v->len < 2 ||
			    v->len > len - v->off || text[v->off] != ':')
				abort();
			end = v->off + v->len;
			(void)pgb_lex_psql_builtin(text + v->off + 1,
			    v->len - 1);
		}
	}
	pgb_lex_release(&lx);
	return 0;
}
