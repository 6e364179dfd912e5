/*
 * sign.c - sign a bundle that is already built (pgbundle sign, pgbundle
 * cosign), with a private key here or with a signature made elsewhere:
 * an offline machine, a KMS, Vault's transit engine, an HSM.
 *
 * Trusts: keys.c to sign, sig.c to verify, and pgapply's own verifier
 * (bundle.c) to read the bundle back with the new signature.
 * Rejects: a file that is not a bundle; a signature that is not one of
 * the forms signers print, or that does not verify with the signer's key
 * over the exact bundle bytes; for sign, a bundle whose manifest names
 * another signer or whose FILE.sig holds another signature; for cosign,
 * a key that made FILE.sig already.  Nothing is written until all of
 * that has passed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "build.h"
#include "bundle.h"
#include "diag.h"
#include "fileio.h"
#include "keys.h"
#include "sig.h"
#include "sign.h"
#include "banned.h"

static int	 b64val(int);
static int	 unbase64(const char *, size_t, unsigned char *, size_t,
		    size_t *);
static int	 unhex_any(const char *, size_t, unsigned char *);
static int	 take_signature(const struct pgb_sign_opts *,
		    const struct pgb_pubkey *, const char *, size_t,
		    unsigned char *, const char **, struct pgb_diag *);
static int	 check_signer(const struct pgb_sign_opts *,
		    const struct pgb_bundle *, const struct pgb_pubkey *,
		    struct pgb_diag *);
static int	 check_existing(const struct pgb_sign_opts *,
		    const struct pgb_pubkey *, const char *, size_t,
		    const unsigned char *, struct pgb_diag *);
static int	 write_minisig(const struct pgb_sign_opts *,
		    const struct pgb_pubkey *, const struct pgb_bundle *,
		    const unsigned char *, struct pgb_sign_result *,
		    struct pgb_diag *);
static int	 cmp_str(const void *, const void *);

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/*
 * Standard base64 of at most 'cap' bytes: white space anywhere (base64(1)
 * wraps its lines), padding only at the end, unused bits zero.
 */
