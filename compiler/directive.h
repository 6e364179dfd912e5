#ifndef PGB_DIRECTIVE_H
#define PGB_DIRECTIVE_H

/*
 * directive.h - the spelling of directive comments.  A directive is
 * "-- pgbundle:WORD ..." or "-- verify: QUERY": "--", a blank, the
 * lowercase keyword and its colon.  A comment that plainly means to be
 * one and is spelled otherwise ("-- Verify:", "-- verify :",
 * "--pgbundle:...", "-- pgbundle: notx") would be ignored by anything
 * that reads only the exact form; the compiler refuses it instead,
 * showing the spelling it expected.
 */
#include <stddef.h>

/*
 * 1 if the line comment 'c' ('n' bytes from its "--") looks like a
 * pgbundle or verify directive but is not written as one: after "--" and
 * any blanks and dashes, "pgbundle" or "verify" in any case, optional
 * blanks, and a colon, spelled any other way than "-- pgbundle:word" (a
 * lowercase letter after the colon) or "-- verify:".  Else 0.
 */
int	pgb_directive_near(const char *c, size_t n);

/*
 * The directive the comment 'text' (NUL-terminated, as written from its
 * "--", or the word after "pgbundle:") was meant to be, written out in
 * 'out' (at most 'len' bytes): "-- pgbundle:no-transaction",
 * "-- pgbundle:allow drop-table", "-- verify: SELECT ...".  1 when one
 * was recognised; 0 when the word after the colon is none pgbundle
 * knows, and 'out' lists the directives.
 */
int	pgb_directive_expect(const char *text, char *out, size_t len);

#endif /* PGB_DIRECTIVE_H */
