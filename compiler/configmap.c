/*
 * configmap.c - write a Kubernetes ConfigMap that carries a bundle and
 * every detached signature beside it (FILE.sig, FILE.<keyid>.sig) as
 * binaryData, for a Job to mount and apply.
 *
 * Trusts: nothing in the files; the bundle goes through pgapply's own
 * archive checks (and signature check, given a key) before it is written
 * out.  Rejects: a bad object name, a bundle without any signature, a
 * signature file that is not 64 bytes, a bundle the key did not sign,
 * and data over Kubernetes' 1 MiB ConfigMap limit.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bounds.h"
#include "bundle.h"
#include "configmap.h"
#include "fileio.h"
#include "hash.h"
#include "sig.h"
#include "sign.h"
#include "trust.h"
#include "banned.h"

#if PGB_BUNDLE_MAX > (1u << 30)
#error "base64 of a bundle must fit in an int for EVP_EncodeBlock"
#endif

int
pgb_configmap_name_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > PGB_CONFIGMAP_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char	c = s[i];
		int	alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && c != '.')
			return 0;
		if (!alnum && (i == 0 || i == n - 1))
			return 0;
	}
	return 1;
}

/* A double-quoted YAML scalar: printable ASCII as is, the rest escaped. */
static void
yaml_str(struct pgb_buf *out, const char *s)
{
	pgb_buf_puts(out, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			pgb_buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			pgb_buf_printf(out, "\\x%02x", c);
		else
			pgb_buf_append(out, s, 1);
	}
	pgb_buf_puts(out, "\"");
}

/*
 * The key of a signature file in the ConfigMap: bundle.pgb.sig, or
 * bundle.pgb.<keyid>.sig for FILE.<keyid>.sig.
 */
static void
sig_key(const char *bundle, const char *sigpath, char *out, size_t n)
{
	snprintf(out, n, "%s%s", PGB_CONFIGMAP_BUNDLE, sigpath +
	    strlen(bundle));
}

static void
write_yaml(const struct pgb_configmap_opts *o, const struct pgb_bundle *b,
    const unsigned char *data, size_t len, const struct pgb_sigset *sigs,
    struct pgb_buf *out)
{
	char		key[64];
	size_t		i;

	const struct pgb_manifest *m = &b->manifest;
	unsigned char	sum[PGB_SHA256_LEN];
	char		hex[PGB_HEX256_LEN + 1];

	pgb_sha256(data, len, sum);
	pgb_hex(sum, sizeof(sum), hex);
	pgb_buf_puts(out, "# A pgbundle bundle and its signatures for pgapply "
	    "(pgbundle configmap).\n# Apply with: kubectl apply --server-side "
	    "-f FILE\n");
	pgb_buf_puts(out, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	    "  name: ");
	yaml_str(out, o->name);
	pgb_buf_puts(out, "\n  labels:\n"
	    "    app.kubernetes.io/component: migrations\n"
	    "    app.kubernetes.io/managed-by: pgbundle\n"
	    "  annotations:\n    pgbundle/project: ");
	yaml_str(out, m->project);
	if (m->target != NULL) {
		pgb_buf_puts(out, "\n    pgbundle/target: ");
		yaml_str(out, m->target);
	}
	pgb_buf_printf(out, "\n    pgbundle/bundle-id: \"%s\"\n"
	    "    pgbundle/key-id: ", m->bundle_id);
	yaml_str(out, m->key_id);
	pgb_buf_printf(out, "\n    pgbundle/sha256: \"%s\"\n"
	    "    pgbundle/migrations: \"%zu\"\n", hex, m->nmigs);
	if (m->nmigs > 0)
		pgb_buf_printf(out, "    pgbundle/last-version: \"%lld\"\n",
		    m->migs[m->nmigs - 1].version);
	pgb_buf_printf(out, "    pgbundle/signatures: \"%zu\"\n", sigs->n);
	pgb_buf_puts(out, "binaryData:\n  " PGB_CONFIGMAP_BUNDLE ": ");
	pgb_base64_append(out, data, len);
	for (i = 0; i < sigs->n; i++) {
		sig_key(o->path, sigs->v[i].path, key, sizeof(key));
		pgb_buf_printf(out, "\n  %s: ", key);
		pgb_base64_append(out, sigs->v[i].sig, PGB_SIG_LEN);
	}
	pgb_buf_puts(out, "\n");
}

/*
 * The archive checks; given a key, also that it signed the bundle, in
 * FILE.sig or in its own FILE.<keyid>.sig, as pgapply would find it.
 */
static int
check_bundle(const struct pgb_configmap_opts *o, const char *data,
    size_t len, const struct pgb_sigset *sigs, struct pgb_bundle **b,
    struct pgb_diag *d)
{
	struct pgb_pubkey	key;
	struct pgb_sigset	mine;
	struct pgb_signers	who;
	size_t			i, at = strlen(o->path);
	int			rc;

