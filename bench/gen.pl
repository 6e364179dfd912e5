#!/usr/bin/perl
# gen.pl - write a deterministic set of realistic migrations in the layout
# of one tool, so that every tool gets the same work.
#
#   perl bench/gen.pl --set N|data [--data-mb MB] --layout L --out DIR
#
# --set N writes N migrations that mix CREATE TABLE with constraints,
# CREATE INDEX, ALTER TABLE ADD COLUMN, PL/pgSQL functions in dollar
# quotes, small INSERTs and COPY blocks, COMMENT ON and CREATE VIEW; the
# same N always gives the same bytes.  --set data writes a few migrations
# that carry about --data-mb (default 100) MB of COPY data.
#
# Layouts: pgbundle (NNNNN_name.sql), psql-a (one file, all migrations),
# psql-b (one file, each migration in BEGIN/COMMIT with a history INSERT),
# dbmate, sql-migrate, sqitch, liquibase, node-pg-migrate,
# postgres-migrations, graphile-migrate, alembic, yoyo.  Tools that cannot
# stream inline COPY data through their driver get the same rows as one
# multi-row INSERT; README in bench/ says which.
use strict;
use warnings;
use Digest::SHA qw(sha1_hex);
use File::Path qw(make_path);
use Getopt::Long;

my ($set, $layout, $out, $data_mb) = (undef, undef, undef, 100);
GetOptions('set=s' => \$set, 'layout=s' => \$layout, 'out=s' => \$out,
    'data-mb=i' => \$data_mb) && defined $set && defined $layout &&
    defined $out && @ARGV == 0 or
    die "usage: perl bench/gen.pl --set N|data [--data-mb MB] --layout L --out DIR\n";

# A 31-bit linear congruential generator: the same stream everywhere.
my $seed;
sub rnd {
	my ($n) = @_;
	$seed = ($seed * 1103515245 + 12345) % 2147483648;
	return int($seed / 65536) % $n;
}

my @WORDS = qw(alpha bravo charlie delta echo foxtrot golf hotel india
    juliet kilo lima mike november oscar papa quebec romeo sierra tango
    uniform victor whiskey xray yankee zulu);

sub word { return $WORDS[rnd(scalar @WORDS)] }

# A statement is { sql => TEXT } or { copy => [table, [cols], [rows]] }.
sub copy_stmt { return { copy => [@_] } }
sub sql_stmt { return { sql => $_[0] } }

my @migs;		# { version, name, stmts => [...] }

sub gen_set {
	my ($n) = @_;
	my (@tables, %cols, $fns);

	$seed = 42 + $n;
	for my $v (1 .. $n) {
		my (@s, $name);
		my $k = rnd(100);
		$k = 0 if @tables < 3;
		if ($k < 30) {
			my $t = sprintf('t%05d_%s', $v, word());
			my $ref = @tables ? $tables[rnd(scalar @tables)] : undef;
			push @s, sql_stmt("CREATE TABLE $t (\n"
			    . "    id bigserial PRIMARY KEY,\n"
			    . "    name text NOT NULL,\n"
			    . "    amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount >= 0),\n"
			    . "    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'closed')),\n"
			    . ($ref ? "    ${ref}_id bigint REFERENCES $ref (id) ON DELETE CASCADE,\n" : '')
			    . "    created_at timestamptz NOT NULL DEFAULT now(),\n"
			    . "    UNIQUE (name)\n)");
			push @s, sql_stmt("CREATE INDEX ${t}_created_idx ON $t (created_at)");
			push @s, sql_stmt("COMMENT ON TABLE $t IS 'Bench table $v: "
			    . word() . ' ' . word() . "'");
			push @tables, $t;
			$cols{$t} = [qw(id name amount status)];
			$name = "create_$t";
		} elsif ($k < 45) {
			my $t = $tables[rnd(scalar @tables)];
			my $c = sprintf('c%05d_%s', $v, word());
			push @s, sql_stmt("ALTER TABLE $t ADD COLUMN $c integer NOT NULL DEFAULT "
			    . rnd(1000));
			push @s, sql_stmt("CREATE INDEX ${t}_${c}_idx ON $t ($c)") if rnd(2);
			push @s, sql_stmt("COMMENT ON COLUMN $t.$c IS 'added by migration $v'");
			push @{$cols{$t}}, $c;
			$name = "add_${c}";
		} elsif ($k < 60) {
			my $f = sprintf('f%05d_%s', $v, word());
			my $m = 2 + rnd(7);
			push @s, sql_stmt("CREATE FUNCTION $f(a integer, b text DEFAULT 'x')\n"
			    . "RETURNS integer\nLANGUAGE plpgsql\nSTABLE\nAS \$fn\$\n"
			    . "DECLARE\n    r integer := 0;\n    i integer;\nBEGIN\n"
			    . "    -- a loop with a ; inside a dollar quote\n"
			    . "    FOR i IN 1 .. a LOOP\n"
			    . "        r := r + i * $m;\n"
			    . "        IF r > 100000 THEN\n"
			    . "            RAISE NOTICE 'overflow in $f: %', b;\n"
			    . "            RETURN -1;\n"
			    . "        END IF;\n"
			    . "    END LOOP;\n    RETURN r + length(b);\nEND;\n\$fn\$");
			push @s, sql_stmt("COMMENT ON FUNCTION $f(integer, text) IS 'bench function $v'");
			$name = "function_$f";
			$fns++;
		} elsif ($k < 75) {
			my $t = $tables[rnd(scalar @tables)];
			my $rows = 3 + rnd(8);
			my @vals = map { sprintf("('seed %d %d %s', %d.%02d, '%s')", $v,
			    $_, word(), rnd(10000), rnd(100),
			    (qw(new open closed))[rnd(3)]) } 1 .. $rows;
			push @s, sql_stmt("INSERT INTO $t (name, amount, status) VALUES\n    "
			    . join(",\n    ", @vals));
			$name = "seed_${t}_$v";
		} elsif ($k < 85) {
			my $t = $tables[rnd(scalar @tables)];
			my $rows = 20 + rnd(80);
			my @rows = map { ["copy $v $_ " . word(),
			    sprintf('%d.%02d', rnd(100000), rnd(100)),
			    (qw(new open closed))[rnd(3)]] } 1 .. $rows;
			push @s, copy_stmt($t, [qw(name amount status)], \@rows);
			$name = "load_${t}_$v";
		} else {
			my $t = $tables[rnd(scalar @tables)];
			my $vn = sprintf('v%05d_%s', $v, word());
			my @c = @{$cols{$t}};
			push @s, sql_stmt("CREATE VIEW $vn AS\n    SELECT "
			    . join(', ', @c) . "\n    FROM $t\n    WHERE amount > "
			    . rnd(100) . " AND status <> 'closed'");
			push @s, sql_stmt("COMMENT ON VIEW $vn IS 'open rows of $t'");
			$name = "view_$vn";
		}
		push @migs, { version => $v, name => $name, stmts => \@s };
	}
}

