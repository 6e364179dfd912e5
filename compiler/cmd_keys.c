/*
 * cmd_keys.c - pgbundle keygen, sign, cosign and pubkey: the commands
 * that make keys and signatures.
 *
 * Trusts: the command line main.c parsed against the table.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "keys.h"
#include "sig.h"
#include "sign.h"
#include "banned.h"

int
cmd_keygen(struct pgb_cmd_args *a)
{
	struct pgb_diag	d;
	char		id[PGB_KEYID_LEN + 1];

	if (a->out == NULL)	/* -o is the table's FILE; here a NAME */
		return pgb_cli_usage(a, "keygen needs -o NAME");
	pgb_diag_clear(&d);
	if (pgb_keys_generate(a->out, id, &d) == -1)
		return pgb_cli_fail(&d);
	printf("%s\n", id);
	fprintf(stderr, "pgbundle: wrote %s.key (keep it secret) and %s.pub, "
	    "key id %s\n", a->out, a->out, id);
	return 0;
}

/*
 * pgbundle sign and cosign: the signature file's path on stdout, what
 * was written on stderr.
 */
static int
sign(const struct pgb_cmd_args *a, int cosign)
{
	struct pgb_sign_opts	o;
	struct pgb_sign_result	res;
	struct pgb_diag		d;

	memset(&o, 0, sizeof(o));
	o.path = a->pos;
	o.key = a->key;
	o.sigfrom = a->sigfrom;
	o.signer = a->signer;
	o.cosign = cosign;
	o.minisig = a->minisig;
	pgb_diag_clear(&d);
	if (pgb_sign(&o, &res, &d) == -1)
		return pgb_cli_fail(&d);
	if (!a->quiet) {
		fprintf(stderr, "pgbundle: wrote %s: key %s's signature of %s",
		    res.sigpath, res.key_id, a->pos);
		if (a->sigfrom != NULL)
			fprintf(stderr, " (read as %s, verified)", res.form);
		fputc('\n', stderr);
		if (res.minisig[0] != '\0')
			fprintf(stderr, "pgbundle: wrote %s (check with: minisign "
			    "-Vm %s -x %s -p KEY.minisign.pub)\n", res.minisig,
			    a->pos, res.minisig);
	}
	printf("%s\n", res.sigpath);
	return 0;
}

int
cmd_sign(struct pgb_cmd_args *a)
{
	return sign(a, 0);
}

int
cmd_cosign(struct pgb_cmd_args *a)
{
	return sign(a, 1);
}

/* pgbundle pubkey KEY [--minisign]: the public key on stdout. */
int
cmd_pubkey(struct pgb_cmd_args *a)
{
	struct pgb_pubkey	pub;
	struct pgb_buf		out;
	struct pgb_diag		d;
	int			rc = 0;

	pgb_diag_clear(&d);
	if (pgb_keys_load_either(a->pos, &pub, &d) == -1)
		return pgb_cli_fail(&d);
	pgb_buf_init(&out);
	if (a->minisign)
		pgb_minisign_pubkey(&pub, &out);
	else if (pgb_pubkey_pem(&pub, &out, &d) == -1)
		rc = pgb_cli_fail(&d);
	if (rc == 0) {
		fwrite(out.data, 1, out.len, stdout);
		if (!a->quiet)
			fprintf(stderr, "pgbundle: key id %s\n", pub.id);
	}
	pgb_buf_release(&out);
	pgb_pubkey_release(&pub);
	return rc;
}
