/*
 * text.c - UTF-8 boundaries and terminal-safe text (text.h).
 *
 * Trusts nothing it is given: every byte is decoded, and what is not a
 * valid character, or is a control character, is written as an escape.
 */
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "banned.h"

size_t
pgb_utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xbf;
	unsigned	v;
	size_t		need, i;

	if (n == 0)
		return 0;
	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3, v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4, v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	v = v << 6 | (s[1] & 0x3f);
	for (i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (cp)
		*cp = v;
	return need;
}

size_t
pgb_utf8_cut(const char *s, size_t n, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t	k, start;

	if (n <= max)
		return n;
	/* The character that holds byte 'max' starts at most 3 back. */
	for (start = max; start > 0 && max - start < 3 &&
	    (u[start] & 0xc0) == 0x80; start--)
		;
	k = pgb_utf8_seq(u + start, n - start, NULL);
	return k > 0 && start + k <= max ? start + k : start;
}

void
pgb_utf8_trim(char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t	n = strlen(s), start;

	for (start = n; start > 0 && n - start < 4; start--) {
		if ((u[start - 1] & 0xc0) != 0x80)
			break;
	}
	if (start == 0 || n - start >= 4)
		return;
	start--;		/* the lead byte, or a byte standing alone */
	if (u[start] >= 0xc0 && pgb_utf8_seq(u + start, n - start, NULL) !=
	    n - start)
		s[start] = '\0';
}

int
pgb_text_unsafe(unsigned cp, int tab)
{
	if (cp == '\t')
		return !tab;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x2028 || cp == 0x2029;
}

/*
 * The next piece of s[0..len) as it may be printed: the character as is
 * (*piece points into 's'), or its escape written into 'esc'.  Returns
 * the bytes of 's' it stands for.
 */
static size_t
clean_step(const unsigned char *s, size_t len, char esc[12],
    const char **piece, size_t *plen)
{
	unsigned	cp;
	size_t		n;

	n = pgb_utf8_seq(s, len, &cp);
	if (n == 0 || (cp < 0x80 && pgb_text_unsafe(cp, 1))) {
		snprintf(esc, 12, "\\x%02x", s[0]);
		*piece = esc;
		*plen = 4;
		return 1;
	}
	if (pgb_text_unsafe(cp, 1)) {
		snprintf(esc, 12, "\\u%04x", cp);
		*piece = esc;
		*plen = 6;
		return n;
	}
	*piece = (const char *)s;
	*plen = n;
	return n;
}

char *
pgb_text_clean(char *out, size_t outlen, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t		 i = 0, o = 0, n, plen, len = strlen(in);
	const char	*piece;
	char		 esc[12];

	if (outlen == 0)
		return out;
	while (i < len) {
		n = clean_step(s + i, len - i, esc, &piece, &plen);
		if (plen >= outlen - o)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += n;
	}
	out[o] = '\0';
	return out;
}

void
pgb_text_write(FILE *f, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t		 i = 0, plen;
	const char	*piece;
	char		 esc[12];

	while (i < len) {
		i += clean_step(s + i, len - i, esc, &piece, &plen);
		fwrite(piece, 1, plen, f);
	}
}