# A few migrations carrying about $data_mb MB of COPY data in total.
sub gen_data {
	my $parts = 4;
	my $per = int($data_mb * 1024 * 1024 / $parts);
	my $id = 0;

	$seed = 7;
	for my $p (1 .. $parts) {
		my $t = "events_$p";
		my (@rows, $bytes);
		$bytes = 0;
		while ($bytes < $per) {
			$id++;
			my @r = ($id, rnd(100000), (qw(click view buy refund))[rnd(4)],
			    join(' ', map { word() } 1 .. 8) . " $id",
			    sprintf('2024-%02d-%02d %02d:%02d:%02d+00', 1 + rnd(12),
			    1 + rnd(28), rnd(24), rnd(60), rnd(60)));
			$bytes += length(join("\t", @r)) + 1;
			push @rows, \@r;
		}
		push @migs, { version => $p, name => "load_$t", stmts => [
		    sql_stmt("CREATE TABLE $t (\n    id bigint PRIMARY KEY,\n"
			. "    account_id integer NOT NULL,\n    kind text NOT NULL,\n"
			. "    payload text,\n    created_at timestamptz NOT NULL\n)"),
		    copy_stmt($t, [qw(id account_id kind payload created_at)], \@rows),
		    sql_stmt("COMMENT ON TABLE $t IS 'bulk load $p'") ] };
	}
}

# The text of one migration; $inline_copy 0 turns COPY into INSERT.
sub render {
	my ($m, $inline_copy) = @_;
	my @out;

	for my $s (@{$m->{stmts}}) {
		if (defined $s->{sql}) {
			push @out, "$s->{sql};\n";
			next;
		}
		my ($t, $cols, $rows) = @{$s->{copy}};
		if ($inline_copy) {
			push @out, "COPY $t (" . join(', ', @$cols) . ") FROM stdin;\n"
			    . join('', map { join("\t", @$_) . "\n" } @$rows) . "\\.\n";
		} else {
			push @out, "INSERT INTO $t (" . join(', ', @$cols) . ") VALUES\n"
			    . join(",\n", map { '    (' . join(', ', map { "'$_'" } @$_)
			    . ')' } @$rows) . ";\n";
		}
	}
	return join("\n", @out);
}

sub spit {
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "gen.pl: $path: $!\n";
	print $fh $text or die "gen.pl: $path: $!\n";
	close($fh) or die "gen.pl: $path: $!\n";
}

sub vid { return sprintf('%05d', $_[0]{version}) }
sub base { return vid($_[0]) . "_$_[0]{name}" }

