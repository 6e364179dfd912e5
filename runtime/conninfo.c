/*
 * conninfo.c - keep passwords out of output (conninfo.h).
 *
 * A conninfo string or postgres:// URL may carry a password, and libpq's
 * message about one it cannot parse quotes pieces of it: the token with
 * a bad percent escape, or the whole URL when a '[' is not closed.  So
 * no such message is printed as it came: every string that could be the
 * password is masked wherever it appears.  Trusts nothing: the conninfo
 * need not parse, and where its meaning is unclear (a URL with two '@')
 * every reading's password is masked.  Masking too much only hides a
 * few characters of a message; masking too little leaks a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "conninfo.h"
#include "fileio.h"
#include "banned.h"

#define MASK		"***"
#define SECRETS_MAX	16	/* candidate passwords kept per conninfo */

struct secrets {
	char	*v[SECRETS_MAX];
	size_t	 n;
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
add_one(struct secrets *s, const char *p, size_t n)
{
	size_t	i;

	if (n == 0 || s->n == SECRETS_MAX)
		return;
	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == n && memcmp(s->v[i], p, n) == 0)
			return;
	s->v[s->n++] = pgb_xstrndup(p, n);
}

/* A URL's password: as written, and percent-decoded where it decodes. */
static void
add_url_part(struct secrets *s, const char *p, size_t n)
{
	char	*dec = pgb_xmalloc(n + 1);
	size_t	 i, k = 0;
	int	 hi, lo;

	add_one(s, p, n);
	for (i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 &&
		    (lo = hexval(p[i + 2])) >= 0) {
			dec[k++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			dec[k++] = p[i];
	}
	add_one(s, dec, k);
	memset(dec, 0, n + 1);
	free(dec);
}

/*
 * The passwords of a URL starting at 'u' (after "://"): between the
 * first ':' of the user part and each '@' (libpq takes the first '@'
 * before a '/', a person may mean the last), and each "password=" of
 * the query.
 */
static void
url_secrets(struct secrets *s, const char *u)
{
	const char	*colon = NULL, *p, *q, *end;

	end = u + strcspn(u, " \t\n");
	for (p = u; p < end; p++) {
		if (*p == ':' && colon == NULL)
			colon = p;
		if (*p == '@' && colon != NULL)
			add_url_part(s, colon + 1, (size_t)(p - colon - 1));
	}
	for (p = u; (p = strstr(p, "password=")) != NULL && p < end;
	    p += 9) {
		if (p == u || (p[-1] != '?' && p[-1] != '&'))
			continue;
		q = p + 9;
		add_url_part(s, q, strcspn(q, "&# \t\n"));
	}
}

/*
 * The value of each "password" keyword of a key=value conninfo, as
 * written and unquoted.  A quote left open runs to the end.
 */
static void
kv_secrets(struct secrets *s, const char *c)
{
	const char	*p = c, *v;
	char		*val;
	size_t		 n, i, k;
	int		 quoted;

	while ((p = strstr(p, "password")) != NULL) {
		if (p != c && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n') {
			p += 8;
			continue;
		}
		v = p + 8 + strspn(p + 8, " \t\n");
		p += 8;
		if (*v != '=')
			continue;
		v++;
		v += strspn(v, " \t\n");
		quoted = *v == '\'';
		v += quoted;
		n = quoted ? strcspn(v, "'") : strcspn(v, " \t\n");
		/* A backslash escapes the next byte: read on past it. */
		while (v[n] == '\'' && n > 0 && v[n - 1] == '\\')
			n += 1 + strcspn(v + n + 1, "'");
		add_one(s, v, n);
		val = pgb_xmalloc(n + 1);
		for (i = k = 0; i < n; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			val[k++] = v[i];
		}
		add_one(s, val, k);
		memset(val, 0, k);
		free(val);
	}
}

static void
find_secrets(const char *conninfo, struct secrets *s)
{
	const char	*p;

	memset(s, 0, sizeof(*s));
	if (conninfo == NULL)
		return;
	for (p = conninfo; (p = strstr(p, "://")) != NULL; p += 3)
		url_secrets(s, p + 3);
	kv_secrets(s, conninfo);
}

static void
secrets_release(struct secrets *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		memset(s->v[i], 0, strlen(s->v[i]));
		free(s->v[i]);
	}
	s->n = 0;
}

