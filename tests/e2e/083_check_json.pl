#!/usr/bin/perl
# 083_check_json.pl - pgbundle check --json prints exactly one JSON object
# on every path: a clean folder, findings, a pgbundle.sum error, a file
# that does not compile, a folder that does not exist, the --db proof, a
# migration that fails in the proof, a server it cannot reach, and
# migrations that fail to compile before the proof; the exit code matches.
use strict;
use warnings;

use Test::More;
use JSON::PP;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $url = $pg->url;
my $pgbundle = PgbTest::bin('pgbundle');
my $json = JSON::PP->new->utf8;

# One JSON object on stdout, nothing else; returns it.
sub one_object {
	my ($name, $out) = @_;
	my @lines = split /\n/, $out;
	is(scalar @lines, 1, "$name: one line on stdout") or diag($out);
	my $o = eval { $json->decode($lines[0] // '') };
	ok(ref $o eq 'HASH', "$name: it parses as a JSON object") or diag("$@: $out");
	return $o || {};
}

my $ok = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
    '001_a.down.sql' => "DROP TABLE a;\n");
my $lint = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\nDROP TABLE a;\n");
my $badname = Pgb::migrations('abc.sql' => "CREATE TABLE a ();\n");
my $sum = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
    '001_a.down.sql' => "DROP TABLE a;\n");
PgbTest::write_file("$sum/pgbundle.sum", "garbage\n");
my $fails = Pgb::migrations('001_a.sql' => "CREATE TABLE a (id nosuchtype);\n",
    '001_a.down.sql' => "DROP TABLE a;\n");
my $port = PgbTest::free_port();

my @cases = (
    # name, dir, extra options, exit, ok, proven, error exit or undef
    ['static, clean', $ok, [], 0, 1, 0, undef],
    ['static, findings', $lint, ['--strict'], 1, 0, 0, undef],
    ['static, pgbundle.sum error', $sum, [], 1, 0, 0, undef],
    ['static, a file that does not compile', $badname, [], 1, 0, 0, undef],
    ['static, no such folder', "$ok/nope", [], 2, 0, 0, 2],
    ['--db, proven', $ok, ['--db', $url], 0, 1, 1, undef],
    ['--db, a migration fails in the proof', $fails, ['--db', $url], 1, 0, 1, undef],
    ['--db, a file that does not compile', $badname, ['--db', $url], 1, 0, 0, undef],
    ['--db, pgbundle.sum error', $sum, ['--db', $url], 1, 0, 0, undef],
    ['--db, nothing listening', $ok, ['--db', "postgres://postgres\@127.0.0.1:$port/x"],
	4, 0, 0, 4],
);
for my $c (@cases) {
	my ($name, $dir, $opts, $exit, $okv, $proven, $errexit) = @$c;
	my ($code, $out, $err) = PgbTest::run($pgbundle, 'check', $dir, '--json', @$opts);
	is($code, $exit, "$name: exits $exit") or diag($err);
	my $o = one_object($name, $out);
	is($o->{ok} ? 1 : 0, $okv, "$name: ok is " . ($okv ? 'true' : 'false'));
	is($o->{proven} ? 1 : 0, $proven, "$name: proven is " . ($proven ? 'true' : 'false'));
	is(ref $o->{findings}, 'ARRAY', "$name: findings listed");
	if (defined $errexit) {
		is($o->{error}{exit}, $errexit, "$name: the error names exit $errexit");
		like($o->{error}{message} // '', qr/\S/, "$name: and why it stopped");
	} else {
		ok(!exists $o->{error}, "$name: no error member");
	}
	ok(!$okv || !grep({ $_->{severity} eq 'error' } @{ $o->{findings} || [] }),
	    "$name: ok agrees with the findings");
}

done_testing();
