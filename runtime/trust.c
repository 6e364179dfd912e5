/*
 * trust.c - the signature policy: which keys are trusted, how many of
 * them must have signed, which signature files are read, and the check
 * that counts the distinct trusted keys whose signature verifies over the
 * exact bundle bytes.  bundle.c calls it before any archive code runs.
 *
 * Trusts: sig.c for each key and each Ed25519 verification.
 * Rejects: a signature file that is not a regular file of exactly 64
 * bytes, fewer distinct signers than required, and in a trust file any
 * line but a PEM public key, "min-signatures N", a comment or a blank
 * line, a key listed twice, and a threshold above the number of keys.
 * A signature that does not verify adds nothing; one by a key already
 * counted (a copy, or FILE.sig and FILE.<keyid>.sig by one key) counts
 * once; a FILE.<keyid>.sig of a key that is not trusted is never read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "fileio.h"
#include "sig.h"
#include "trust.h"
#include "banned.h"

static int	 read_sig(const char *, int, unsigned char *, int *,
		    struct pgb_diag *);
static int	 add_file(struct pgb_sigset *, const char *, int, size_t,
		    struct pgb_diag *);
static int	 trust_line(struct pgb_trust *, const char *, const char *,
		    size_t, unsigned, int *, struct pgb_diag *);
static int	 trust_block(struct pgb_trust *, const char *, const char *,
		    size_t, unsigned, struct pgb_diag *);
static void	 shortfall(const struct pgb_pubkey *, size_t, size_t,
		    const struct pgb_sigset *, const int *, const int *,
		    size_t, struct pgb_diag *);

void
pgb_trust_init(struct pgb_trust *t)
{
	memset(t, 0, sizeof(*t));
	t->min = 1;
}

void
pgb_trust_release(struct pgb_trust *t)
{
	size_t	i;

	for (i = 0; i < t->nkeys; i++)
		pgb_pubkey_release(&t->keys[i]);
	t->nkeys = 0;
}

/* The index of the key in 't' with the raw bytes of 'k', or nkeys. */
static size_t
find_key(const struct pgb_trust *t, const struct pgb_pubkey *k)
{
	size_t	i;

	for (i = 0; i < t->nkeys; i++)
		if (memcmp(t->keys[i].raw, k->raw, PGB_ED25519_LEN) == 0)
			break;
	return i;
}

int
pgb_trust_add(struct pgb_trust *t, const char *src, struct pgb_diag *d)
{
	struct pgb_pubkey	k;

	if (pgb_pubkey_load(src, &k, d) == -1)
		return -1;
	if (find_key(t, &k) < t->nkeys) {
		pgb_pubkey_release(&k);
		return 0;
	}
	if (t->nkeys == PGB_KEYS_MAX) {
		pgb_pubkey_release(&k);
		return pgb_fail(d, PGB_EKEY, "too many trusted keys (at most "
		    "%u)", PGB_KEYS_MAX);
	}
	t->keys[t->nkeys++] = k;
	return 0;
}

/*
 * One PEM block of a trust file, from its BEGIN line (number 'line') to
 * its END line, 'len' bytes at 'text'.
 */
static int
trust_block(struct pgb_trust *t, const char *path, const char *text,
    size_t len, unsigned line, struct pgb_diag *d)
{
	struct pgb_pubkey	 k;
	struct pgb_diag		 kd;
	const char		*base = strrchr(path, '/');
	char			*pem;
	size_t			 at;
	int			 rc;

	base = base ? base + 1 : path;
	pem = pgb_xstrndup(text, len);
	pgb_diag_clear(&kd);
	rc = pgb_pubkey_load(pem, &k, &kd);
	free(pem);
	if (rc == -1) {
		pgb_fail(d, PGB_EKEY, "trust file '%s' line %u: %s", path, line,
		    kd.msg);
		pgb_detail(d, "%s", kd.detail);
		return -1;
	}
	snprintf(k.label, sizeof(k.label), "%s:%u", base, line);
	if ((at = find_key(t, &k)) < t->nkeys) {
		pgb_fail(d, PGB_EKEY, "trust file '%s' line %u: key %s is "
		    "listed twice", path, line, k.id);
		pgb_detail(d, "it is listed at %s already", t->keys[at].label);
		pgb_pubkey_release(&k);
		return -1;
	}
	if (t->nkeys == PGB_KEYS_MAX) {
		pgb_pubkey_release(&k);
		return pgb_fail(d, PGB_EKEY, "trust file '%s' line %u: too many "
		    "keys (at most %u)", path, line, PGB_KEYS_MAX);
	}
	t->keys[t->nkeys++] = k;
	return 0;
}

