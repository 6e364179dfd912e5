#ifndef PGB_SIGN_H
#define PGB_SIGN_H

/*
 * sign.h - sign a bundle that is already built (pgbundle sign, pgbundle
 * cosign): with a private key here, or by taking a signature made
 * elsewhere (an offline machine, a KMS, Vault, an HSM) in the forms those
 * signers print.  Every signature is a plain 64-byte Ed25519 signature
 * over the exact bundle bytes, in a detached file: FILE.sig for the
 * bundle's signer, FILE.<keyid>.sig for each further approver.
 */
#include <stddef.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "sig.h"

struct pgb_sign_opts {
	const char	*path;		/* the bundle */
	const char	*key;		/* private key, or NULL */
	const char	*sigfrom;	/* or: a file holding a signature made
					   elsewhere ("-": stdin) */
	const char	*signer;	/* with sigfrom: the public key */
	int		 cosign;	/* write FILE.<keyid>.sig */
	int		 minisig;	/* also write a minisign signature */
};

struct pgb_sign_result {
	char		 sigpath[4096];		/* written */
	char		 minisig[4096];		/* written, or "" */
	char		 key_id[PGB_KEYID_LEN + 1];
	const char	*form;		/* "signed here", or the form read */
};

/*
 * Sign o->path, or check the signature o->sigfrom against o->signer over
 * its exact bytes, then write it.  The bundle must pass pgapply's archive
 * checks, and the signature its signature check.  pgbundle sign writes
 * FILE.sig and refuses a bundle whose manifest names another signer
 * (built with --signer) or whose FILE.sig holds another signature;
 * pgbundle cosign writes FILE.<keyid>.sig and refuses a key whose
 * signature is FILE.sig already.  0; or -1 with PGB_EKEY (key, signature
 * that does not verify or cannot be read, another signer), PGB_EBUNDLE
 * (not a bundle), PGB_EUSAGE or PGB_EINTERNAL; then nothing was written.
 */
int	pgb_sign(const struct pgb_sign_opts *o, struct pgb_sign_result *res,
	    struct pgb_diag *d);

/*
 * A signature as signers print it, 'len' bytes at 'text': exactly 64
 * raw bytes, 128 hex digits, base64 (line breaks allowed, as base64(1)
 * wraps), or Vault transit's "vault:vN:BASE64"; surrounding white space
 * is ignored in the text forms.  0 with *form "raw", "hex", "base64" or
 * "vault"; -1 with PGB_EKEY, naming 'src'.
 */
int	pgb_sig_decode(const char *src, const char *text, size_t len,
	    unsigned char sig[PGB_SIG_LEN], const char **form,
	    struct pgb_diag *d);

/*
 * The signature files beside the bundle 'path': path.sig when it exists,
 * then each path.<16 hex digits>.sig, sorted.  0 with *out a new array of
 * *n paths (free each and the array); -1 with PGB_EBUNDLE when there are
 * more than PGB_SIGFILES_MAX or the folder cannot be read.
 */
int	pgb_sigfiles_find(const char *path, char ***out, size_t *n,
	    struct pgb_diag *d);

/*
 * minisign's formats (minisign.c), for `minisign -Vm FILE -p KEY.pub`:
 * the public key file of 'k', and the .minisig of 'sig', k's Ed25519
 * signature over the raw file, whose trusted comment 'comment' (one line)
 * is signed with the private key 'keypath'.  The minisign key id is
 * pgbundle's key id.  0; or -1 with PGB_EKEY.
 */
void	pgb_minisign_pubkey(const struct pgb_pubkey *k, struct pgb_buf *out);
int	pgb_minisign_sig(const char *keypath, const struct pgb_pubkey *k,
	    const unsigned char sig[PGB_SIG_LEN], const char *comment,
	    struct pgb_buf *out, struct pgb_diag *d);

/* Append the base64 of 'len' bytes at 'p' to 'out', on one line. */
void	pgb_base64_append(struct pgb_buf *out, const void *p, size_t len);

#endif /* PGB_SIGN_H */