	if (pgb_bundle_load((const unsigned char *)data, len, NULL, 0, NULL, 0,
	    1, NULL, b, d) == -1)
		return -1;
	if (o->pubkey == NULL)
		return 0;
	if (pgb_pubkey_load(o->pubkey, &key, d) == -1) {
		pgb_bundle_free(*b);
		*b = NULL;
		return -1;
	}
	memset(&mine, 0, sizeof(mine));
	for (i = 0; i < sigs->n; i++) {
		if (strcmp(sigs->v[i].path + at, ".sig") == 0)
			(void)pgb_sigset_add(&mine, sigs->v[i].path,
			    sigs->v[i].sig, PGB_ANY_KEY);
		else if (strncmp(sigs->v[i].path + at + 1, key.id,
		    PGB_KEYID_LEN) == 0)
			(void)pgb_sigset_add(&mine, sigs->v[i].path,
			    sigs->v[i].sig, 0);
	}
	rc = mine.n == 0 ? pgb_fail(d, PGB_EBUNDLE, "signature does not match "
	    "any trusted key") : pgb_trust_check(&key, 1, 1, data, len, &mine,
	    &who, d);
	if (rc == -1 && mine.n == 0)
		pgb_detail(d, "no signature beside '%s' is by key %s", o->path,
		    key.id);
	pgb_sigset_release(&mine);
	pgb_pubkey_release(&key);
	if (rc == -1) {
		pgb_bundle_free(*b);
		*b = NULL;
	}
	return rc;
}

/* Every signature file beside the bundle, each exactly 64 bytes. */
static int
read_sigs(const char *path, struct pgb_sigset *sigs, struct pgb_diag *d)
{
	char	**files, *sig;
	size_t	  n, i, siglen;
	int	  rc = 0;

	memset(sigs, 0, sizeof(*sigs));
	if (pgb_sigfiles_find(path, &files, &n, d) == -1)
		return -1;
	if (n == 0) {
		pgb_fail(d, PGB_EBUNDLE, "cannot read signature '%s.sig': no "
		    "signature file beside the bundle", path);
		pgb_detail(d, "pgapply refuses a bundle without its signature; "
		    "build it with --key, or sign it with 'pgbundle sign'");
		rc = -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (pgb_file_read("signature", files[i], PGB_SIG_LEN, 0,
		    PGB_EBUNDLE, &sig, &siglen, d) == -1) {
			rc = -1;
			break;
		}
		if (siglen != PGB_SIG_LEN)
			rc = pgb_fail(d, PGB_EBUNDLE, "signature '%s' is %zu "
			    "bytes, expected %u", files[i], siglen, PGB_SIG_LEN);
		else
			(void)pgb_sigset_add(sigs, files[i],
			    (unsigned char *)sig, PGB_ANY_KEY);
		free(sig);
	}
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	if (rc == -1)
		pgb_sigset_release(sigs);
	return rc;
}

int
pgb_configmap_write(const struct pgb_configmap_opts *o, struct pgb_buf *out,
    size_t *total, struct pgb_diag *d)
{
	struct pgb_bundle	*b = NULL;
	struct pgb_sigset	 sigs;
	char			*data = NULL, key[64];
	size_t			 len, n, i;
	int			 rc = -1;

	if (total != NULL)
		*total = 0;
	if (!pgb_configmap_name_ok(o->name)) {
		pgb_fail(d, PGB_EUSAGE, "invalid ConfigMap name '%.160s%s'",
		    o->name, strlen(o->name) > 160 ? "..." : "");
		pgb_detail(d, "use lowercase letters, digits, '-' and '.', "
		    "starting and ending with a letter or digit, at most %u "
		    "characters", PGB_CONFIGMAP_NAME_MAX);
		return -1;
	}
	memset(&sigs, 0, sizeof(sigs));
	if (pgb_file_read("bundle", o->path, PGB_BUNDLE_MAX, 0, PGB_EBUNDLE,
	    &data, &len, d) == -1)
		goto out;
	if (read_sigs(o->path, &sigs, d) == -1)
		goto out;
	/* At most PGB_BUNDLE_MAX and PGB_SIGFILES_MAX small files. */
	n = strlen(PGB_CONFIGMAP_BUNDLE) + len;
	for (i = 0; i < sigs.n; i++) {
		sig_key(o->path, sigs.v[i].path, key, sizeof(key));
		n += strlen(key) + PGB_SIG_LEN;
	}
	if (total != NULL)
		*total = n;
	if (n > PGB_CONFIGMAP_MAX) {
		pgb_fail(d, PGB_EBUNDLE, "bundle '%s' does not fit in a "
		    "ConfigMap: %zu bytes, over the limit of %u", o->path, n,
		    PGB_CONFIGMAP_MAX);
		pgb_detail(d, "Kubernetes counts the bundle (%zu bytes), its "
		    "signatures and their key names; split the migrations "
		    "into several bundles, or ship the bundle in the image "
		    "or on a volume instead", len);
		goto out;
	}
	if (check_bundle(o, data, len, &sigs, &b, d) == -1)
		goto out;
	write_yaml(o, b, (const unsigned char *)data, len, &sigs, out);
	rc = 0;
out:
	pgb_bundle_free(b);
	pgb_sigset_release(&sigs);
	free(data);
	return rc;
}