/* A line outside the PEM blocks: blank, a comment or min-signatures. */
static int
trust_line(struct pgb_trust *t, const char *path, const char *s, size_t n,
    unsigned line, int *has_min, struct pgb_diag *d)
{
	static const char	 kw[] = "min-signatures ";
	size_t			 i, v = 0;

	for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		continue;
	if (i == n || s[i] == '#')
		return 0;
	if (n < sizeof(kw) - 1 || memcmp(s, kw, sizeof(kw) - 1) != 0)
		return pgb_fail(d, PGB_EKEY, "trust file '%s' line %u: expected "
		    "a PEM public key, 'min-signatures N' or a comment, got "
		    "'%.*s'", path, line, (int)(n < 40 ? n : 40), s);
	if (*has_min)
		return pgb_fail(d, PGB_EKEY, "trust file '%s' line %u: "
		    "min-signatures is given twice", path, line);
	for (i = sizeof(kw) - 1; i < n && s[i] >= '0' && s[i] <= '9' &&
	    v <= PGB_KEYS_MAX; i++)
		v = v * 10 + (size_t)(s[i] - '0');
	if (i == sizeof(kw) - 1 || i != n || v < 1 || v > PGB_KEYS_MAX)
		return pgb_fail(d, PGB_EKEY, "trust file '%s' line %u: "
		    "min-signatures takes a number from 1 to %u", path, line,
		    PGB_KEYS_MAX);
	t->min = v;
	*has_min = 1;
	return 0;
}

int
pgb_trust_load(struct pgb_trust *t, const char *path, struct pgb_diag *d)
{
	static const char	 begin[] = "-----BEGIN ", end[] = "-----END ";
	char			*text;
	const char		*p, *nl, *blk = NULL;
	size_t			 len, n;
	unsigned		 line = 0, blkline = 0;
	int			 has_min = 0;

	pgb_trust_init(t);
	if (pgb_file_read("trust file", path, PGB_TRUSTFILE_MAX, 0,
	    PGB_EKEY, &text, &len, d) == -1)
		return -1;
	if (strlen(text) != len) {
		free(text);
		return pgb_fail(d, PGB_EKEY, "trust file '%s' holds a NUL byte",
		    path);
	}
	for (p = text; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		line++;
		if (blk == NULL && n >= sizeof(begin) - 1 &&
		    memcmp(p, begin, sizeof(begin) - 1) == 0) {
			blk = p;
			blkline = line;
		} else if (blk != NULL && n >= sizeof(end) - 1 &&
		    memcmp(p, end, sizeof(end) - 1) == 0) {
			if (trust_block(t, path, blk, (size_t)(nl - blk),
			    blkline, d) == -1)
				goto fail;
			blk = NULL;
		} else if (blk == NULL && trust_line(t, path, p, n, line,
		    &has_min, d) == -1)
			goto fail;
	}
	if (blk != NULL) {
		pgb_fail(d, PGB_EKEY, "trust file '%s' line %u: the PEM block "
		    "has no END line", path, blkline);
		goto fail;
	}
	if (t->nkeys == 0) {
		pgb_fail(d, PGB_EKEY, "trust file '%s' lists no public key",
		    path);
		goto fail;
	}
	if (t->min > t->nkeys) {
		pgb_fail(d, PGB_EKEY, "trust file '%s' asks for %zu signatures "
		    "but lists %zu key%s", path, t->min, t->nkeys,
		    t->nkeys == 1 ? "" : "s");
		goto fail;
	}
	free(text);
	return 0;
fail:
	free(text);
	pgb_trust_release(t);
	return -1;
}

