/*
 * diag.c - fill a struct pgb_diag, and escape names quoted in it.  Never
 * prints: main.c does, once.  Text cut short at the end of a field is cut
 * on a character boundary.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "text.h"
#include "banned.h"

int
pgb_fail(struct pgb_diag *d, int code, const char *fmt, ...)
{
	va_list	ap;

	d->code = code;
	d->detail[0] = '\0';
	d->sqlstate[0] = '\0';
	d->server_detail[0] = '\0';
	d->hint[0] = '\0';
	va_start(ap, fmt);
	if (vsnprintf(d->msg, sizeof(d->msg), fmt, ap) >= (int)sizeof(d->msg))
		pgb_utf8_trim(d->msg);
	va_end(ap);
	return -1;
}

void
pgb_detail(struct pgb_diag *d, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vsnprintf(d->detail, sizeof(d->detail), fmt, ap) >=
	    (int)sizeof(d->detail))
		pgb_utf8_trim(d->detail);
	va_end(ap);
}

void
pgb_diag_clear(struct pgb_diag *d)
{
	d->code = 0;
	d->msg[0] = '\0';
	d->detail[0] = '\0';
	d->sqlstate[0] = '\0';
	d->server_detail[0] = '\0';
	d->hint[0] = '\0';
}

void
pgb_esc(const char *s, char *out, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p;
	size_t			 o = 0;

	for (p = (const unsigned char *)s; *p; p++) {
		if (o + 4 + 3 + 1 > n) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (*p == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (*p >= 0x20 && *p < 0x7f) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}
