/*
 * configmap.c - write a Kubernetes ConfigMap that carries a bundle and its
 * detached signature as binaryData, for a Job to mount and apply.
 *
 * Trusts: nothing in the files; the bundle goes through pgapply's own
 * archive checks (and signature check, given a key) before it is written
 * out.  Rejects: a bad object name, a bundle or signature that cannot be
 * read or does not verify, and data over Kubernetes' 1 MiB ConfigMap limit.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bounds.h"
#include "bundle.h"
#include "configmap.h"
#include "hash.h"
#include "sig.h"
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

/* Append the base64 of 'len' bytes, on one line, without padding breaks. */
static void
base64(struct pgb_buf *out, const unsigned char *p, size_t len)
{
	size_t	need = 4 * ((len + 2) / 3);

	pgb_buf_reserve(out, need + 1);
	EVP_EncodeBlock((unsigned char *)out->data + out->len, p, (int)len);
	out->len += need;
	out->data[out->len] = '\0';
}

static void
write_yaml(const struct pgb_configmap_opts *o, const struct pgb_bundle *b,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen, struct pgb_buf *out)
{
	const struct pgb_manifest *m = &b->manifest;
	unsigned char	sum[PGB_SHA256_LEN];
	char		hex[PGB_HEX256_LEN + 1];

	pgb_sha256(data, len, sum);
	pgb_hex(sum, sizeof(sum), hex);
	pgb_buf_puts(out, "# A pgbundle bundle and its signature for pgapply "
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
	pgb_buf_puts(out, "binaryData:\n  " PGB_CONFIGMAP_BUNDLE ": ");
	base64(out, data, len);
	pgb_buf_puts(out, "\n  " PGB_CONFIGMAP_SIG ": ");
	base64(out, sig, siglen);
	pgb_buf_puts(out, "\n");
}

static int
check_bundle(const struct pgb_configmap_opts *o, const char *data,
    size_t len, const char *sig, size_t siglen, struct pgb_bundle **b,
    struct pgb_diag *d)
{
	struct pgb_pubkey	key;
	int			rc;

	if (o->pubkey == NULL)
		return pgb_bundle_load((const unsigned char *)data, len, NULL, 0,
		    NULL, 0, 1, NULL, b, d);
	if (pgb_pubkey_load(o->pubkey, &key, d) == -1)
		return -1;
	rc = pgb_bundle_load((const unsigned char *)data, len,
	    (const unsigned char *)sig, siglen, &key, 1, 0, NULL, b, d);
	pgb_pubkey_release(&key);
	return rc;
}

int
pgb_configmap_write(const struct pgb_configmap_opts *o, struct pgb_buf *out,
    size_t *total, struct pgb_diag *d)
{
	struct pgb_bundle	*b = NULL;
	struct pgb_buf		 sigpath;
	char			*data = NULL, *sig = NULL;
	size_t			 len, siglen, n;
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
	pgb_buf_init(&sigpath);
	pgb_buf_printf(&sigpath, "%s.sig", o->path);
	if (pgb_read_small("bundle", o->path, PGB_BUNDLE_MAX, PGB_EBUNDLE,
	    &data, &len, d) == -1)
		goto out;
	if (pgb_read_small("signature", sigpath.data, PGB_SIG_LEN,
	    PGB_EBUNDLE, &sig, &siglen, d) == -1) {
		pgb_detail(d, "pgapply refuses a bundle without its signature; "
		    "build it with --key");
		goto out;
	}
	if (siglen != PGB_SIG_LEN) {
		pgb_fail(d, PGB_EBUNDLE, "signature '%s' is %zu bytes, expected "
		    "%u", sigpath.data, siglen, PGB_SIG_LEN);
		goto out;
	}
	/* Both at most PGB_BUNDLE_MAX: the sum cannot overflow. */
	n = strlen(PGB_CONFIGMAP_BUNDLE) + len + strlen(PGB_CONFIGMAP_SIG) +
	    siglen;
	if (total != NULL)
		*total = n;
	if (n > PGB_CONFIGMAP_MAX) {
		pgb_fail(d, PGB_EBUNDLE, "bundle '%s' does not fit in a "
		    "ConfigMap: %zu bytes, over the limit of %u", o->path, n,
		    PGB_CONFIGMAP_MAX);
		pgb_detail(d, "Kubernetes counts the bundle (%zu bytes), its "
		    "signature and their key names; split the migrations "
		    "into several bundles, or ship the bundle in the image "
		    "or on a volume instead", len);
		goto out;
	}
	if (check_bundle(o, data, len, sig, siglen, &b, d) == -1)
		goto out;
	write_yaml(o, b, (const unsigned char *)data, len,
	    (const unsigned char *)sig, siglen, out);
	rc = 0;
out:
	pgb_bundle_free(b);
	free(data);
	free(sig);
	pgb_buf_release(&sigpath);
	return rc;
}
