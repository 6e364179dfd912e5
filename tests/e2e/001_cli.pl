#!/usr/bin/perl
# 001_cli.pl - both programs: --help on stdout with exit 0, --version, and
# a bad option or command as a usage line on stderr with exit 2.  Each
# command's own help (COMMAND --help, help COMMAND) against the overview,
# the man page and the README; every option a command does not take
# refused, naming both; every usage error's exact message, exit 2, and
# one valid JSON error event under --json.  No database is involved.
use strict;
use warnings;

use JSON::PP;
use Test::More;
use PgbTest;

for my $prog (qw(pgbundle pgapply)) {
	my $bin = PgbTest::bin($prog);
	my ($code, $out, $err) = PgbTest::run($bin, '--help');
	is($code, 0, "$prog --help exits 0");
	like($out, qr/^usage: $prog /m, "$prog --help prints usage on stdout");
	is($err, '', "$prog --help writes nothing to stderr");
	ok(!grep({ length > 79 } split /\n/, $out),
	    "$prog --help lines stay under 80 columns");

	($code, $out) = PgbTest::run($bin, '--version');
	is($code, 0, "$prog --version exits 0");
	like($out, qr/^$prog \d+\.\d+\.\d+$/m, "$prog --version prints it");

	($code, $out, $err) = PgbTest::run($bin, 'apply', '--no-such-option');
	is($code, 2, "$prog: bad option exits 2");
	like($err, qr/^usage: $prog /m, "$prog: bad option prints usage");
	is($out, '', "$prog: bad option prints nothing on stdout");

	($code, undef, $err) = PgbTest::run($bin, 'frobnicate');
	is($code, 2, "$prog: unknown command exits 2");
	like($err, qr/unknown command 'frobnicate'/, "$prog: names the command");

	($code, undef, $err) = PgbTest::run($bin);
	is($code, 2, "$prog: no arguments exits 2");
}

# The man pages' synopses match the usage text.
for my $prog (qw(pgbundle pgapply)) {
	my $dir = $prog eq 'pgbundle' ? 'compiler' : 'runtime';
	my $man = PgbTest::read_file(PgbTest::root() . "/$dir/$prog.1");
	like($man, qr/^\.Dt \U$prog\E 1$/m, "$prog.1 is an mdoc page");
	my (undef, $out) = PgbTest::run(PgbTest::bin($prog), '--help');
	my @cmds = $out =~ /^(?:usage:|      ) $prog (\w+)/mg;
	for my $c (@cmds) {
		like($man, qr/^\.Cm $c$/m, "$prog.1 SYNOPSIS lists '$c'");
	}
}


# --- the table behind the help --------------------------------------------
my $root = PgbTest::root();
my $readme = PgbTest::read_file("$root/README.md");
my %help;		# prog => command => { opts => [...], exits => [...] }

# 'Exit status:' of a help text: [[code, text]...], the text on one line.
sub exit_list {
	my ($text) = @_;
	my ($sec) = $text =~ /\nExit status:\n(.*)\z/s or return [];
	my @e;
	for my $line (split /\n/, $sec) {
		if ($line =~ /^  (\d+)\s+(.*)$/) {
			push @e, [$1, $2];
		} elsif (@e && $line =~ /^\s+(\S.*)$/) {
			$e[-1][1] .= " $1";
		}
	}
	return \@e;
}

# The long option names (and value names) an 'Options' section lists.
sub opt_list {
	my ($text) = @_;
	my @o;
	push @o, [$2, $3, $1] while $text =~ /^  (?:-(\w), |    |)--([\w-]+)(?: ([A-Z\/.]+))?/mg;
	return \@o;
}

