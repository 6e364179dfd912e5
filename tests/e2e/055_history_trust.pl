#!/usr/bin/perl
# 055_history_trust.pl - pgapply trusts a history table only when it is
# its own.  A low-privileged role ("mallory", CREATE on the database)
# pre-creates the history schema and table with a trigger, a column
# DEFAULT, a CHECK, a rule, a policy, an expression index, a domain, a
# generated column, or a view in its place, each calling a function of
# hers that makes her a superuser when a superuser runs it.  `pgapply
# apply` as the superuser refuses every one with exit 4 before any query
# touches the table: because she owns the schema, because she owns the
# table, or, when the deploying role owns both, because the table is not
# exactly the one pgapply creates.  She is still no superuser, and the
# database is unchanged.  Also: --history-table naming a system catalog
# or a user table, --role for a history table owned by the migration
# role, and pgapply's own queries under a search_path that puts her
# schema, full of operators and functions named like the built-in ones,
# before pg_catalog.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
$pg->psql('postgres', 'CREATE ROLE mallory LOGIN; CREATE ROLE migrator NOLOGIN');

my $m = Pgb::migrations(
    '001_app.sql' => "CREATE SCHEMA app;\nCREATE TABLE app.t (id int);\n",
    '001_app.down.sql' => "DROP TABLE app.t;\nDROP SCHEMA app;\n");
my $bundle = Pgb::bundle($m);

