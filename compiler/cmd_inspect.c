/*
 * cmd_inspect.c - pgbundle inspect and configmap: show what a bundle
 * holds, or wrap it and its signatures in a Kubernetes ConfigMap.
 *
 * Trusts: nothing in the bundle unless --pubkey verified it; every text
 * from it is cleaned before it reaches a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "cli.h"
#include "configmap.h"
#include "fileio.h"
#include "sign.h"
#include "hash.h"
#include "json.h"
#include "sig.h"
#include "text.h"
#include "banned.h"

/* The signature files beside the bundle, as a list: "", or ", a, b". */
static void
sig_list(char *const *sigs, size_t n, int as_json)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		printf("%s", i ? as_json ? "," : ", " : "");
		if (as_json)
			pgb_json_str(stdout, sigs[i]);
		else
			pgb_cli_put(stdout, sigs[i]);
	}
	if (n == 0 && !as_json)
		printf("none");
}

static void
inspect_json(const struct pgb_bundle *b, const char *path, int verified,
    char *const *sigs, size_t nsigs)
{
	const struct pgb_manifest *m = &b->manifest;
	char	hex[PGB_HEX256_LEN + 1];
	size_t	i;

	printf("{\"bundle\":");
	pgb_json_str(stdout, path);
	printf(",\"format\":%u,\"project\":", m->format);
	pgb_json_str(stdout, m->project);
	printf(",\"target\":");
	if (m->target)
		pgb_json_str(stdout, m->target);
	else
		printf("null");
	printf(",\"bundle_id\":\"%s\",\"created\":%lld,\"compiler\":",
	    m->bundle_id, m->created);
	pgb_json_str(stdout, m->compiler);
	printf(",\"key_id\":");
	pgb_json_str(stdout, m->key_id);
	printf(",\"signature\":\"%s\",\"signature_files\":[",
	    verified ? "verified" : "not checked");
	sig_list(sigs, nsigs, 1);
	printf("],\"migrations\":[");
	for (i = 0; i < m->nmigs; i++) {
		const struct pgb_migration *g = &m->migs[i];

		pgb_hex(g->up.sha256, PGB_SHA256_LEN, hex);
		printf("%s{\"version\":%lld,\"name\":", i ? "," : "", g->version);
		pgb_json_str(stdout, g->name);
		printf(",\"file\":");
		pgb_json_str(stdout, g->up.path);
		printf(",\"mode\":\"%s\",\"statements\":%zu,\"size\":%zu,"
		    "\"sha256\":\"%s\",\"verify\":%zu,\"down\":%s}",
		    g->up.mode == PGB_MODE_NOTX ? "no-transaction" :
		    "transaction", g->up.nstmts, g->up.size, hex, g->nverify,
		    g->has_down ? "true" : "false");
	}
	printf("]}\n");
}

static void
inspect_text(const struct pgb_bundle *b, const char *path, size_t len,
    int verified, char *const *sigs, size_t nsigs)
{
	const struct pgb_manifest *m = &b->manifest;
	char		hex[PGB_HEX256_LEN + 1], when[32], c[4 * PGB_NAME_MAX];
	time_t		t = (time_t)m->created;
	struct tm	tm;
	size_t		i;

	/* Without --pubkey nothing here is vouched for: clean it all. */
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("bundle     %s (%zu bytes)\n", pgb_text_clean(c, sizeof(c),
	    path), len);
	printf("project    %s\n", pgb_text_clean(c, sizeof(c), m->project));
	printf("target     %s\n", m->target ? pgb_text_clean(c, sizeof(c),
	    m->target) : "-");
	printf("bundle id  %s\n", pgb_text_clean(c, sizeof(c), m->bundle_id));
	printf("created    %s\n", when);
	printf("compiler   %s\n", pgb_text_clean(c, sizeof(c), m->compiler));
	if (verified && strcmp(m->key_id, b->key_id) != 0)
		printf("key id     %s (signature verified, by key %s)\n",
		    pgb_text_clean(c, sizeof(c), m->key_id), b->key_id);
	else
		printf("key id     %s (signature %s)\n", pgb_text_clean(c,
		    sizeof(c), m->key_id), verified ? "verified" :
		    "not checked: pass --pubkey");
	printf("signatures ");
	sig_list(sigs, nsigs, 0);
	printf("\n");
	printf("\n%-8s %-40s %-14s %5s %9s %-4s %s\n", "VERSION", "NAME",
	    "MODE", "STMTS", "BYTES", "DOWN", "SHA256");
	for (i = 0; i < m->nmigs; i++) {
		const struct pgb_migration *g = &m->migs[i];

		pgb_hex(g->up.sha256, PGB_SHA256_LEN, hex);
		printf("%-8lld %-40s %-14s %5zu %9zu %-4s %.16s\n", g->version,
		    pgb_text_clean(c, sizeof(c), g->name), g->up.mode == PGB_MODE_NOTX ? "no-transaction" :
		    "transaction", g->up.nstmts, g->up.size,
		    g->has_down ? "yes" : "no", hex);
	}
}

/*
 * Without --pubkey, inspect shows what is inside and says the signature
 * was not checked; the archive checks still run.
 */
int
cmd_inspect(struct pgb_cmd_args *a)
{
	struct pgb_bundle_opts	 o;
	struct pgb_bundle	*b = NULL;
	struct pgb_diag		 d;
	const char		*keys[1];
	char			*data, **sigs = NULL;
	size_t			 len, nsigs, i;
	int			 rc;

	pgb_diag_clear(&d);
	if (a->pubkey != NULL) {
		memset(&o, 0, sizeof(o));
		o.path = a->pos;
		keys[0] = a->pubkey;
		o.pubkeys = keys;
		o.npubkeys = 1;
		rc = pgb_bundle_open(&o, &b, &d);
	} else {
		if (pgb_file_read("bundle", a->pos, PGB_BUNDLE_MAX, 0,
		    PGB_EBUNDLE, &data, &len, &d) == -1)
			return pgb_cli_fail(&d);
		rc = pgb_bundle_load((unsigned char *)data, len, NULL, 0, NULL,
		    0, 1, NULL, &b, &d);
		free(data);
	}
	if (rc == -1)
		return pgb_cli_fail(&d);
	if (pgb_sigfiles_find(a->pos, &sigs, &nsigs, &d) == -1)
		nsigs = 0;
	if (a->json)
		inspect_json(b, a->pos, a->pubkey != NULL, sigs, nsigs);
	else
		inspect_text(b, a->pos, b->filelen, a->pubkey != NULL, sigs,
		    nsigs);
	for (i = 0; i < nsigs; i++)
		free(sigs[i]);
	free(sigs);
	pgb_bundle_free(b);
	return 0;
}

/* The ConfigMap's YAML on stdout, written only once all of it is ready. */
int
cmd_configmap(struct pgb_cmd_args *a)
{
	struct pgb_configmap_opts	o;
	struct pgb_buf			out;
	struct pgb_diag			d;

	memset(&o, 0, sizeof(o));
	o.path = a->pos;
	o.name = a->name;
	o.pubkey = a->pubkey;
	pgb_diag_clear(&d);
	pgb_buf_init(&out);
	if (pgb_configmap_write(&o, &out, NULL, &d) == -1) {
		pgb_buf_release(&out);
		return pgb_cli_fail(&d);
	}
	fwrite(out.data, 1, out.len, stdout);
	pgb_buf_release(&out);
	return 0;
}