sub norm { my ($s) = @_; $s =~ s/\s+/ /g; $s =~ s/^ | $//g; return $s }

for my $prog (qw(pgbundle pgapply)) {
	my $bin = PgbTest::bin($prog);
	my $dir = $prog eq 'pgbundle' ? 'compiler' : 'runtime';
	my $man = PgbTest::read_file("$root/$dir/$prog.1");
	my (undef, $over) = PgbTest::run($bin, '--help');
	my ($code, $out, $err) = PgbTest::run($bin, 'help');
	is($code, 0, "$prog help: exit 0");
	is($out, $over, "$prog help: the overview, as --help");
	my @cmds;
	for my $c ($over =~ /^(?:usage:|      ) $prog (\w+) /mg) {
		push @cmds, $c unless grep { $_ eq $c } @cmds;
	}
	my %all = map { $_->[0] => $_->[1] } @{exit_list($over)};
	ok(scalar keys %all >= 5, "$prog --help: its exit statuses");

	# The man page's EXIT STATUS: the same texts, and each command's list.
	my ($mex) = $man =~ /^\.Sh EXIT STATUS\n(.*?)^\.Sh /ms;
	my %mcode;
	$mcode{$1} = norm($2) while $mex =~ /^\.It (\d+)\n(.*?)(?=^\.)/msg;
	is_deeply(\%mcode, { map { $_ => norm($all{$_}) } keys %all },
	    "$prog.1 EXIT STATUS: the codes and texts of --help");

	# The README's table of exit statuses for the program.
	my $sec = $prog eq 'pgbundle' ? '## The compiler' : '## The runtime';
	my ($rsec) = $readme =~ /^\Q$sec\E(.*?)^## /ms;
	my ($rtab) = $rsec =~ /^\| exit \| meaning \|\n\|---\|---\|\n((?:\|.*\n)+)/m;
	ok(defined $rtab, "README: the exit table of $prog");
	my %rcode;
	$rcode{$1} = norm($2) while ($rtab // '') =~ /^\| (\d+) \| (.*) \|$/mg;
	is_deeply(\%rcode, { map { $_ => norm($all{$_}) } keys %all },
	    "README: $prog\'s exit table is that of --help");

	my $over_opts = opt_list($over);
	for my $c (@cmds) {
		($code, $out, $err) = PgbTest::run($bin, $c, '--help');
		is($code, 0, "$prog $c --help: exit 0");
		is($err, '', "$prog $c --help: nothing on stderr");
		like($out, qr/^usage: $prog $c /, "$prog $c --help: its synopsis first");
		like($out, qr/\nOptions:\n.*\nExit status:\n/s,
		    "$prog $c --help: its options and exit statuses");
		ok(!grep({ length > 79 } split /\n/, $out),
		    "$prog $c --help: lines under 80 columns");
		my ($c2, $o2) = PgbTest::run($bin, 'help', $c);
		is($c2, 0, "$prog help $c: exit 0");
		is($o2, $out, "$prog help $c: as $c --help");
		my $ex = exit_list($out);
		ok(scalar @$ex >= 2, "$prog $c --help: lists exit statuses");
		for my $e (@$ex) {
			is($e->[1], $all{$e->[0]}, "$prog $c --help: exit $e->[0] as in --help");
		}
		my ($mlist) = $mex =~ /^\.It Cm $c\n(.*)\n/m;
		is($mlist, join(', ', map { $_->[0] } @$ex),
		    "$prog.1 EXIT STATUS: the statuses of $c");
		my $opts = opt_list($out);
		$help{$prog}{$c} = { opts => $opts, text => $out };
		for my $o (@$opts) {
			next if $o->[0] =~ /^(help|version)$/;
			ok($man =~ /Fl -\Q$o->[0]\E\b/ || (defined $o->[2] &&
			    $man =~ /Fl $o->[2]\b/), "$prog.1 documents $c --$o->[0]");
		}
	}
	like($man, qr/^\.Cm help$/m, "$prog.1 SYNOPSIS lists 'help'");
}

# --- options a command does not take --------------------------------------
my %json_done;
my %fleet = map { $_ => 1 } qw(targets targets-query jobs keep-going
    fail-fast canary shard);
for my $prog (qw(pgbundle pgapply)) {
	my $bin = PgbTest::bin($prog);
	my (undef, $over) = PgbTest::run($bin, '--help');
	my @cmds = grep { $help{$prog}{$_} } ($over =~ /^(?:usage:|      ) $prog (\w+) /mg);
	my %seen;
	@cmds = grep { !$seen{$_}++ } @cmds;
	my %takers;
	for my $c (@cmds) {
		push @{$takers{$_->[0]}}, $c
		    for grep { !$seen{"$c $_->[0]"}++ } @{$help{$prog}{$c}{opts}};
	}
	my %arg = map { $_->[0] => $_->[1] } @{opt_list($over)};
	for my $c (@cmds) {
		my %takes = map { $_->[0] => 1 } @{$help{$prog}{$c}{opts}};
		for my $o (sort keys %arg) {
			next if $takes{$o};
			my @args = ($c, "--$o", defined $arg{$o} ? ('x') : ());
			my $who = $takers{$o} // [];
			my $list = @$who == 1 ? "only $who->[0] does" :
			    join(', ', @$who[0 .. $#$who - 1]) . " and $who->[-1] do";
			my $msg = "$c does not take --$o ($list)";
			if ($prog eq 'pgapply' && $fleet{$o}) {
				$list = join(', ', @$who[0 .. $#$who - 1]) . " and $who->[-1]";
				$msg = "'$c' does not run on a fleet: --$o works with $list";
			}
			my ($code, $out, $err) = PgbTest::run($bin, @args);
			is($code, 2, "$prog @args: exit 2");
			is((split /\n/, $err)[0], "$prog: $msg", "$prog @args: names it and the command");
			like($err, qr/^usage: $prog $c /m, "$prog @args: $c\'s synopsis");
			# --json anywhere answers in JSON, even where refused.
			is($out, '', "$prog @args: nothing on stdout") if $o ne 'json';
			# The same under --json: once per command (and for --json).
			next if $json_done{"$prog $c"}++ && $o ne 'json';
			($code, $out) = PgbTest::run($bin, @args, '--json');
			my $ev = eval { decode_json($out) };
			is_deeply($ev, { event => 'error', exit => 2, message => $msg,
			    detail => "see $prog --help" },
			    "$prog @args --json: one error event") or diag($out);
		}
	}
}
# The cases the issue names.
my ($c0, undef, $e0) = PgbTest::run(PgbTest::bin('pgbundle'), 'keygen', '-o',
    'k', '--through', '3', '--locks', '--scratch', '--fix');
is($c0, 2, 'keygen -o k --through 3 ...: exit 2, no key written');
ok(!-e 'k.key', 'keygen refused: no key written');
($c0, undef, $e0) = PgbTest::run(PgbTest::bin('pgapply'), 'status', '--steps',
    '3', '--single-transaction');
is($e0 =~ /^pgapply: status does not take --steps \(only rollback does\)$/m, 1,
    'status --steps 3 --single-transaction: refused');

# --- every usage error: the exact message, exit 2, JSON -------------------
my @usage = (
    [pgbundle => [], 'no command given'],
    [pgbundle => ['frobnicate'], "unknown command 'frobnicate'"],
    [pgbundle => ['help', 'frobnicate'], "unknown command 'frobnicate'"],
    [pgbundle => ['help', 'build', 'x'], "unexpected argument 'x'"],
    [pgbundle => ['keygen'], 'keygen needs -o NAME'],
    [pgbundle => ['keygen', '-o', 'k', 'x'], "unexpected argument 'x'"],
    [pgbundle => ['build', 'a', 'b'], "unexpected argument 'b'"],
    [pgbundle => ['build', '--key', 'k', '--unsigned'], '--key and --unsigned exclude each other'],
    [pgbundle => ['build', '--layout', 'rails'], "unknown layout 'rails' (pgbundle, golang-migrate, diesel, flyway, dbmate, goose, sql-migrate, prisma, atlas, sqitch, liquibase or auto)"],
    [pgbundle => ['build', '-o'], "option '-o' needs a value"],
    [pgbundle => ['build', '--no-such-option'], "unknown option '--no-such-option'"],
    [pgbundle => ['build', '-Z'], "unknown option '-Z'"],
    [pgbundle => ['check', 'a', 'b'], "unexpected argument 'b'"],
    [pgbundle => ['check', '--db', 'a', '--scratch'], '--db and --scratch exclude each other'],
    [pgbundle => ['check', '--db', 'a', '--db-file', 'b'], '--db and --db-file exclude each other'],
    [pgbundle => ['new'], 'new needs the NAME of the migration'],
    [pgbundle => ['new', 'a', 'b', 'c'], "unexpected argument 'c'"],
    [pgbundle => ['squash'], 'squash needs --through N and --archive DIR'],
    [pgbundle => ['squash', '--through', '2'], 'squash needs --archive DIR'],
    [pgbundle => ['squash', '--through', 'x'], "--through 'x' is not a version"],
    [pgbundle => ['squash', 'a', 'b'], "unexpected argument 'b'"],
    [pgbundle => ['sum', 'a', 'b'], "unexpected argument 'b'"],
    [pgbundle => ['inspect'], 'inspect needs a bundle FILE'],
    [pgbundle => ['inspect', 'a', 'b'], "unexpected argument 'b'"],
    [pgbundle => ['configmap', '--name', 'n'], 'configmap needs a bundle FILE'],
    [pgbundle => ['configmap', 'f.pgb'], 'configmap needs --name NAME'],
    [pgbundle => ['sign'], 'sign needs a bundle FILE'],
    [pgbundle => ['cosign', 'a', 'b'], "unexpected argument 'b'"],
    [pgbundle => ['pubkey'], 'pubkey needs a KEY file'],
    [pgbundle => ['pubkey', 'a', 'b'], "unexpected argument 'b'"],
    [pgapply => [], 'no command given'],
    [pgapply => ['frobnicate'], "unknown command 'frobnicate'"],
    [pgapply => ['help', 'frobnicate'], "unknown command 'frobnicate'"],
    (map { [pgapply => [$_], "$_ needs a bundle FILE"] }
	qw(verify plan apply rollback baseline adopt accept)),
    [pgapply => ['apply', 'x.pgb', 'y.pgb'], "unexpected argument 'y.pgb'"],
    [pgapply => ['status', 'x.pgb', 'y.pgb'], "unexpected argument 'y.pgb'"],
    [pgapply => ['rollback', 'x.pgb'], 'rollback needs one of --to VERSION and --steps N'],
    [pgapply => ['rollback', 'x.pgb', '--to', '1', '--steps', '1'], 'rollback needs one of --to VERSION and --steps N'],
    [pgapply => ['baseline', 'x.pgb'], 'baseline needs --version N'],
    [pgapply => ['adopt', 'x.pgb'], 'adopt needs --from TOOL'],
    [pgapply => ['accept', 'x.pgb'], 'accept needs --version N and --reason TEXT'],
    [pgapply => ['accept', 'x.pgb', '--version', '2'], 'accept needs --reason TEXT'],
    [pgapply => ['accept', 'x.pgb', '--reason', 'r'], 'accept needs --version N'],
    [pgapply => ['apply', 'x.pgb', '--db'], "option '--db' needs a value"],
    [pgapply => ['apply', 'x.pgb', '--to', '-1'], "'-1' is not a version or count"],
    [pgapply => ['apply', 'x.pgb', '--wait', 'soon'], "'soon' is not a number from 0 to 86400"],
    [pgapply => ['verify', 'x.pgb', '--min-signatures', '0'], "--min-signatures '0' is not a number from 1 to 16"],
    [pgapply => ['verify', 'x.pgb', '--trust', 't', '--pubkey', 'k'], '--trust excludes --pubkey and --min-signatures: the trust file holds both'],
    [pgapply => ['status', '--db', 'a', '--db-file', 'b'], '--db and --db-file exclude each other'],
    [pgapply => ['apply', 'x.pgb', '-j', '2'], '-j, --canary, --fail-fast, --keep-going and --shard need --targets or --targets-query'],
);
for my $u (@usage) {
	my ($prog, $args, $msg) = @$u;
	my $bin = PgbTest::bin($prog);
	my $name = "$prog @$args";
	my ($code, $out, $err) = PgbTest::run($bin, @$args);
	is($code, 2, "$name: exit 2");
	is((split /\n/, $err)[0], "$prog: $msg", "$name: the message");
	like($err, qr/\Ausage: $prog |\n^usage: $prog /m, "$name: the synopsis");
	is($out, '', "$name: nothing on stdout");
	# --json right after the command, where the command takes it
	# (pgapply: all); before the command it would be the command.
	next if !@$args || $args->[0] eq 'help' || ($prog eq 'pgbundle' &&
	    $args->[0] !~ /^(check|inspect|frobnicate)$/);
	my @j = ($args->[0], '--json', @$args[1 .. $#$args]);
	($code, $out) = PgbTest::run($bin, @j);
	is($code, 2, "$name --json: exit 2");
	my $ev = eval { decode_json($out) };
	is_deeply($ev, { event => 'error', exit => 2, message => $msg,
	    detail => "see $prog --help" }, "$name --json: the error event")
	    or diag($out);
}

done_testing();