sub as_role {
	my ($role, $db, $sql) = @_;
	(my $conn = $pg->connstr($db)) =~ s/\buser=postgres\b/user=$role/;
	my ($code, $out, $err) = PgbTest::run({ stdin => $sql }, PgbTest::pg_bin('psql'),
	    '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $conn);
	die "psql as $role failed ($code): $err" if $code != 0;
	chomp $out;
	return $out;
}

sub super {
	return $pg->psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'");
}

# A database where mallory may create schemas, and her schema "mal" with
# functions that make her a superuser when a superuser calls them.
sub mallory_db {
	my $db = $pg->createdb;
	$pg->psql($db, "GRANT CREATE ON DATABASE $db TO mallory");
	as_role('mallory', $db, <<'SQL');
CREATE SCHEMA mal;
CREATE FUNCTION mal.up() RETURNS text LANGUAGE plpgsql AS
    $$BEGIN ALTER ROLE mallory SUPERUSER; RETURN 'x'; END$$;
CREATE FUNCTION mal.ok() RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN ALTER ROLE mallory SUPERUSER; RETURN true; END$$;
CREATE FUNCTION mal.idx(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS
    $$BEGIN ALTER ROLE mallory SUPERUSER; RETURN $1; END$$;
CREATE FUNCTION mal.trg() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN ALTER ROLE mallory SUPERUSER; RETURN NEW; END$$;
CREATE DOMAIN mal.dom AS text CHECK (mal.ok());
GRANT USAGE ON SCHEMA mal TO PUBLIC;
SQL
	return $db;
}

# pgapply's table, column for column, as CREATE TABLE text; %o replaces
# a column's definition (undef drops it), 'extra' adds to the list,
# 'table' prefixes the table's name (e.g. "UNLOGGED").
sub history_ddl {
	my (%o) = @_;
	my @cols = (
	    [version => 'bigint PRIMARY KEY'], [name => 'text NOT NULL'],
	    [checksum => 'text NOT NULL'], [bundle_id => 'text NOT NULL'],
	    [chain => 'text NOT NULL'],
	    [mode => "text NOT NULL CHECK (mode IN ('transaction', 'no-transaction'))"],
	    [status => "text NOT NULL CHECK (status IN ('applied', 'failed'))"],
	    [statements_done => 'integer NOT NULL DEFAULT 0'],
	    [statements_total => 'integer NOT NULL'],
	    [applied_at => 'timestamptz NOT NULL DEFAULT now()'],
	    [duration_ms => 'bigint'],
	    [applied_by => 'text NOT NULL DEFAULT pg_catalog."session_user"()'],
	    [runtime_version => 'text NOT NULL'],
	    [origin => "text NOT NULL DEFAULT 'apply'"]);
	my @def;
	for my $c (@cols) {
		my ($n, $d) = @$c;
		$d = $o{$n} if exists $o{$n};
		push @def, "$n $d" if defined $d;
	}
	push @def, $o{extra} if defined $o{extra};
	return sprintf("CREATE %sTABLE pgbundle.history (%s);\n",
	    defined $o{table} ? "$o{table} " : '', join(', ', @def));
}

# Each gadget: what makes the table run mallory's code, as SQL that
# creates schema and table, and the refusal when the deploying role owns
# them (when mallory does, the refusal names her as the owner).
my @gadgets = (
    [trigger => history_ddl() . 'CREATE TRIGGER evil BEFORE INSERT OR UPDATE ON '
	. "pgbundle.history FOR EACH ROW EXECUTE FUNCTION mal.trg();\n",
	"it has trigger 'evil'"],
    [default => history_ddl(applied_by => 'text NOT NULL DEFAULT mal.up()'),
	"column 'applied_by' has DEFAULT mal.up()"],
    [check => history_ddl(extra => 'CHECK (mal.ok())'),
	"it has constraint 'history_check': CHECK (mal.ok())"],
    [rule => history_ddl() . "CREATE RULE evil AS ON INSERT TO pgbundle.history "
	. "DO ALSO SELECT mal.up();\n", "it has rule 'evil'"],
    [policy => history_ddl() . "CREATE POLICY evil ON pgbundle.history USING (mal.ok());\n",
	"it has policy 'evil'"],
    ['row level security' => history_ddl() . "ALTER TABLE pgbundle.history ENABLE ROW "
	. "LEVEL SECURITY;\nCREATE POLICY evil ON pgbundle.history USING (mal.ok());\n",
	'row level security is enabled on it'],
    ['expression index' => history_ddl() . "CREATE INDEX evil ON pgbundle.history "
	. "((mal.idx(name)));\n", "it has index 'evil'"],
    [domain => history_ddl(name => 'mal.dom NOT NULL'), "column 'name' is of type mal.dom"],
    ['generated column' => history_ddl(extra => 'x text GENERATED ALWAYS AS '
	. '(mal.idx(name)) STORED'), "it has column 'x'"],
    [view => "CREATE VIEW pgbundle.history AS SELECT 1::bigint AS version, "
	. "'n'::text AS name, 'c'::text AS checksum, 'b'::text AS bundle_id, "
	. "'c'::text AS chain, 'transaction'::text AS mode, 'applied'::text AS status, "
	. "0 AS statements_done, 0 AS statements_total, now() AS applied_at, "
	. "0::bigint AS duration_ms, 'x'::text AS applied_by, 'v'::text AS runtime_version, "
	. "'apply'::text AS origin WHERE mal.ok();\n", 'it is a view'],
    [inheritance => history_ddl() . "CREATE TABLE mal.child () INHERITS (pgbundle.history);\n"
	. "CREATE TRIGGER evil BEFORE INSERT ON mal.child FOR EACH ROW EXECUTE FUNCTION mal.trg();\n",
	"'mal.child' inherits from it"],
    ['a grant of TRIGGER' => history_ddl() . "GRANT TRIGGER ON pgbundle.history TO mallory;\n",
	"role 'mallory' holds TRIGGER on it, so it can add triggers or constraints"],
);

my $owner_detail = "  its owner could make it run code as whoever uses it: pgapply uses a "
    . "history table only when the table and its schema belong to the role pgapply "
    . "runs as (current_user 'postgres'); if 'mallory' is the role your migrations "
    . "run as, pass --role 'mallory', else check what it holds and give it to "
    . "'postgres' (ALTER ... OWNER TO); nothing was run\n";
my $shape_detail = "  pgapply uses a history table only when it is exactly the one "
    . "pgapply creates: a trigger, rule, policy, default, constraint, index or "
    . "inheritance added to it could run another role's code as the deploying role; "
    . "nothing was run\n";

# Every schema, relation (kind, owner, grants), column, default,
# constraint, index, trigger, rule and policy outside the system schemas,
# read from the catalogs only: selecting from her "table" could run her
# code (a view's WHERE), which is what the test must not do itself.
my $FINGERPRINT = <<'SQL';
SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
    SELECT concat_ws(' ', 'n', nspname, nspowner::regrole) FROM pg_namespace
    UNION ALL SELECT concat_ws(' ', 'c', c.oid::regclass, relkind, relowner::regrole,
	relacl, relrowsecurity)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%'
    UNION ALL SELECT concat_ws(' ', 'a', attrelid::regclass, attname,
	format_type(atttypid, atttypmod), attnotnull)
    FROM pg_attribute WHERE attrelid >= 16384 AND attnum > 0
    UNION ALL SELECT concat_ws(' ', 'd', adrelid::regclass, pg_get_expr(adbin, adrelid))
    FROM pg_attrdef
    UNION ALL SELECT concat_ws(' ', 'k', conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE conrelid >= 16384
    UNION ALL SELECT concat_ws(' ', 't', tgname) FROM pg_trigger
    UNION ALL SELECT concat_ws(' ', 'r', rulename) FROM pg_rewrite WHERE ev_class >= 16384
    UNION ALL SELECT concat_ws(' ', 'p', polname) FROM pg_policy) s (x)
SQL

# apply (and, for $what starting with "*", status and plan too) must
# refuse with $msg, leaving the database as it was.  Then the history
# schema goes, and what a failed case left, so each case stands alone.
sub refused {
	my ($db, $what, $msg, @opts) = @_;
	my @cmds = $what =~ s/^\*// ? qw(apply status plan) : qw(apply);
	my $before = $pg->psql($db, $FINGERPRINT);
	for my $cmd (@cmds) {
		my ($code, $out, $err) = Pgb::pgapply($pg, $db, $cmd, $bundle, @opts);
		is($code, 4, "$what: $cmd exits 4");
		is($err, $msg, "$what: $cmd says why") or diag($out);
	}
	my ($super, $ran, $after) = split /\|/, $pg->psql($db, "SELECT (SELECT rolsuper "
	    . "FROM pg_roles WHERE rolname = 'mallory'), to_regclass('app.t') IS NOT NULL, "
	    . "($FINGERPRINT)");
	is($super, 'f', "$what: mallory is still not a superuser");
	is($ran, 'f', "$what: no migration ran");
	is($after, $before, "$what: the database is unchanged");
	clean($db);
}

sub clean {
	my ($db) = @_;
	$pg->psql($db, 'ALTER ROLE mallory NOSUPERUSER; DROP SCHEMA IF EXISTS app CASCADE; '
	    . 'DROP SCHEMA IF EXISTS pgbundle CASCADE');
}

my $db = mallory_db();
for my $g (@gadgets) {
	my ($what, $sql, $why) = @$g;

	# Mallory creates schema and table: her schema is refused.
	as_role('mallory', $db, "CREATE SCHEMA pgbundle;\n$sql");
	refused($db, "*$what, her schema",
	    "pgapply: history schema 'pgbundle' is owned by role 'mallory', not by "
	    . "'postgres'\n$owner_detail");

	# The schema is the deploying role's, the table hers (she may create
	# in that schema): her table is refused.
	if ($what ne 'a grant of TRIGGER') {
		$pg->psql($db, 'CREATE SCHEMA pgbundle; GRANT CREATE, USAGE ON SCHEMA pgbundle '
		    . 'TO mallory');
		as_role('mallory', $db, $sql);
		refused($db, "$what, her table",
		    "pgapply: history table 'pgbundle.history' is owned by role 'mallory', "
		    . "not by 'postgres'\n$owner_detail");
	}

	# The deploying role owns both, but the table is not pgapply's.
	$pg->psql($db, "CREATE SCHEMA pgbundle;\n$sql");
	refused($db, "$what, owned by the deploying role",
	    "pgapply: history table 'pgbundle.history' is not the one pgapply creates: "
	    . "$why\n$shape_detail");
}

# --- more shapes that are not pgapply's ----------------------------------------
for my $s (
    ['a column of another type', history_ddl(version => 'integer PRIMARY KEY'),
	"column 'version' is of type integer"],
    ['a missing CHECK', history_ddl(mode => 'text NOT NULL'),
	"it has no CHECK ((mode = ANY (ARRAY['transaction'::text, 'no-transaction'::text])))"],
    ['a missing column', history_ddl(origin => undef), "it has no column 'origin'"],
    ['a nullable column', history_ddl(name => 'text'), "column 'name' is text nullable"],
    ['an unlogged table', history_ddl(table => 'UNLOGGED'), 'it is unlogged or temporary'],
    ['a second index', history_ddl() . "CREATE INDEX h_name ON pgbundle.history (name);\n",
	"it has index 'h_name'"],
    ['a unique constraint', history_ddl(extra => 'UNIQUE (name)'),
	"it has constraint 'history_name_key': UNIQUE (name)"],
    ['a materialized view', 'CREATE MATERIALIZED VIEW pgbundle.history AS SELECT 1 AS version;',
	'it is a materialized view'],
    ['a sequence', 'CREATE SEQUENCE pgbundle.history;', 'it is a sequence'],
) {
	my ($what, $sql, $why) = @$s;
	$pg->psql($db, "CREATE SCHEMA pgbundle;\n$sql");
	refused($db, $what, "pgapply: history table 'pgbundle.history' is not the one "
	    . "pgapply creates: $why\n$shape_detail");
}

# --- her schema, no table yet: nothing is created in it ------------------------
{
	as_role('mallory', $db, 'CREATE SCHEMA pgbundle');
	# The fingerprint shows that no table was created in it.
	refused($db, 'her empty schema', "pgapply: history schema 'pgbundle' is owned by "
	    . "role 'mallory', not by 'postgres'\n$owner_detail");
}

# --- --history-table: a system catalog, a user table -----------------------------
{
	$pg->psql($db, 'CREATE TABLE public.users (id int PRIMARY KEY, email text)');
	for my $t (qw(pg_catalog.pg_class information_schema.tables pg_toast.x pg_temp.h)) {
		(my $schema = $t) =~ s/\..*//;
		refused($db, "*--history-table $t", "pgapply: history table '$t' is in system "
		    . "schema '$schema'\n  pgapply keeps its history in a table of its own, in "
		    . "a schema of its own (--history-table, default pgbundle.history); nothing "
		    . "was run\n", '--history-table', $t);
	}
	refused($db, '*--history-table public.users', "pgapply: history table 'public.users' "
	    . "is not the one pgapply creates: it has column 'id'\n$shape_detail",
	    '--history-table', 'public.users');
	# pg_database_owner owns "public" (PostgreSQL 14+): the database's
	# owner, here the deploying role, may keep its history there.
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle,
	    '--history-table', 'public.pgbundle_history');
	is($code, 0, 'a history table of its own in public is fine') or diag($err);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle,
	    '--history-table', 'public.pgbundle_history');
	is($code, 0, 'and reads back as its own') or diag($err);
}

