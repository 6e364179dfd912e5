#ifndef PGB_TEXT_H
#define PGB_TEXT_H

/*
 * text.h - UTF-8 and text that reaches a terminal.  Names, messages and
 * SQL excerpts come from migrations, bundles, history rows and servers;
 * before any of it is printed it is cut on a character boundary and
 * cleaned, so that no byte of it can move a terminal's cursor, recolour
 * it or forge a line of output.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/*
 * Length of the valid UTF-8 sequence at s[0..n), 0 if it is not one: no
 * overlong forms, no surrogates, nothing above U+10FFFF.  *cp (when not
 * NULL) gets the code point.
 */
size_t	pgb_utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

/*
 * The longest prefix of s[0..n) of at most 'max' bytes that does not end
 * inside a character.
 */
size_t	pgb_utf8_cut(const char *s, size_t n, size_t max);

/* For "%.*s": at most 'max' bytes of the string 's', cut so. */
#define PGB_CUT(s, max)	((int)pgb_utf8_cut((s), strlen(s), (max)))

/* Cut the NUL-terminated 's' back to its last whole character. */
void	pgb_utf8_trim(char *s);

/*
 * Whether code point 'cp' must not reach a terminal or a log as is: C0
 * and C1 controls, DEL, and the bidirectional overrides and isolates.
 * Tab is allowed when 'tab' is set.
 */
int	pgb_text_unsafe(unsigned cp, int tab);

/*
 * 'in' made safe for a terminal, in 'out' (always NUL-terminated, cut on
 * a whole escape when 'outlen' is short): an unsafe character below 0x80
 * becomes \xHH (ESC is \x1b), one above becomes \uHHHH, and a byte that
 * is not valid UTF-8 becomes \xHH.  Tab passes.  Returns 'out'.
 */
char	*pgb_text_clean(char *out, size_t outlen, const char *in);

/* in[0..len) to 'f', cleaned as pgb_text_clean() does, however long. */
void	pgb_text_write(FILE *f, const char *in, size_t len);

#endif /* PGB_TEXT_H */
