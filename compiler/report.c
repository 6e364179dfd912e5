/*
 * report.c - collect findings about source files for main.c to print.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "report.h"
#include "banned.h"

void
pgb_report_init(struct pgb_report *r, int strict)
{
	memset(r, 0, sizeof(*r));
	r->strict = strict;
}

void
pgb_report_release(struct pgb_report *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].file);
		free(r->v[i].rule);
		free(r->v[i].msg);
		free(r->v[i].detail);
		free(r->v[i].hint);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void
pgb_report_add(struct pgb_report *r, enum pgb_sev sev, const char *file,
    unsigned line, const char *rule, const char *fmt, ...)
{
	struct pgb_finding	*f;
	struct pgb_buf		 b;
	va_list			 ap;
	int			 n;

	r->v = pgb_xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	f = &r->v[r->n++];
	f->sev = sev;
	f->file = pgb_xstrdup(file);
	f->line = line;
	f->rule = rule ? pgb_xstrdup(rule) : NULL;
	f->detail = NULL;
	f->hint = NULL;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	pgb_buf_init(&b);
	pgb_buf_reserve(&b, n > 0 ? (size_t)n : 0);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
	va_end(ap);
	b.len = n > 0 ? (size_t)n : 0;
	f->msg = pgb_buf_steal(&b, NULL);
	if (sev == PGB_SEV_ERROR)
		r->nerrors++;
	else if (sev == PGB_SEV_WARNING)
		r->nwarnings++;
}

void
pgb_report_explain(struct pgb_report *r, const char *detail,
    const char *hint)
{
	struct pgb_finding	*f;

	if (r->n == 0)
		return;
	f = &r->v[r->n - 1];
	if (detail != NULL && *detail != '\0') {
		free(f->detail);
		f->detail = pgb_xstrdup(detail);
	}
	if (hint != NULL && *hint != '\0') {
		free(f->hint);
		f->hint = pgb_xstrdup(hint);
	}
}

size_t
pgb_report_drop_lint(struct pgb_report *r, size_t from)
{
	size_t	i, j, n = 0;

	for (i = j = from; i < r->n; i++) {
		struct pgb_finding *f = &r->v[i];

		if (f->sev == PGB_SEV_WARNING && f->rule != NULL) {
			free(f->file);
			free(f->rule);
			free(f->msg);
			free(f->detail);
			free(f->hint);
			r->nwarnings--;
			n++;
			continue;
		}
		r->v[j++] = *f;
	}
	r->n = j;
	return n;
}

size_t
pgb_report_failures(const struct pgb_report *r)
{
	return r->nerrors + (r->strict ? r->nwarnings : 0);
}

void
pgb_report_sort(struct pgb_report *r)
{
	/* Insertion sort: stable, and reports are short. */
	size_t			i, j;
	struct pgb_finding	t;

	for (i = 1; i < r->n; i++) {
		t = r->v[i];
		for (j = i; j > 0; j--) {
			int c = strcmp(r->v[j - 1].file, t.file);
			if (c < 0 || (c == 0 && r->v[j - 1].line <= t.line))
				break;
			r->v[j] = r->v[j - 1];
		}
		r->v[j] = t;
	}
}