# --- a table pgapply created passes its own check, run after run ----------------
{
	my $db = mallory_db();
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, 'pgapply creates its history table') or diag($err);
	for my $cmd (qw(apply status plan)) {
		($code, undef, $err) = Pgb::pgapply($pg, $db, $cmd, $bundle);
		is($code, 0, "and $cmd trusts it") or diag($err);
	}
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $bundle, '--to', '0');
	is($code, 0, 'rollback trusts it') or diag($err);
	# Given to another role afterwards, it is refused like hers.
	$pg->psql($db, 'ALTER TABLE pgbundle.history OWNER TO mallory');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 4, 'a table given away later is refused');
	like($err, qr/^pgapply: history table 'pgbundle.history' is owned by role 'mallory', not by 'postgres'$/m,
	    'naming its owner');
}

# --- --role: the history belongs to the migration role ---------------------------
{
	my $db = mallory_db();
	$pg->psql($db, "GRANT CREATE ON DATABASE $db TO migrator");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--role', 'migrator');
	is($code, 0, '--role migrator: apply as the superuser, running as migrator') or diag($err);
	is($pg->psql($db, "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'pgbundle'"),
	    'migrator', 'the history schema is the role\'s');
	is($pg->psql($db, "SELECT relowner::regrole FROM pg_class WHERE oid = 'pgbundle.history'::regclass"),
	    'migrator', 'and so is the table');
	is($pg->psql($db, "SELECT relowner::regrole FROM pg_class WHERE oid = 'app.t'::regclass"),
	    'migrator', 'the migration ran as the role');
	is($pg->psql($db, 'SELECT applied_by FROM pgbundle.history'), 'postgres',
	    'applied_by still names who deployed');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 4, 'without --role the superuser is refused');
	is($err, "pgapply: history schema 'pgbundle' is owned by role 'migrator', not by "
	    . "'postgres'\n" . ($owner_detail =~ s/mallory/migrator/gr), 'naming the owner');
	for my $cmd (qw(apply status plan)) {
		($code, undef, $err) = Pgb::pgapply($pg, $db, $cmd, $bundle, '--role', 'migrator');
		is($code, 0, "with --role, $cmd works") or diag($err);
	}
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $bundle, '--to', '0',
	    '--role', 'migrator');
	is($code, 0, 'and rollback, as the role') or diag($err);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--role', 'nobody');
	is($code, 2, '--role of a role that does not exist: exit 2');
	is($err, "pgapply: cannot SET ROLE 'nobody'\n  SQLSTATE 22023: role \"nobody\" does not exist\n",
	    'and says so');
	# Mallory's exact copy of pgapply's table is usable once pgapply runs
	# as her: the owner, not the shape, was what stood in the way.
	$db = mallory_db();
	as_role('mallory', $db, "CREATE SCHEMA pgbundle;\n" . history_ddl());
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--role', 'mallory');
	is($code, 0, 'a plain copy of the table, used with --role of its owner') or diag($err);
	is(super(), 'f', 'mallory is still not a superuser');
}

