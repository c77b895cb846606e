"""Writes data/unicode-names.txt.gz: the character names Python's `\\N{name}` string escape
accepts, for the Jinja renderer (Jinja2 decodes string literals with Python's unicode-escape
codec, src/jinja/lexer.ts).

Names come from this python3's `unicodedata` (the Unicode version its `\\N{}` uses), formal
aliases (NameAliases.txt: `LINE FEED`, `NUL`, corrections) from Perl's Unicode::UCD, each kept
only if this Python's codec decodes it to the same character. CJK unified ideographs and Hangul
syllables are left out: CPython computes those names (and matches them case-sensitively), and so
does src/jinja/unicode-names.ts, from the ranges written on the second line.

    python3 scripts/unicode-names/build.py   # then commit data/unicode-names.txt.gz
"""
import codecs
import gzip
import json
import pathlib
import subprocess
import sys
import unicodedata

ALGORITHMIC = ('CJK UNIFIED IDEOGRAPH-', 'HANGUL SYLLABLE ')


def decodes_to(name: str, cp: int) -> bool:
    try:
        return codecs.decode(('\\N{' + name + '}').encode('ascii'), 'unicode-escape') == chr(cp)
    except (UnicodeDecodeError, UnicodeEncodeError):
        return False


def perl_aliases() -> list[tuple[int, str]]:
    script = (
        'use Unicode::UCD qw(prop_invmap); my ($l,$m)=prop_invmap("Name_Alias");'
        'for my $i (0..$#$l) { my $v=$m->[$i]; my @v = ref $v ? @$v : ($v);'
        ' for my $a (@v) { next if $a eq ""; my ($n)=split /: /, $a;'
        ' printf "%X;%s\\n", $l->[$i], $n } }'
    )
    out = subprocess.run(['perl', '-e', script], check=True, capture_output=True, text=True).stdout
    pairs = []
    for line in out.splitlines():
        cp, name = line.split(';', 1)
        pairs.append((int(cp, 16), name))
    return pairs


def main() -> None:
    names: dict[str, int] = {}
    cjk: list[list[int]] = []
    for cp in range(0x110000):
        name = unicodedata.name(chr(cp), None)
        if name is None:
            continue
        if name.startswith('CJK UNIFIED IDEOGRAPH-'):
            if cjk and cjk[-1][1] == cp - 1:
                cjk[-1][1] = cp
            else:
                cjk.append([cp, cp])
            continue
        if name.startswith(ALGORITHMIC):
            continue
        names[name] = cp
    aliases = 0
    for cp, alias in perl_aliases():
        # Aliases of ranges Perl extends (e.g. the <control> block repeated) are checked like
        # every other: only what this Python's codec decodes to the same character is kept.
        # A name of the table is never replaced by an alias.
        if alias not in names and decodes_to(alias, cp):
            names[alias] = cp
            aliases += 1
    for name, cp in list(names.items())[::997]:
        assert decodes_to(name, cp), name
    header = {
        'unicode': unicodedata.unidata_version,
        'python': sys.version.split()[0],
        'cjk': [[f'{a:X}', f'{b:X}'] for a, b in cjk],
    }
    body = '\n'.join(f'{cp:X};{name}' for name, cp in sorted(names.items(), key=lambda kv: (kv[1], kv[0])))
    out = pathlib.Path(__file__).resolve().parents[2] / 'data' / 'unicode-names.txt.gz'
    out.write_bytes(gzip.compress((json.dumps(header) + '\n' + body + '\n').encode(), 9, mtime=0))
    print(f'{out}: {len(names)} names ({aliases} aliases), CJK ranges {len(cjk)}, {out.stat().st_size} bytes')


main()