static int
unbase64(const char *s, size_t n, unsigned char *out, size_t cap,
    size_t *outlen)
{
	unsigned	acc = 0;
	size_t		i, o = 0, chars = 0, pad = 0;
	int		bits = 0, v;

	for (i = 0; i < n; i++) {
		if (isspace((unsigned char)s[i]))
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64val((unsigned char)s[i])) < 0)
			return -1;
		chars++;
		acc = (acc << 6 | (unsigned)v) & 0xfff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (chars % 4 == 1 || pad > 2 || (pad > 0 && (chars + pad) % 4 != 0) ||
	    (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = o;
	return 0;
}

/* 2 * n hex digits, either case. */
static int
unhex_any(const char *s, size_t n, unsigned char *out)
{
	char	lower[2 * PGB_SIG_LEN + 1];
	size_t	i;

	if (n > PGB_SIG_LEN)
		return -1;
	for (i = 0; i < 2 * n; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	lower[2 * n] = '\0';
	return pgb_unhex(lower, n, out);
}

int
pgb_sig_decode(const char *src, const char *text, size_t len,
    unsigned char sig[PGB_SIG_LEN], const char **form, struct pgb_diag *d)
{
	const char	*s = text, *e = text + len, *p;
	size_t		 got;

	/* Raw bytes first: 64 bytes are none of the text forms. */
	if (len == PGB_SIG_LEN) {
		memcpy(sig, text, PGB_SIG_LEN);
		*form = "raw";
		return 0;
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e - s > 7 && memcmp(s, "vault:v", 7) == 0) {
		for (p = s + 7; p < e && isdigit((unsigned char)*p); p++)
			continue;
		if (p > s + 7 && p < e && *p == ':' &&
		    unbase64(p + 1, (size_t)(e - p - 1), sig, PGB_SIG_LEN,
		    &got) == 0 && got == PGB_SIG_LEN) {
			*form = "vault";
			return 0;
		}
	} else if (e - s == 2 * PGB_SIG_LEN &&
	    unhex_any(s, PGB_SIG_LEN, sig) == 0) {
		*form = "hex";
		return 0;
	} else if (unbase64(s, (size_t)(e - s), sig, PGB_SIG_LEN, &got) == 0 &&
	    got == PGB_SIG_LEN) {
		*form = "base64";
		return 0;
	}
	pgb_fail(d, PGB_EKEY, "cannot read a signature in '%s'", src);
	pgb_detail(d, "expected an Ed25519 signature as 64 raw bytes, 128 hex "
	    "digits, base64 or vault:v1:BASE64; found %zu bytes", len);
	return -1;
}

/* Read o->sigfrom, decode it, and check it with 'pub' over the bundle. */
static int
take_signature(const struct pgb_sign_opts *o, const struct pgb_pubkey *pub,
    const char *data, size_t len, unsigned char *sig, const char **form,
    struct pgb_diag *d)
{
	const char	*src = strcmp(o->sigfrom, "-") == 0 ? "standard input" :
			    o->sigfrom;
	char		*text;
	size_t		 tlen;
	int		 rc;

	if ((strcmp(o->sigfrom, "-") == 0 ? pgb_file_read_stdin(
	    "the signature", PGB_SIGTEXT_MAX, PGB_EKEY, &text, &tlen, d) :
	    pgb_file_read("signature", o->sigfrom, PGB_SIGTEXT_MAX, 0,
	    PGB_EKEY, &text, &tlen, d)) == -1)
		return -1;
	rc = pgb_sig_decode(src, text, tlen, sig, form, d);
	free(text);
	if (rc == -1)
		return -1;
	if (!pgb_sig_ok(pub, data, len, sig)) {
		pgb_fail(d, PGB_EKEY, "the signature in '%s' does not verify "
		    "with key %s over '%s'", src, pub->id, o->path);
		pgb_detail(d, "it was read as %s; it must be the Ed25519 "
		    "signature of the exact bytes of the bundle (not of a "
		    "hash) by the private half of '%s'", *form, o->signer);
		return -1;
	}
	return 0;
}

/* pgbundle sign: the manifest's recorded signer must be this key. */
static int
check_signer(const struct pgb_sign_opts *o, const struct pgb_bundle *b,
    const struct pgb_pubkey *pub, struct pgb_diag *d)
{
	const char	*rec = b->manifest.key_id;

	if (o->cosign || rec == NULL || strcmp(rec, "unsigned") == 0 ||
	    strcmp(rec, pub->id) == 0)
		return 0;
	pgb_fail(d, PGB_EKEY, "bundle '%s' names key %s as its signer, not "
	    "key %s ('%s')", o->path, rec, pub->id, o->key ? o->key :
	    o->signer);
	pgb_detail(d, "sign it with the key it was built for, or add this "
	    "key's signature with 'pgbundle cosign'");
	return -1;
}

/*
 * sign: an existing FILE.sig must be this very signature (Ed25519 is
 * deterministic), never replaced.  cosign: FILE.sig must not be this
 * key's already, as it would count once.
 */
static int
check_existing(const struct pgb_sign_opts *o, const struct pgb_pubkey *pub,
    const char *data, size_t len, const unsigned char *sig,
    struct pgb_diag *d)
{
	struct pgb_buf	 path;
	struct pgb_diag	 ignore;
	char		*old;
	size_t		 oldlen;
	int		 rc = 0, same, ours;

	pgb_buf_init(&path);
	pgb_buf_printf(&path, "%s.sig", o->path);
	if (access(path.data, F_OK) == -1) {
		pgb_buf_release(&path);
		return 0;
	}
	if (pgb_file_read("signature", path.data, PGB_SIG_LEN, 0, PGB_EKEY,
	    &old, &oldlen, &ignore) == -1) {
		old = NULL;
		oldlen = 0;
	}
	same = old != NULL && oldlen == PGB_SIG_LEN &&
	    memcmp(old, sig, PGB_SIG_LEN) == 0;
	ours = old != NULL && oldlen == PGB_SIG_LEN &&
	    pgb_sig_ok(pub, data, len, (const unsigned char *)old);
	if (!o->cosign && !same) {
		rc = pgb_fail(d, PGB_EKEY, "'%s' holds another signature",
		    path.data);
		pgb_detail(d, "pgbundle sign never replaces a signature: add "
		    "this key's with 'pgbundle cosign', or remove the file "
		    "first");
	} else if (o->cosign && ours) {
		rc = pgb_fail(d, PGB_EKEY, "key %s has signed '%s' already, in "
		    "'%s'", pub->id, o->path, path.data);
		pgb_detail(d, "a second signature by one key counts once; "
		    "cosign with another approver's key");
	}
	free(old);
	pgb_buf_release(&path);
	return rc;
}

static int
write_minisig(const struct pgb_sign_opts *o, const struct pgb_pubkey *pub,
    const struct pgb_bundle *b, const unsigned char *sig,
    struct pgb_sign_result *res, struct pgb_diag *d)
{
	struct pgb_buf	 text, comment;
	const char	*base = strrchr(o->path, '/');
	int		 rc = -1;

	base = base ? base + 1 : o->path;
	if (o->cosign)
		snprintf(res->minisig, sizeof(res->minisig), "%s.%s.minisig",
		    o->path, pub->id);
	else
		snprintf(res->minisig, sizeof(res->minisig), "%s.minisig",
		    o->path);
	pgb_buf_init(&text);
	pgb_buf_init(&comment);
	/* No time in it: the same key and bundle give the same file. */
	pgb_buf_printf(&comment, "file:%.200s\tbundle-id:%s", base,
	    b->manifest.bundle_id);
	if (pgb_minisign_sig(o->key, pub, sig, comment.data, &text, d) == 0 &&
	    pgb_file_replace(res->minisig, text.data, text.len, 0644, d) == 0)
		rc = 0;
	pgb_buf_release(&text);
	pgb_buf_release(&comment);
	return rc;
}

int
pgb_sign(const struct pgb_sign_opts *o, struct pgb_sign_result *res,
    struct pgb_diag *d)
{
	struct pgb_pubkey	 pub;
	struct pgb_bundle	*b = NULL, *check = NULL;
	unsigned char		 sig[PGB_SIG_LEN];
	char			*data = NULL, id[PGB_KEYID_LEN + 1];
	size_t			 len;
	int			 rc = -1, n;

	memset(res, 0, sizeof(*res));
	memset(&pub, 0, sizeof(pub));
	if ((o->key == NULL) == (o->sigfrom == NULL) ||
	    (o->sigfrom != NULL) != (o->signer != NULL))
		return pgb_fail(d, PGB_EUSAGE, "give --key KEY, or "
		    "--signature-from FILE with --signer PUB");
	if (o->minisig && o->key == NULL)
		return pgb_fail(d, PGB_EUSAGE, "--minisig needs --key: a "
		    "minisign file also signs its trusted comment");
	if (pgb_file_read("bundle", o->path, PGB_BUNDLE_MAX, 0, PGB_EBUNDLE,
	    &data, &len, d) == -1)
		return -1;
	if (pgb_bundle_load((const unsigned char *)data, len, NULL, 0, NULL, 0,
	    1, NULL, &b, d) == -1)
		goto out;
	if ((o->key != NULL ? pgb_keys_load_public(o->key, &pub, d) :
	    pgb_pubkey_load(o->signer, &pub, d)) == -1)
		goto out;
	if (check_signer(o, b, &pub, d) == -1)
		goto out;
	if (o->key != NULL) {
		if (pgb_keys_sign(o->key, data, len, sig, id, d) == -1)
			goto out;
		res->form = "signed here";
	} else if (take_signature(o, &pub, data, len, sig, &res->form,
	    d) == -1)
		goto out;
	/* What pgapply will do with it. */
	if (pgb_bundle_load((const unsigned char *)data, len, sig, PGB_SIG_LEN,
	    &pub, 1, 0, NULL, &check, d) == -1) {
		d->code = PGB_EINTERNAL;
		goto out;
	}
	if (check_existing(o, &pub, data, len, sig, d) == -1)
		goto out;
	n = o->cosign ? snprintf(res->sigpath, sizeof(res->sigpath),
	    "%s.%s.sig", o->path, pub.id) : snprintf(res->sigpath,
	    sizeof(res->sigpath), "%s.sig", o->path);
	if (n < 0 || (size_t)n >= sizeof(res->sigpath) - 16) {
		pgb_fail(d, PGB_EUSAGE, "path too long: '%s'", o->path);
		goto out;
	}
	if (pgb_file_replace(res->sigpath, sig, PGB_SIG_LEN, 0644, d) == -1)
		goto out;
	if (o->minisig && write_minisig(o, &pub, b, sig, res, d) == -1)
		goto out;
	memcpy(res->key_id, pub.id, sizeof(res->key_id));
	rc = 0;
out:
	pgb_bundle_free(b);
	pgb_bundle_free(check);
	pgb_pubkey_release(&pub);
	free(data);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pgb_sigfiles_find(const char *path, char ***out, size_t *n,
    struct pgb_diag *d)
{
	struct pgb_buf	 p;
	struct dirent	*e;
	DIR		*dir;
	const char	*base = strrchr(path, '/');
	char		**v, dirname[4096];
	size_t		 blen, nv = 0, i;
	int		 hex;

	base = base ? base + 1 : path;
	blen = strlen(base);
	snprintf(dirname, sizeof(dirname), "%.*s", base == path ? 1 :
	    (int)(base - path), base == path ? "." : path);
	*out = NULL;
	*n = 0;
	v = pgb_xcalloc(PGB_SIGFILES_MAX, sizeof(*v));
	pgb_buf_init(&p);
	pgb_buf_printf(&p, "%s.sig", path);
	if (access(p.data, F_OK) == 0)
		v[nv++] = pgb_buf_steal(&p, NULL);
	pgb_buf_release(&p);
	if ((dir = opendir(dirname)) == NULL) {
		for (i = 0; i < nv; i++)
			free(v[i]);
		free(v);
		return pgb_fail(d, PGB_EBUNDLE, "cannot read folder '%s': %s",
		    dirname, strerror(errno));
	}
	/* BASE.<16 hex digits>.sig, as pgbundle cosign names them. */
	while ((e = readdir(dir)) != NULL) {
		if (strlen(e->d_name) != blen + 1 + PGB_KEYID_LEN + 4 ||
		    strncmp(e->d_name, base, blen) != 0 ||
		    e->d_name[blen] != '.' ||
		    strcmp(e->d_name + blen + 1 + PGB_KEYID_LEN, ".sig") != 0)
			continue;
		for (i = 0, hex = 1; i < PGB_KEYID_LEN; i++)
			hex &= isdigit((unsigned char)e->d_name[blen + 1 + i]) ||
			    (e->d_name[blen + 1 + i] >= 'a' &&
			    e->d_name[blen + 1 + i] <= 'f');
		if (!hex)
			continue;
		if (nv == PGB_SIGFILES_MAX) {
			closedir(dir);
			for (i = 0; i < nv; i++)
				free(v[i]);
			free(v);
			return pgb_fail(d, PGB_EBUNDLE, "more than %u signature "
			    "files beside '%s'", PGB_SIGFILES_MAX, path);
		}
		pgb_buf_init(&p);
		pgb_buf_printf(&p, "%.*s%s", (int)(base - path), path,
		    e->d_name);
		v[nv++] = pgb_buf_steal(&p, NULL);
	}
	closedir(dir);
	/* FILE.sig stays first; the others in name order. */
	i = nv > 0 && strlen(v[0]) == strlen(path) + 4 ? 1 : 0;
	qsort(v + i, nv - i, sizeof(*v), cmp_str);
	*out = v;
	*n = nv;
	return 0;
}
