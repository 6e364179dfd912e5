/*
 * keys.c - make Ed25519 key pairs and sign bundles (pgbundle keygen,
 * pgbundle build --key).
 *
 * Trusts: OpenSSL's key generation, PEM encoding and Ed25519 signing.
 * Rejects: an existing key file (never overwritten), a private key file
 * that is too large, encrypted, not a private key, or not Ed25519.
 * Private key text lives only in buffers that are wiped before they are
 * freed, and never reaches a diag.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "fileio.h"
#include "keys.h"
#include "sig.h"
#include "banned.h"

static int	 no_passphrase(char *, int, int, void *);
static int	 create_excl(const char *, int, struct pgb_diag *);
static int	 load_private(const char *, EVP_PKEY **, struct pgb_diag *);
static int	 public_half(EVP_PKEY *, const char *, struct pgb_pubkey *,
		    struct pgb_diag *);

/* Never prompt: an encrypted key is refused instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Claim 'path' for a key file: it must not exist (never overwritten). */
static int
create_excl(const char *path, int mode, struct pgb_diag *d)
{
	int	fd;

	if (pgb_file_claim(path, mode, &fd, d) == 0)
		return fd;
	if (errno == EEXIST)
		return pgb_fail(d, PGB_EKEY, "key file '%s' already exists; "
		    "not overwriting it", path);
	return pgb_fail(d, PGB_EKEY, "cannot create key file '%s': %s", path,
	    strerror(errno));
}

/* The public half of 'pkey' as a checked pgb_pubkey. */
static int
public_half(EVP_PKEY *pkey, const char *label, struct pgb_pubkey *pub,
    struct pgb_diag *d)
{
	unsigned char	raw[PGB_ED25519_LEN];
	size_t		rawlen = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 ||
	    rawlen != sizeof(raw)) {
		ERR_clear_error();
		return pgb_fail(d, PGB_EKEY, "cannot derive the public key of "
		    "'%s'", label);
	}
	return pgb_pubkey_from_raw(raw, label, pub, d);
}

int
pgb_keys_generate(const char *name, char id[PGB_KEYID_LEN + 1],
    struct pgb_diag *d)
{
	struct pgb_buf		 keypath, pubpath;
	struct pgb_pubkey	 pub;
	EVP_PKEY		*pkey = NULL;
	BIO			*kbio = NULL, *pbio = NULL;
	char			*kdata, *pdata;
	long			 klen, plen;
	int			 kfd = -1, pfd = -1, rc = -1;

	memset(&pub, 0, sizeof(pub));
	pgb_buf_init(&keypath);
	pgb_buf_init(&pubpath);
	pgb_buf_printf(&keypath, "%s.key", name);
	pgb_buf_printf(&pubpath, "%s.pub", name);
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		pgb_fail(d, PGB_EINTERNAL, "cannot generate an Ed25519 key");
		goto out;
	}
	if (public_half(pkey, pubpath.data, &pub, d) == -1)
		goto out;
	kbio = BIO_new(BIO_s_secmem());
	pbio = BIO_new(BIO_s_mem());
	if (kbio == NULL || pbio == NULL ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pbio, pkey) != 1) {
		pgb_fail(d, PGB_EINTERNAL, "cannot encode the new key");
		goto out;
	}
	klen = BIO_get_mem_data(kbio, &kdata);
	plen = BIO_get_mem_data(pbio, &pdata);
	if (klen <= 0 || plen <= 0) {
		pgb_fail(d, PGB_EINTERNAL, "cannot encode the new key");
		goto out;
	}
	/* Both files are claimed before either is written. */
	if ((kfd = create_excl(keypath.data, 0600, d)) == -1)
		goto out;
	if ((pfd = create_excl(pubpath.data, 0644, d)) == -1)
		goto out;
	if (pgb_file_put(kfd, keypath.data, kdata, (size_t)klen, d) == -1 ||
	    pgb_file_put(pfd, pubpath.data, pdata, (size_t)plen, d) == -1)
		goto out;
	if (close(kfd) == -1 || close(pfd) == -1) {
		kfd = pfd = -1;
		unlink(keypath.data);
		unlink(pubpath.data);
		pgb_fail(d, PGB_EINTERNAL, "cannot write key files '%s': %s",
		    keypath.data, strerror(errno));
		goto out;
	}
	kfd = pfd = -1;
	memcpy(id, pub.id, PGB_KEYID_LEN + 1);
	rc = 0;
