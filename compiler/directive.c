/*
 * directive.c - tell a directive comment from one that is almost one,
 * and say how it is written (directive.h).
 *
 * Trusts: nothing; reads at most the bytes it is given.  Never reports:
 * lex.c records what pgb_directive_near() flags, and source.c refuses it
 * at its file and line with pgb_directive_expect()'s spelling.
 */
#include <stdio.h>
#include <string.h>

#include "directive.h"
#include "banned.h"

/* The words of "-- pgbundle:WORD", and what follows each. */
static const struct known {
	const char	*word;
	const char	*args;
} known[] = {
	{ "no-transaction", "" },
	{ "allow", " RULE[,RULE]" },
	{ "baseline-of", " FIRST..LAST" },
	{ "replaces", " VERSION SHA256 NAME" },
	{ NULL, NULL }
};

/* Other ways people write them, squeezed as squeeze() does. */
static const struct alias {
	const char	*said;
	const char	*word;
} aliases[] = {
	{ "notx", "no-transaction" },
	{ "notxn", "no-transaction" },
	{ "nontransaction", "no-transaction" },
	{ "nontransactional", "no-transaction" },
	{ "withouttransaction", "no-transaction" },
	{ "transactionfalse", "no-transaction" },
	{ "baseline", "baseline-of" },
	{ "replace", "replaces" },
	{ NULL, NULL }
};

#define WORD_MAX	32	/* longer words match nothing */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does s[0..n) start with 'kw' (lowercase) in any case? */
static size_t
keyword(const char *s, size_t n, const char *kw)
{
	size_t	k = strlen(kw), i;

	if (n < k)
		return 0;
	for (i = 0; i < k; i++)
		if (lower(s[i]) != kw[i])
			return 0;
	return k;
}

/*
 * Parse a directive-like comment: after "--", blanks and dashes, the
 * keyword, blanks, the colon.  The keyword ("pgbundle" or "verify") in
 * *kw, the offset after the colon; 0 when the comment is not like one.
 */
static size_t
parse(const char *c, size_t n, const char **kw, size_t *gap, int *dashes,
    size_t *kwoff, size_t *before_colon)
{
	size_t	i = 0, k;

	*gap = 0;
	*dashes = 0;
	if (n >= 2 && c[0] == '-' && c[1] == '-')
		i = 2;
	for (; i < n && (is_blank(c[i]) || c[i] == '-'); i++) {
		if (c[i] == '-')
			*dashes = 1;
		else
			(*gap)++;
	}
	*kwoff = i;
	*kw = "pgbundle";
	if ((k = keyword(c + i, n - i, *kw)) == 0) {
		*kw = "verify";
		if ((k = keyword(c + i, n - i, *kw)) == 0)
			return 0;
	}
	i += k;
	*before_colon = 0;
	for (; i < n && is_blank(c[i]); i++)
		(*before_colon)++;
	return i < n && c[i] == ':' ? i + 1 : 0;
}

int
pgb_directive_near(const char *c, size_t n)
{
	const char	*kw;
	size_t		 after, gap, kwoff, bc;
	int		 dashes, exact;

	if ((after = parse(c, n, &kw, &gap, &dashes, &kwoff, &bc)) == 0)
		return 0;
	exact = !dashes && gap > 0 && bc == 0 &&
	    strncmp(c + kwoff, kw, strlen(kw)) == 0;
	if (exact && kw[0] == 'p')
		exact = after < n && c[after] >= 'a' && c[after] <= 'z';
	return !exact;
}

/* 's' lowercased without '-', '_' and blanks; "" when too long. */
static void
squeeze(const char *s, size_t n, char out[WORD_MAX + 1])
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '-' || s[i] == '_' || is_blank(s[i]))
			continue;
		if (k == WORD_MAX) {
			out[0] = '\0';
			return;
		}
		out[k++] = lower(s[i]);
	}
	out[k] = '\0';
}

/* Edit distance of two short strings, at most WORD_MAX each. */
static size_t
distance(const char *a, const char *b)
{
	size_t	row[WORD_MAX + 1], i, j, diag, up, la = strlen(a),
		lb = strlen(b);

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = a[i - 1] == b[j - 1] ? diag : 1 + (diag < up ?
			    (diag < row[j - 1] ? diag : row[j - 1]) :
			    (up < row[j - 1] ? up : row[j - 1]));
			diag = up;
		}
	}
	return row[lb];
}

/* The known directive the word 'w' ('n' bytes) means, or NULL. */
static const struct known *
meant(const char *w, size_t n)
{
	char	said[WORD_MAX + 1], k[WORD_MAX + 1];
	size_t	i;

	squeeze(w, n, said);
	if (said[0] == '\0')
		return NULL;
	for (i = 0; aliases[i].said != NULL; i++) {
		if (strcmp(said, aliases[i].said) == 0) {
			squeeze(aliases[i].word, strlen(aliases[i].word), said);
			break;
		}
	}
	for (i = 0; known[i].word != NULL; i++) {
		squeeze(known[i].word, strlen(known[i].word), k);
		if (strcmp(said, k) == 0 ||
		    (strlen(said) >= 4 && distance(said, k) <= 2))
			return &known[i];
	}
	return NULL;
}

/* 's' without its leading and trailing blanks: its length, *s moved. */
static size_t
trim(const char **s)
{
	size_t	n;

	*s += strspn(*s, " \t");
	n = strlen(*s);
	while (n > 0 && is_blank((*s)[n - 1]))
		n--;
	return n;
}

int
pgb_directive_expect(const char *text, char *out, size_t len)
{
	const struct known	*kn = NULL;
	const char		*kw, *rest, *args;
	size_t			 after, gap, kwoff, bc, w, r, na;
	int			 dashes;

	after = parse(text, strlen(text), &kw, &gap, &dashes, &kwoff, &bc);
	rest = text + after;
	r = trim(&rest);
	if (after > 0 && kw[0] == 'v') {
		if (r == 0)
			snprintf(out, len, "-- verify: QUERY");
		else
			snprintf(out, len, "-- verify: %.*s%s", (int)(r > 60 ?
			    60 : r), rest, r > 60 ? " ..." : "");
		return 1;
	}
	w = strcspn(rest, " \t,");
	if (after > 0 && w <= r)
		kn = meant(rest, w);
	if (kn == NULL) {
		snprintf(out, len, "'-- pgbundle:no-transaction', '-- pgbundle:"
		    "allow RULE[,RULE]', '-- verify: QUERY' (and squash's "
		    "'-- pgbundle:baseline-of' and '-- pgbundle:replaces')");
		return 0;
	}
	args = rest + w;
	na = r > w ? trim(&args) : 0;
	if (na > 0)
		snprintf(out, len, "-- pgbundle:%s %.*s", kn->word,
		    (int)(na > 60 ? 60 : na), args);
	else
		snprintf(out, len, "-- pgbundle:%s%s", kn->word, kn->args);
	return 1;
}
