/*
 * cmd_new.c - pgbundle new NAME [DIR]: the next migration of DIR and its
 * empty down script, numbered as DIR numbers its migrations (new.c).
 *
 * Trusts: the command line main.c parsed against the table.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "new.h"
#include "banned.h"

/* pgbundle new NAME [DIR]: the paths written on stdout (new.c). */
int
cmd_new(struct pgb_cmd_args *a)
{
	struct pgb_new_opts	o;
	struct pgb_new_result	res;
	struct pgb_diag		d;

	memset(&o, 0, sizeof(o));
	o.name = a->pos;
	o.dir = a->pos2 ? a->pos2 : "migrations";
	o.layout = a->layout;
	pgb_diag_clear(&d);
	if (pgb_now_or_epoch(&o.now, &d) == -1 || pgb_new(&o, &res, &d) == -1)
		return pgb_cli_fail(&d);
	if (!a->quiet && res.down[0] != '\0')
		fprintf(stderr, "pgbundle: wrote %s and %s, an empty down "
		    "script (%s layout)\n", res.up, res.down,
		    pgb_layout_label(res.layout));
	else if (!a->quiet)
		fprintf(stderr, "pgbundle: wrote %s, with an empty down "
		    "section (%s layout)\n", res.up,
		    pgb_layout_label(res.layout));
	printf("%s\n", res.up);
	if (res.down[0] != '\0')
		printf("%s\n", res.down);
	return 0;
}