out:
	if (rc == -1) {
		/* Remove only what this call created. */
		if (kfd != -1)
			unlink(keypath.data);
		if (pfd != -1)
			unlink(pubpath.data);
	}
	if (kfd != -1)
		close(kfd);
	if (pfd != -1)
		close(pfd);
	BIO_free(kbio);
	BIO_free(pbio);
	EVP_PKEY_free(pkey);
	pgb_pubkey_release(&pub);
	pgb_buf_release(&keypath);
	pgb_buf_release(&pubpath);
	ERR_clear_error();
	return rc;
}

/* Read the Ed25519 private key in 'path' into *out. */
static int
load_private(const char *path, EVP_PKEY **out, struct pgb_diag *d)
{
	BIO		*bio;
	EVP_PKEY	*pkey;
	const char	*type;
	char		*text;
	size_t		 len;
	int		 rc = -1;

	*out = NULL;
	if (pgb_file_read("private key", path, PGB_KEYFILE_MAX, 0,
	    PGB_EKEY, &text, &len, d) == -1)
		return -1;
	if (strstr(text, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL) {
		pgb_fail(d, PGB_EKEY, "private key '%s' is encrypted", path);
		pgb_detail(d, "pgbundle reads unencrypted PKCS#8 keys; keep "
		    "the key in a secret store instead of a passphrase");
		goto out;
	}
	if (strstr(text, "PRIVATE KEY-----") == NULL) {
		if (strstr(text, "-----BEGIN PUBLIC KEY-----") != NULL)
			pgb_fail(d, PGB_EKEY, "'%s' is a public key; signing "
			    "needs the private key", path);
		else
			pgb_fail(d, PGB_EKEY, "cannot read private key '%s'",
			    path);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		pgb_fail(d, PGB_EINTERNAL, "out of memory");
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		pgb_fail(d, PGB_EKEY, "cannot read private key '%s'", path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
		type = EVP_PKEY_get0_type_name(pkey);
		pgb_fail(d, PGB_EKEY, "unsupported key type '%s' in '%s' "
		    "(need Ed25519)", type ? type : "unknown", path);
		EVP_PKEY_free(pkey);
		goto out;
	}
	*out = pkey;
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int
pgb_keys_load_public(const char *keypath, struct pgb_pubkey *pub,
    struct pgb_diag *d)
{
	EVP_PKEY	*pkey;
	int		 rc;

	memset(pub, 0, sizeof(*pub));
	if (load_private(keypath, &pkey, d) == -1)
		return -1;
	rc = public_half(pkey, keypath, pub, d);
	EVP_PKEY_free(pkey);
	return rc;
}

int
pgb_keys_sign(const char *keypath, const void *msg, size_t len,
    unsigned char sig[PGB_SIG_LEN], char id[PGB_KEYID_LEN + 1],
    struct pgb_diag *d)
{
	struct pgb_pubkey	 pub;
	EVP_MD_CTX		*ctx = NULL;
	EVP_PKEY		*pkey;
	size_t			 siglen = PGB_SIG_LEN;
	int			 rc = -1;

	if (load_private(keypath, &pkey, d) == -1)
		return -1;
	if (public_half(pkey, keypath, &pub, d) == -1) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1 ||
	    siglen != PGB_SIG_LEN) {
		pgb_fail(d, PGB_EKEY, "cannot sign with '%s'", keypath);
		goto out;
	}
	memcpy(id, pub.id, PGB_KEYID_LEN + 1);
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	pgb_pubkey_release(&pub);
	return rc;
}

int
pgb_keys_load_either(const char *path, struct pgb_pubkey *pub,
    struct pgb_diag *d)
{
	char	*text;
	size_t	 len;
	int	 priv;

	memset(pub, 0, sizeof(*pub));
	if (pgb_file_read("key", path, PGB_KEYFILE_MAX, 0, PGB_EKEY, &text,
	    &len, d) == -1)
		return -1;
	priv = strstr(text, "PRIVATE KEY-----") != NULL;
	OPENSSL_cleanse(text, len);
	free(text);
	return priv ? pgb_keys_load_public(path, pub, d) :
	    pgb_pubkey_load(path, pub, d);
}

int
pgb_pubkey_pem(const struct pgb_pubkey *k, struct pgb_buf *out,
    struct pgb_diag *d)
{
	BIO	*bio;
	char	*text;
	long	 n;
	int	 rc = -1;

	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_PUBKEY(bio, k->pkey) == 1 &&
	    (n = BIO_get_mem_data(bio, &text)) > 0) {
		pgb_buf_append(out, text, (size_t)n);
		rc = 0;
	} else
		pgb_fail(d, PGB_EINTERNAL, "cannot encode public key %s",
		    k->id);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

unsigned
pgb_keys_loose_mode(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	return (st.st_mode & 077) != 0 ? (unsigned)(st.st_mode & 07777) : 0;
}