my %layouts = (
	pgbundle => sub {
		spit("$out/" . base($_) . '.sql', render($_, 1)) for @migs;
	},
	'psql-a' => sub {
		spit("$out/all.sql", join("\n", map { render($_, 1) } @migs));
	},
	'psql-b' => sub {
		spit("$out/all.sql", "CREATE TABLE bench_history (version bigint "
		    . "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT "
		    . "NULL DEFAULT now());\n\n" . join('', map {
			"BEGIN;\n" . render($_, 1) . "INSERT INTO bench_history "
			. "(version, name) VALUES ($_->{version}, '$_->{name}');\n"
			. "COMMIT;\n\n" } @migs));
	},
	dbmate => sub {
		make_path("$out/db/migrations");
		spit("$out/db/migrations/" . base($_) . '.sql', "-- migrate:up\n"
		    . render($_, 0) . "\n-- migrate:down\n") for @migs;
	},
	'sql-migrate' => sub {
		# Statements with semicolons inside are fenced for its splitter.
		spit("$out/" . base($_) . '.sql', "-- +migrate Up\n" . join("\n",
		    map { my $t = render({ stmts => [$_] }, 0);
			$t =~ /\$fn\$/ ? "-- +migrate StatementBegin\n$t"
			    . "-- +migrate StatementEnd\n" : $t } @{$_->{stmts}})
		    . "\n-- +migrate Down\n") for @migs;
		spit("$out/dbconfig.yml", "bench:\n    dialect: postgres\n"
		    . "    datasource: \${BENCH_DSN}\n    dir: .\n");
	},
	sqitch => sub {
		make_path("$out/deploy", "$out/revert", "$out/verify");
		spit("$out/sqitch.conf", "[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n"
		    . "\ttop_dir = .\n");
		spit("$out/sqitch.plan", "%syntax-version=1.0.0\n%project=bench\n\n"
		    . join('', map { 'm' . vid($_) . " 2024-01-01T00:00:00Z Bench "
			. "<bench\@example.com> # $_->{name}\n" } @migs));
		for (@migs) {
			spit("$out/deploy/m" . vid($_) . '.sql', "BEGIN;\n\n"
			    . render($_, 1) . "\nCOMMIT;\n");
			spit("$out/revert/m" . vid($_) . '.sql', "-- not used\n");
			spit("$out/verify/m" . vid($_) . '.sql', "-- not used\n");
		}
	},
	liquibase => sub {
		spit("$out/changelog.sql", "--liquibase formatted sql\n\n" . join('',
		    map { "--changeset bench:$_->{version} splitStatements:false stripComments:false\n"
			. render($_, 0) . "\n" } @migs));
	},
	'node-pg-migrate' => sub {
		make_path("$out/migrations");
		spit("$out/migrations/" . base($_) . '.js', "exports.up = (pgm) => {\n"
		    . "  pgm.sql(" . js_str(render($_, 0)) . ");\n};\n"
		    . "exports.down = false;\n") for @migs;
	},
	'postgres-migrations' => sub {
		make_path("$out/migrations");
		spit("$out/migrations/$_->{version}_$_->{name}.sql", render($_, 0))
		    for @migs;
	},
	'graphile-migrate' => sub {
		my $prev;
		make_path("$out/migrations/committed");
		spit("$out/migrations/current.sql", '');
		for (@migs) {
			my $body = render($_, 0);
			# Its hash: sha1 of "PREVIOUS\nBODY", both trimmed, plus "\n".
			my $b = $body =~ s/^\s+|\s+\z//gr;
			my $hash = 'sha1:' . sha1_hex((($prev // '') . "\n" . $b)
			    =~ s/^\s+|\s+\z//gr . "\n");
			spit("$out/migrations/committed/" . sprintf('%06d', $_->{version})
			    . '.sql', '--! Previous: ' . ($prev // '-') . "\n--! Hash: "
			    . "$hash\n\n$body");
			$prev = $hash;
		}
	},
	alembic => sub {
		make_path("$out/versions");
		spit("$out/alembic.ini", "[alembic]\nscript_location = .\n");
		spit("$out/env.py", <<'EOF');
import os
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["BENCH_SQLALCHEMY_URL"])
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
EOF
		my $prev = 'None';
		for (@migs) {
			my $rev = "'r" . vid($_) . "'";
			spit("$out/versions/r" . base($_) . '.py', "from alembic import op\n\n"
			    . "revision = $rev\ndown_revision = $prev\nbranch_labels = None\n"
			    . "depends_on = None\n\n\ndef upgrade():\n"
			    . "    op.get_bind().exec_driver_sql(" . py_str(render($_, 0) =~ s/%/%%/gr)
			    . ")\n");
			$prev = $rev;
		}
	},
	yoyo => sub {
		spit("$out/" . base($_) . '.sql', render($_, 0)) for @migs;
	},
);

sub js_str {
	my ($s) = @_;
	$s =~ s/([\\`\$])/\\$1/g;
	return "`$s`";
}

# psycopg2 formats %; the caller doubles it.
sub py_str {
	my ($s) = @_;
	$s =~ s/\\/\\\\/g;
	return "\"\"\"$s\"\"\"";
}

my $emit = $layouts{$layout} or die "gen.pl: unknown layout '$layout'\n";
if ($set eq 'data') {
	gen_data();
} elsif ($set =~ /^[1-9][0-9]*$/) {
	gen_set($set);
} else {
	die "gen.pl: --set is a number or 'data'\n";
}
make_path($out);
$emit->();
