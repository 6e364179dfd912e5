#ifndef PGB_CONFIGMAP_H
#define PGB_CONFIGMAP_H

/*
 * configmap.h - a Kubernetes ConfigMap that carries a bundle and its
 * signature, for a Job to mount (deploy/kubernetes/, docs/DEPLOY.md).
 */
#include <stddef.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"

/*
 * The binaryData keys: the Job runs "pgapply apply /bundle/bundle.pgb",
 * which finds bundle.pgb.sig and bundle.pgb.<keyid>.sig beside it.
 */
#define PGB_CONFIGMAP_BUNDLE	"bundle.pgb"
#define PGB_CONFIGMAP_SIG	"bundle.pgb.sig"

struct pgb_configmap_opts {
	const char	*path;		/* the bundle; its signatures are
					   path.sig and path.<keyid>.sig */
	const char	*name;		/* metadata.name */
	const char	*pubkey;	/* verify with this key first, or NULL */
};

/*
 * 1 if 's' is a valid object name: a DNS subdomain (lowercase letters,
 * digits, '-' and '.', starting and ending with a letter or digit, at
 * most PGB_CONFIGMAP_NAME_MAX characters).
 */
int	pgb_configmap_name_ok(const char *s);

/*
 * The YAML of a ConfigMap named o->name whose binaryData holds the bundle
 * and every signature beside it (pgb_sigfiles_find) in base64, appended
 * to 'out'.  The bundle must pass pgapply's archive checks (and, given
 * o->pubkey, be signed by that key in path.sig or path.<keyid>.sig) and
 * must fit: -1 with PGB_EBUNDLE "bundle '<path>' does not fit in a
 * ConfigMap: N bytes, over the limit of 1048576" where N counts the
 * bundle, its signatures and their key names; *total (when not NULL) is N
 * whenever the files could be read.  Other failures: PGB_EUSAGE for a bad
 * name, PGB_EBUNDLE for a missing or malformed bundle or signature,
 * PGB_EKEY for an unusable key.  On failure 'out' is left as it was.
 */
int	pgb_configmap_write(const struct pgb_configmap_opts *o,
	    struct pgb_buf *out, size_t *total, struct pgb_diag *d);

#endif /* PGB_CONFIGMAP_H */
