/*
 * diag.c - fill a struct pgb_diag.  Never prints: main.c does, once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
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
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
pgb_detail(struct pgb_diag *d, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
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