/*
 * A detached signature: exactly PGB_SIG_LEN raw bytes.  *present is 0
 * when the file does not exist and 'must' is 0.
 */
static int
read_sig(const char *path, int must, unsigned char *sig, int *present,
    struct pgb_diag *d)
{
	unsigned char	 buf[PGB_SIG_LEN + 1];
	size_t		 size, got;
	int		 fd, e;

	*present = 0;
	if (pgb_file_open("signature", path, PGB_SIG_LEN, 0, PGB_EBUNDLE, &fd,
	    &size, d) == -1) {
		if (errno == ENOENT && !must) {
			pgb_diag_clear(d);
			return 0;
		}
		if (errno == EFBIG)
			pgb_fail(d, PGB_EBUNDLE, "signature '%s' is %zu bytes, "
			    "expected %u", path, size, PGB_SIG_LEN);
		return -1;
	}
	if (size != PGB_SIG_LEN) {
		close(fd);
		return pgb_fail(d, PGB_EBUNDLE, "signature '%s' is %zu bytes, "
		    "expected %u", path, size, PGB_SIG_LEN);
	}
	/* One byte more than a signature, to notice a file that grew. */
	if (pgb_file_fill(fd, buf, sizeof(buf), &got) == -1) {
		e = errno;
		close(fd);
		return pgb_fail(d, PGB_EBUNDLE, "cannot read signature '%s': "
		    "%s", path, strerror(e));
	}
	close(fd);
	if (got != PGB_SIG_LEN)
		return pgb_fail(d, PGB_EBUNDLE, "signature '%s' is %zu bytes, "
		    "expected %u", path, got, PGB_SIG_LEN);
	memcpy(sig, buf, PGB_SIG_LEN);
	*present = 1;
	return 0;
}

int
pgb_sigset_add(struct pgb_sigset *s, const char *path,
    const unsigned char sig[PGB_SIG_LEN], size_t key)
{
	if (s->n == PGB_SIGFILES_MAX)
		return -1;
	s->v[s->n].path = pgb_xstrdup(path);
	memcpy(s->v[s->n].sig, sig, PGB_SIG_LEN);
	s->v[s->n].key = key;
	s->n++;
	return 0;
}

static int
add_file(struct pgb_sigset *s, const char *path, int must, size_t key,
    struct pgb_diag *d)
{
	unsigned char	sig[PGB_SIG_LEN];
	int		present;

	if (read_sig(path, must, sig, &present, d) == -1)
		return -1;
	if (present && pgb_sigset_add(s, path, sig, key) == -1)
		return pgb_fail(d, PGB_EBUNDLE, "too many signature files "
		    "(at most %u)", PGB_SIGFILES_MAX);
	return 0;
}

int
pgb_sigset_read(struct pgb_sigset *s, const char *bundle,
    const char *const *paths, size_t npaths, const struct pgb_pubkey *keys,
    size_t nkeys, struct pgb_diag *d)
{
	struct pgb_buf	path;
	size_t		i;
	int		rc = 0;

	memset(s, 0, sizeof(*s));
	pgb_buf_init(&path);
	for (i = 0; i < npaths && rc == 0; i++)
		rc = add_file(s, paths[i], 1, PGB_ANY_KEY, d);
	if (npaths == 0) {
		pgb_buf_printf(&path, "%s.sig", bundle);
		rc = add_file(s, path.data, 0, PGB_ANY_KEY, d);
	}
	for (i = 0; i < nkeys && rc == 0; i++) {
		path.len = 0;
		pgb_buf_printf(&path, "%s.%s.sig", bundle, keys[i].id);
		rc = add_file(s, path.data, 0, i, d);
	}
	pgb_buf_release(&path);
	if (rc == -1)
		pgb_sigset_release(s);
	return rc;
}

void
pgb_sigset_release(struct pgb_sigset *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].path);
	s->n = 0;
}

/*
 * The refusal when fewer than 'min' keys signed: who did ('done'), who
 * is missing (when one key was needed and none signed: why that happens
 * and the keys trusted), and which files did not verify ('bad').
 */