# --- pgapply's own queries under a hostile search_path ---------------------------
{
	my $db = mallory_db();
	# Operators and functions named like the built-in ones, in her schema,
	# that make her a superuser when pgapply (and only pgapply) calls them.
	as_role('mallory', $db, <<'SQL');
CREATE TABLE mal.log (what text);
GRANT INSERT ON mal.log TO PUBLIC;
CREATE FUNCTION mal.hit(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF pg_catalog.current_setting('application_name') OPERATOR(pg_catalog.=) 'pgapply' THEN
		INSERT INTO mal.log VALUES (what);
		ALTER ROLE mallory SUPERUSER;
	END IF;
	RETURN true;
END$$;
DO $$
DECLARE
	t text;
	op text;
	n int := 0;
BEGIN
	FOREACH t IN ARRAY ARRAY['integer', 'bigint', 'smallint', 'text', 'name', 'oid',
	    'boolean', '"char"', 'regclass'] LOOP
		FOREACH op IN ARRAY ARRAY['=', '<>', '<', '>', '<=', '>='] LOOP
			n := n + 1;
			EXECUTE pg_catalog.format('CREATE FUNCTION mal.op%s(%s, %s) RETURNS boolean '
			    'LANGUAGE plpgsql AS $f$BEGIN PERFORM mal.hit(%L); '
			    'RETURN $1 OPERATOR(pg_catalog.%s) $2; END$f$', n, t, t, op || ' ' || t, op);
			EXECUTE pg_catalog.format('CREATE OPERATOR mal.%s (LEFTARG = %s, '
			    'RIGHTARG = %s, FUNCTION = mal.op%s)', op, t, t, n);
		END LOOP;
	END LOOP;
END$$;
CREATE FUNCTION mal.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $$BEGIN PERFORM mal.hit('now'); RETURN pg_catalog.now(); END$$;
CREATE FUNCTION mal.chk(boolean) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RETURN mal.hit('bool'); END$$;
CREATE DOMAIN mal.bool AS pg_catalog.bool CHECK (mal.chk(VALUE));
CREATE DOMAIN mal.text AS pg_catalog.text CHECK (mal.chk(true));
CREATE DOMAIN mal.oid AS pg_catalog.oid CHECK (mal.chk(true));
SQL
	$pg->psql($db, "ALTER DATABASE $db SET search_path = mal, pg_catalog, public");
	for my $cmd (['apply', '--lock-timeout', '5s', '--statement-timeout', '60s'],
	    ['status'], ['plan'], ['rollback', '--to', '0', '--lock-timeout', '5s'],
	    ['apply'], ['baseline', '--version', '1']) {
		my ($code, undef, $err) = Pgb::pgapply($pg, $db, $cmd->[0], $bundle,
		    @$cmd[1 .. $#$cmd]);
		is($code, 0, "hostile search_path: @$cmd works") or diag($err);
	}
	is($pg->psql($db, 'SELECT pg_catalog.count(*) FROM mal.log'), '0',
	    'hostile search_path: pgapply called none of her operators or functions');
	is(super(), 'f', 'hostile search_path: mallory is still not a superuser');
	is($pg->psql($db, "SELECT to_regclass('app.t') IS NOT NULL"), 't',
	    'hostile search_path: the migration ran, with the database\'s search_path');
}

done_testing;
