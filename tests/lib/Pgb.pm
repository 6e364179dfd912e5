package Pgb;
# Pgb.pm - shortcuts the end-to-end tests share: write a migrations
# folder, build it with the test key, run pgapply against a database.
use strict;
use warnings;

use PgbTest;

my ($KEY, $PUB) = PgbTest::test_key();

sub key { return $KEY }
sub pub { return $PUB }

# Write { '001_a.sql' => "...", ... } into a new folder; return its path.
sub migrations {
	my (%files) = @_;
	my $dir = PgbTest::tempdir() . '/migrations';
	mkdir $dir or die "mkdir $dir: $!";
	PgbTest::write_file("$dir/$_", $files{$_}) for keys %files;
	return $dir;
}

# The sample migrations/ as server $pg can run them.  The sample uses
# SQL-standard routine bodies (BEGIN ATOMIC and RETURN, PostgreSQL 14)
# and a security_invoker view (15); for an older server (make
# test-versions) this is a copy, named migrations/ too, whose 007 and 013
# say the same in the older syntax (quoted bodies, a plain view), without
# pgbundle.sum.
my %older = (
	'007_order_totals.sql' => sub {
		s/^BEGIN ATOMIC\n(.*?)^END;/AS \$body\$\n$1\$body\$;/msg == 2
		    or die '007: expected two BEGIN ATOMIC bodies';
		s/ WITH \(security_invoker = true\)//
		    or die '007: expected a security_invoker view';
	},
	'013_orders_row_level_security.sql' => sub {
		s/^(\s+)RETURN (.*);$/$1AS \$body\$ SELECT $2 \$body\$;/m
		    or die '013: expected a RETURN body';
	},
);
my $sample_copy;
sub sample {
	my ($pg) = @_;
	my $src = PgbTest::root() . '/migrations';
	return $src if $pg->server_major >= 15;
	return $sample_copy if defined $sample_copy;
	my $dir = PgbTest::tempdir() . '/migrations';
	mkdir $dir or die "mkdir $dir: $!";
	opendir(my $dh, $src) or die "$src: $!";
	for my $f (grep { /\.sql$/ } readdir $dh) {
		local $_ = PgbTest::read_file("$src/$f");
		$older{$f}->() if $older{$f};
		PgbTest::write_file("$dir/$f", $_);
	}
	closedir($dh);
	return $sample_copy = $dir;
}

# Build 'dir' into a bundle; returns ($code, $bundle, $stderr).
sub build {
	my ($dir, @opts) = @_;
	my $out = PgbTest::tempdir() . '/app.pgb';
	my ($code, undef, $err) = PgbTest::run({ env => { SOURCE_DATE_EPOCH => 1700000000 } },
	    PgbTest::bin('pgbundle'), 'build', $dir, '-o', $out,
	    (grep({ $_ eq '--unsigned' } @opts) ? () : ('--key', $KEY)), @opts);
	return ($code, $out, $err);
}

# Build or die.
sub bundle {
	my ($dir, @opts) = @_;
	my ($code, $out, $err) = build($dir, @opts);
	die "build failed ($code): $err" if $code != 0;
	return $out;
}

# pgbundle sum DIR --fix, or die: what a team that fixed a released
# migration runs before it builds again (build refuses the edit).
sub sum_fix {
	my ($dir) = @_;
	my ($code, undef, $err) = PgbTest::run(PgbTest::bin('pgbundle'), 'sum',
	    $dir, '--fix');
	die "sum --fix failed ($code): $err" if $code != 0;
}

# pgapply CMD BUNDLE --db CONNINFO --pubkey test.pub @opts
sub pgapply {
	my ($pg, $db, $cmd, $bundle, @opts) = @_;
	return PgbTest::run(PgbTest::bin('pgapply'), $cmd,
	    (defined $bundle ? ($bundle) : ()), '--pubkey', $PUB,
	    '--db', $pg->connstr($db), @opts);
}

1;