/* Longest first, so that "pa@ss" goes before "pa". */
static int
longer_first(const void *a, const void *b)
{
	size_t	la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* 'text' into 'out', each secret replaced by MASK. */
static void
mask_secrets(const struct secrets *s, const char *text, struct pgb_buf *out)
{
	size_t	i, n;

	while (*text != '\0') {
		for (i = 0; i < s->n; i++) {
			n = strlen(s->v[i]);
			if (strncmp(text, s->v[i], n) == 0)
				break;
		}
		if (i < s->n) {
			pgb_buf_puts(out, MASK);
			text += n;
		} else
			pgb_buf_append(out, text++, 1);
	}
}

/* Replace b[from, to) by MASK. */
static void
splice_mask(struct pgb_buf *b, size_t from, size_t to)
{
	struct pgb_buf	t;

	pgb_buf_init(&t);
	pgb_buf_append(&t, b->data, from);
	pgb_buf_puts(&t, MASK);
	pgb_buf_puts(&t, b->data + to);
	memset(b->data, 0, b->len);
	pgb_buf_release(b);
	*b = t;
}

/*
 * Mask what looks like a password in 'b' from 'start' on, whatever the
 * conninfo said: "scheme://user:PASS@" and "password=VALUE".
 */
static void
mask_shapes(struct pgb_buf *b, size_t start)
{
	size_t	i, j, colon, end;

	for (i = start; i + 3 <= b->len; i++) {
		if (memcmp(b->data + i, "://", 3) != 0)
			continue;
		colon = 0;
		for (j = i + 3; j < b->len && strchr(" \t\n\"'/", b->data[j]) ==
		    NULL && b->data[j] != '@'; j++)
			if (b->data[j] == ':' && colon == 0)
				colon = j;
		if (j < b->len && b->data[j] == '@' && colon != 0 &&
		    j > colon + 1 && !(j - colon - 1 == 3 &&
		    memcmp(b->data + colon + 1, MASK, 3) == 0))
			splice_mask(b, colon + 1, j);
	}
	for (i = start; i + 9 <= b->len; i++) {
		if (memcmp(b->data + i, "password", 8) != 0)
			continue;
		j = i + 8;
		while (j < b->len && (b->data[j] == ' ' || b->data[j] == '\t'))
			j++;
		if (j >= b->len || b->data[j] != '=')
			continue;
		j++;
		while (j < b->len && (b->data[j] == ' ' || b->data[j] == '\t'))
			j++;
		end = j;
		if (end < b->len && b->data[end] == '\'') {
			for (end++; end < b->len && b->data[end] != '\''; end++)
				if (b->data[end] == '\\')
					end++;
			end = end < b->len ? end + 1 : b->len;
		} else
			while (end < b->len && strchr(" \t\n&\"", b->data[end]) ==
			    NULL)
				end++;
		if (end > j && !(end - j == 3 && memcmp(b->data + j, MASK,
		    3) == 0))
			splice_mask(b, j, end);
	}
}

void
pgb_conninfo_mask(const char *conninfo, const char *password,
    const char *text, struct pgb_buf *out)
{
	struct secrets	s;
	size_t		start = out->len;

	pgb_buf_append(out, "", 0);	/* never NULL, even for "" */
	find_secrets(conninfo, &s);
	if (password != NULL)
		add_one(&s, password, strlen(password));
	qsort(s.v, s.n, sizeof(*s.v), longer_first);
	mask_secrets(&s, text, out);
	secrets_release(&s);
	mask_shapes(out, start);
}

int
pgb_conninfo_file(const char *path, char **out, struct pgb_diag *d)
{
	char	*text;
	size_t	 len, n;

	*out = NULL;
	if (pgb_file_read("connection file", path, PGB_CONNINFO_MAX, 0,
	    PGB_EUSAGE, &text, &len, d) == -1)
		return -1;
	n = strcspn(text, "\n");
	while (n > 0 && (text[n - 1] == '\r' || text[n - 1] == ' ' ||
	    text[n - 1] == '\t'))
		n--;
	if (n == 0 || memchr(text, '\0', n) != NULL) {
		memset(text, 0, len);
		free(text);
		return pgb_fail(d, PGB_EUSAGE, "connection file '%s' does not "
		    "hold a conninfo or URL on its first line", path);
	}
	*out = pgb_xstrndup(text, n);
	memset(text, 0, len);
	free(text);
	return 0;
}

void
pgb_conninfo_free(char *s)
{
	if (s == NULL)
		return;
	memset(s, 0, strlen(s));
	free(s);
}

int
pgb_conninfo_scheme(const char *conninfo, struct pgb_diag *d)
{
	char		 esc[PGB_ESC_MAX];
	char		 scheme[64];
	const char	*sep;
	size_t		 n;

	if (conninfo == NULL || (sep = strstr(conninfo, "://")) == NULL ||
	    memchr(conninfo, '=', (size_t)(sep - conninfo)) != NULL)
		return 0;
	n = (size_t)(sep - conninfo);
	if ((n == 8 && strncmp(conninfo, "postgres", 8) == 0) ||
	    (n == 10 && strncmp(conninfo, "postgresql", 10) == 0))
		return 0;
	snprintf(scheme, sizeof(scheme), "%.*s", (int)(n < 60 ? n : 60),
	    conninfo);
	pgb_esc(scheme, esc, sizeof(esc));
	pgb_fail(d, PGB_ECONNECT, "cannot connect to the database");
	pgb_detail(d, "unknown URL scheme \"%s://\"; a connection URL starts "
	    "with postgresql:// or postgres://", esc);
	return -1;
}
