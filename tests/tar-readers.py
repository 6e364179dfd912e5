#!/usr/bin/env python3
"""tar-readers.py DIR LIST - read each archive two independent ways and
say whether the readers agree.

LIST is the output of tests/gen-hostile.pl (NAME <TAB> expectation); for
each NAME, DIR/NAME.pgb is read by Python's tarfile and by GNU tar
(`tar -tvzf` for the listing, `tar -xzOf` for the bytes of the files it
would extract; nothing is written to disk).  Each reader's view is the
list, in order, of (kind, name, size, SHA-256) of the entries it would
extract, kind being "f" for a regular file (what each reader extracts as
one: unknown types included), else the link, directory, device or volume
letter; or an error.  On stdout, one line per archive:

    NAME <TAB> agree|disagree|skipped <TAB> BUNDLE-ID|- <TAB> why

An archive that expands past PGB_TOTAL_MAX (a bomb) is skipped: reading
it whole would take minutes, and pgapply refuses it.

BUNDLE-ID is the manifest's bundle-id when both readers agree and list
exactly MANIFEST (first) and every script its manifest names, each a
regular file of the manifest's size and SHA-256: the archive pgapply would
have to see to accept it.  Standard library only, and the tar command.
"""
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zlib

TOTAL_MAX = 256 * 1024 * 1024   # PGB_TOTAL_MAX: larger archives are not read
GNU_ENV = dict(os.environ, LC_ALL='C', TZ='UTC')
LINE = re.compile(rb'^(.)\S{9} \S+\s+(\d+|\d+,\s*\d+) \d{4}-\d\d-\d\d \d\d:\d\d (.*)$')
ESC = {b'a': 7, b'b': 8, b'f': 12, b'n': 10, b'r': 13, b't': 9, b'v': 11,
       b'\\': 92, b'?': 63, b'"': 34, b"'": 39}


def digest(fh):
    """SHA-256 of a member's bytes."""
    h = hashlib.sha256()
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
    return h.hexdigest()


def python_view(path):
    kinds = ((lambda m: m.isdir(), 'd'), (lambda m: m.issym(), 'l'),
             (lambda m: m.islnk(), 'h'), (lambda m: m.ischr(), 'c'),
             (lambda m: m.isblk(), 'b'), (lambda m: m.isfifo(), 'p'))
    view = []
    with tarfile.open(path, 'r:gz') as tf:
        for m in tf:
            name = m.name.encode('utf-8', 'surrogateescape')
            kind = 'f' if m.isreg() or m.type not in tarfile.SUPPORTED_TYPES \
                else next(k for test, k in kinds if test(m))
            if kind != 'f':
                view.append((kind, name, None, None))
                continue
            fh = tf.extractfile(m)
            view.append(('f', name, m.size, digest(fh) if fh else None))
    return view


def unescape(s):
    """Undo GNU tar's default "escape" quoting of a member name."""
    out, i = bytearray(), 0
    while i < len(s):
        if s[i:i + 1] == b'\\' and i + 1 < len(s):
            c = s[i + 1:i + 2]
            if c in ESC:
                out.append(ESC[c])
                i += 2
                continue
            m = re.match(rb'[0-7]{1,3}', s[i + 1:i + 4])
            if m:
                out.append(int(m.group(0), 8) & 0xff)
                i += 1 + len(m.group(0))
                continue
        out += s[i:i + 1]
        i += 1
    return bytes(out)


