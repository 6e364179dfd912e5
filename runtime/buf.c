/*
 * buf.c - growable buffers and allocation that cannot return NULL.
 *
 * Trusts: nothing; sizes are checked for overflow before growing.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "banned.h"

static void
oom(void)
{
	fputs("pgbundle: out of memory\n", stderr);
	abort();
}

void *
pgb_xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		oom();
	return p;
}

void *
pgb_xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		oom();
	return p;
}

void *
pgb_xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	if ((p = realloc(p, n * size > 0 ? n * size : 1)) == NULL)
		oom();
	return p;
}

char *
pgb_xstrdup(const char *s)
{
	return pgb_xstrndup(s, strlen(s));
}

char *
pgb_xstrndup(const char *s, size_t n)
{
	char	*p;

	p = pgb_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
pgb_buf_init(struct pgb_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
pgb_buf_release(struct pgb_buf *b)
{
	free(b->data);
	pgb_buf_init(b);
}

/* Make room for 'n' more bytes plus the NUL. */
void
pgb_buf_reserve(struct pgb_buf *b, size_t n)
{
	size_t	need, cap;

	if (n > SIZE_MAX - b->len - 1)
		oom();
	need = b->len + n + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = pgb_xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void
pgb_buf_append(struct pgb_buf *b, const void *p, size_t n)
{
	pgb_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
pgb_buf_puts(struct pgb_buf *b, const char *s)
{
	pgb_buf_append(b, s, strlen(s));
}

void
pgb_buf_printf(struct pgb_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	pgb_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
pgb_buf_steal(struct pgb_buf *b, size_t *len)
{
	char	*p;

	if (b->data == NULL)
		pgb_buf_reserve(b, 0), b->data[0] = '\0';
	p = b->data;
	if (len)
		*len = b->len;
	pgb_buf_init(b);
	return p;
}