static void
shortfall(const struct pgb_pubkey *keys, size_t nkeys, size_t min,
    const struct pgb_sigset *s, const int *done, const int *bad,
    size_t count, struct pgb_diag *d)
{
	struct pgb_buf	 b;
	size_t		 yes[PGB_KEYS_MAX], no[PGB_KEYS_MAX], ny = 0, nn = 0, i;
	int		 labels;

	for (i = 0; i < nkeys; i++) {
		if (done[i])
			yes[ny++] = i;
		else
			no[nn++] = i;
	}
	if (count == 0 && min == 1)
		pgb_fail(d, PGB_EBUNDLE, "signature does not match any trusted "
		    "key");
	else
		pgb_fail(d, PGB_EBUNDLE, "signed by %zu trusted key%s, %zu "
		    "required", count, count == 1 ? "" : "s", min);
	pgb_buf_init(&b);
	/* Labels help a reader; the key ids alone always fit. */
	for (labels = 1; labels >= 0; labels--) {
		b.len = 0;
		if (count == 0 && min == 1) {
			/* As pgb_sig_verify() says it of one signature. */
			pgb_buf_printf(&b, "%s\ntrusted key%s: ",
			    PGB_SIG_CAUSE, nkeys == 1 ? "" : "s");
			pgb_keys_list(&b, keys, NULL, nkeys, labels);
		} else {
			pgb_buf_puts(&b, "signed: ");
			pgb_keys_list(&b, keys, yes, ny, labels);
			pgb_buf_puts(&b, "\nmissing: ");
			pgb_keys_list(&b, keys, no, nn, labels);
		}
		for (i = 0; i < s->n; i++) {
			if (!bad[i])
				continue;
			if (s->v[i].key == PGB_ANY_KEY)
				pgb_buf_printf(&b, "\nnot counted: '%.80s' "
				    "matches no trusted key", s->v[i].path);
			else
				pgb_buf_printf(&b, "\nnot counted: '%.80s' "
				    "does not verify with key %s",
				    s->v[i].path, keys[s->v[i].key].id);
		}
		if (b.len < sizeof(d->detail))
			break;
	}
	pgb_detail(d, "%s", b.data);
	pgb_buf_release(&b);
}

int
pgb_trust_check(const struct pgb_pubkey *keys, size_t nkeys, size_t min,
    const void *msg, size_t len, const struct pgb_sigset *s,
    struct pgb_signers *who, struct pgb_diag *d)
{
	int	done[PGB_KEYS_MAX] = { 0 }, bad[PGB_SIGFILES_MAX] = { 0 };
	size_t	i, k, count = 0;

	who->n = 0;
	if (nkeys > PGB_KEYS_MAX || s->n > PGB_SIGFILES_MAX)
		return pgb_fail(d, PGB_EINTERNAL, "too many keys or "
		    "signatures");
	if (min == 0)
		min = 1;
	/* One signature, one key needed: the message it always had. */
	if (min == 1 && s->n == 1 && s->v[0].key == PGB_ANY_KEY) {
		if (pgb_sig_verify(keys, nkeys, msg, len, s->v[0].sig,
		    PGB_SIG_LEN, &k, d) == -1)
			return -1;
		who->key[who->n++] = k;
		return 0;
	}
	for (i = 0; i < s->n; i++) {
		k = s->v[i].key;
		if (k != PGB_ANY_KEY) {
			if (k < nkeys && pgb_sig_ok(&keys[k], msg, len,
			    s->v[i].sig))
				done[k] = 1;
			else
				bad[i] = 1;
			continue;
		}
		for (k = 0; k < nkeys; k++)
			if (pgb_sig_ok(&keys[k], msg, len, s->v[i].sig))
				break;
		if (k < nkeys)
			done[k] = 1;
		else
			bad[i] = 1;
	}
	for (k = 0; k < nkeys; k++)
		count += (size_t)done[k];
	if (count < min) {
		shortfall(keys, nkeys, min, s, done, bad, count, d);
		return -1;
	}
	for (k = 0; k < nkeys; k++)
		if (done[k])
			who->key[who->n++] = k;
	return 0;
}