def gnu_view(path, tmp):
    ls = subprocess.run(['tar', '--numeric-owner', '-tvzf', path],
                        capture_output=True, env=GNU_ENV, timeout=300)
    if ls.returncode != 0:
        raise RuntimeError('tar -t: exit %d: %s' % (ls.returncode,
                           ls.stderr.decode('latin-1').strip()[:200]))
    view = []
    for line in ls.stdout.split(b'\n')[:-1]:
        m = LINE.match(line)
        if m is None:
            raise RuntimeError('tar -t: unexpected line %r' % line[:80])
        t, size, rest = m.group(1), m.group(2), m.group(3)
        kind = {b'-': 'f', b'C': 'f', b'?': 'f'}.get(t, t.decode('latin-1'))
        if t == b'?':
            rest = re.sub(rb" unknown file type '.*'$", b'', rest)
        elif t == b'l':
            rest = rest.split(b' -> ', 1)[0]
        elif t == b'h':
            rest = rest.split(b' link to ', 1)[0]
        elif t == b'V':
            rest = re.sub(rb'--Volume Header--$', b'', rest)
        view.append((kind, unescape(rest), int(size) if kind == 'f' else None, None))
    # The bytes of the files tar extracts, in order, cut at the sizes it
    # listed.
    ex = subprocess.run(['tar', '-xzOf', path], capture_output=True,
                        env=GNU_ENV, cwd=tmp, timeout=300)
    if ex.returncode != 0:
        raise RuntimeError('tar -x: exit %d: %s' % (ex.returncode,
                           ex.stderr.decode('latin-1').strip()[:200]))
    at = 0
    for i, (kind, name, size, _) in enumerate(view):
        if kind == 'f':
            view[i] = (kind, name, size,
                       hashlib.sha256(ex.stdout[at:at + size]).hexdigest())
            at += size
    if at != len(ex.stdout):
        raise RuntimeError('tar -x wrote %d bytes, tar -t lists %d'
                           % (len(ex.stdout), at))
    return view


def read(fn, *args):
    try:
        return fn(*args)
    except Exception as e:              # any failure is that reader's view
        return 'error: %s: %s' % (type(e).__name__, str(e)[:160])


def manifest_id(view, path):
    """The bundle-id if 'view' is exactly what the manifest lists, else None."""
    if not view or view[0][:2] != ('f', b'MANIFEST') or view[0][3] is None:
        return None
    with tarfile.open(path, 'r:gz') as tf:
        text = tf.extractfile(tf.next()).read().decode('latin-1')
    want, bid, cur = {}, None, {}
    for line in text.split('\n'):
        k, _, v = line.partition(' ')
        if k == 'bundle-id':
            bid = v
        elif k in ('file', 'sha256', 'size'):
            cur[k] = v
            if len(cur) == 3:
                want[cur['file'].encode()] = (int(cur['size']), cur['sha256'])
                cur = {}
        elif k == 'down':
            f = v.split(' ')
            want[f[0].encode()] = (int(f[2]), f[1])
    got = {}
    for kind, name, size, sha in view[1:]:
        if kind != 'f' or name in got or name == b'MANIFEST':
            return None
        got[name] = (size, sha)
    return bid if got == want and bid else None


def compare(a, b):
    if isinstance(a, str) or isinstance(b, str):
        if isinstance(a, str) and isinstance(b, str):
            return 'agree', 'both readers fail'
        return 'disagree', 'python: %s; gnu tar: %s' % (
            a if isinstance(a, str) else 'reads it',
            b if isinstance(b, str) else 'reads it')
    if len(a) != len(b):
        return 'disagree', 'python lists %d entries, gnu tar %d' % (len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return 'disagree', 'entry %d: python %r, gnu tar %r' % (
                i + 1, x[:3], y[:3])
    return 'agree', '%d entries' % len(a)


def expands(path):
    """How far the gzip stream expands, counting no further than past
    TOTAL_MAX; 0 if it is not gzip or is damaged (the readers say so)."""
    z, n = zlib.decompressobj(16 + zlib.MAX_WBITS), 0
    try:
        with open(path, 'rb') as fh:
            while n <= TOTAL_MAX:
                chunk = z.unconsumed_tail or fh.read(1 << 16)
                if not chunk:
                    break
                n += len(z.decompress(chunk, 1 << 20))
    except zlib.error:
        return 0
    return n


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: tar-readers.py DIR LIST')
    folder, listing = sys.argv[1], sys.argv[2]
    with open(listing, encoding='latin-1') as fh:
        names = [l.split('\t', 1)[0] for l in fh.read().split('\n') if l]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = os.path.join(folder, name + '.pgb')
            if expands(path) > TOTAL_MAX:
                print('%s\tskipped\t-\texpands past the %d bytes pgapply '
                      'holds' % (name, TOTAL_MAX), flush=True)
                continue
            py, gnu = read(python_view, path), read(gnu_view, path, tmp)
            verdict, why = compare(py, gnu)
            bid = None
            if verdict == 'agree' and not isinstance(py, str):
                bid = read(manifest_id, py, path)
                if bid is not None and bid.startswith('error: '):
                    bid = None
            print('%s\t%s\t%s\t%s' % (name, verdict, bid or '-',
                                      why.replace('\t', ' ').replace('\n', ' ')),
                  flush=True)


if __name__ == '__main__':
    main()
