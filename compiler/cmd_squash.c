/*
 * cmd_squash.c - pgbundle squash: migrations 1..N become one baseline,
 * dumped from a scratch database they were applied to (squash.c).
 *
 * Trusts: the command line main.c parsed against the table.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "squash.h"
#include "banned.h"

/* pgbundle squash: migrations 1..N become one baseline (squash.c). */
int
cmd_squash(struct pgb_cmd_args *a)
{
	struct pgb_report	 r;
	struct pgb_bundle	*b = NULL;
	struct pgb_scratch	 sc;
	struct pgb_server	 srv;
	struct pgb_squash_opts	 so;
	struct pgb_squash_result sr;
	struct pgb_build_result	 br;
	struct pgb_diag		 d;
	const char		*dir = a->pos ? a->pos : "migrations";
	int			 rc;

	pgb_cli_signals();
	pgb_report_init(&r, 0);
	pgb_diag_clear(&d);
	if (pgb_cli_compile(a, dir, PGB_SUM_IGNORE, &r, &br, &b, &d) == -1) {
		rc = pgb_cli_compile_failed(a, dir, &r, &br, &d);
		pgb_report_release(&r);
		return rc;
	}
	memset(&so, 0, sizeof(so));
	so.dir = dir;
	so.through = a->through;
	so.archive = a->archive;
	so.data = a->data;
	so.ndata = a->ndata;
	so.schema_only = a->schema_only;
	so.nschema_only = a->nschema_only;
	so.history = "pgbundle.history";
	so.include_root = a->include_root;
	so.layout = a->layout;
	/* The folder's own lint warnings were for check and build. */
	pgb_report_release(&r);
	pgb_report_init(&r, 0);
	rc = pgb_cli_server_open(a, &sc, &srv, &d);
	if (rc == 0) {
		rc = pgb_squash(&srv, &b->manifest, &so, &r, &sr, &d);
		pgb_cli_server_close(&sc, &srv);
	}
	pgb_bundle_free(b);
	pgb_cli_report(&r, a->quiet);
	pgb_report_release(&r);
	if (rc == -1) {
		if (d.code == PGB_ESOURCE)
			fprintf(stderr, "pgbundle: %s; '%s' is unchanged\n",
			    d.msg, dir);
		return d.code == PGB_ESOURCE ? EXIT_SOURCE : pgb_cli_fail(&d);
	}
	if (!a->quiet)
		fprintf(stderr, "pgbundle: wrote %s, the baseline of %lld..%lld "
		    "(%zu migrations); moved %zu files to %s\n", sr.path,
		    sr.first, a->through, sr.replaced, sr.moved, a->archive);
	if (!a->quiet && sr.sum != 0)
		fprintf(stderr, sr.sum == 1 ? "pgbundle: updated %s/%s\n" :
		    "pgbundle: could not update %s/%s: run 'pgbundle sum "
		    "--fix'\n", dir, PGB_SUM_NAME);
	printf("%s\n", sr.path);
	return 0;
}
