/**
 * Character names for Python's `\N{name}` string escape (Jinja2 decodes string literals with
 * Python's unicode-escape codec). The table, data/unicode-names.txt.gz (217 KB), is written by
 * scripts/unicode-names/build.py from Python 3.11's unicodedata (Unicode 14.0, the version dbt's
 * Python 3.10/3.11 use) plus the formal aliases (`LINE FEED`, `NUL`, corrections) the codec also
 * accepts; it is read once, on the first `\N{…}` a template uses, so no other template pays for
 * it. As in CPython, table names match case-insensitively (ASCII), while CJK unified ideographs
 * (`CJK UNIFIED IDEOGRAPH-4E00`: four or five upper-case hex digits, in the ranges the file
 * lists) and Hangul syllables (`HANGUL SYLLABLE GAG`: the jamo short names, upper case, longest
 * match per part) are computed and match only in upper case.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

interface NameTable {
  byName: Map<string, number>;
  cjk: [number, number][];
}

let table: NameTable | undefined;

/** The data file from the sources (src/jinja) or the build (dist/src/jinja). */
function dataFile(): string {
  for (const rel of ['../../data/unicode-names.txt.gz', '../../../data/unicode-names.txt.gz']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('data/unicode-names.txt.gz is missing from the Tributary package');
}

function load(): NameTable {
  const text = gunzipSync(readFileSync(dataFile())).toString('utf8');
  const firstLine = text.indexOf('\n');
  const header = JSON.parse(text.slice(0, firstLine)) as { cjk: [string, string][] };
  const byName = new Map<string, number>();
  for (const line of text.slice(firstLine + 1).split('\n')) {
    const semi = line.indexOf(';');
    if (semi > 0) byName.set(line.slice(semi + 1), parseInt(line.slice(0, semi), 16));
  }
  const cjk = header.cjk.map(([a, b]) => [parseInt(a, 16), parseInt(b, 16)] as [number, number]);
  return { byName, cjk };
}

// The jamo short names of Hangul syllable names (Unicode §3.12), as CPython's unicodedata.
const JAMO_L = 'G GG N D DD R M B BB S SS - J JJ C K T P H'
  .split(' ')
  .map((s) => (s === '-' ? '' : s));
const JAMO_V = 'A AE YA YAE EO E YEO YE O WA WAE OE YO U WEO WE WI YU EU YI I'.split(' ');
const JAMO_T = [
  '',
  ...'G GG GS N NJ NH D L LG LM LB LS LT LP LH M B BS S SS NG J C K T P H'.split(' '),
];

/** CPython's find_syllable: the longest short name of `names` at `pos`, or -1. */
function longestJamo(s: string, pos: number, names: readonly string[]): [number, number] {
  let best = -1;
  let len = -1;
  names.forEach((name, i) => {
    if (name.length > len && s.startsWith(name, pos)) {
      best = i;
      len = name.length;
    }
  });
  return [best, Math.max(len, 0)];
}

function hangul(rest: string): number | undefined {
  const [l, ll] = longestJamo(rest, 0, JAMO_L);
  const [v, vl] = longestJamo(rest, ll, JAMO_V);
  const [t, tl] = longestJamo(rest, ll + vl, JAMO_T);
  if (l < 0 || v < 0 || t < 0 || ll + vl + tl !== rest.length) return undefined;
  return 0xac00 + (l * JAMO_V.length + v) * JAMO_T.length + t;
}

function cjkIdeograph(hex: string, ranges: readonly [number, number][]): number | undefined {
  if (!/^[0-9A-F]{4,5}$/.test(hex)) return undefined;
  const cp = parseInt(hex, 16);
  return ranges.some(([a, b]) => a <= cp && cp <= b) ? cp : undefined;
}

/** The code point `\N{name}` stands for in Python, or undefined when Python knows no such name. */
export function lookupUnicodeName(name: string): number | undefined {
  if (name.startsWith('HANGUL SYLLABLE ')) return hangul(name.slice('HANGUL SYLLABLE '.length));
  table ??= load();
  if (name.startsWith('CJK UNIFIED IDEOGRAPH-'))
    return cjkIdeograph(name.slice('CJK UNIFIED IDEOGRAPH-'.length), table.cjk);
  return table.byName.get(name.replace(/[a-z]+/g, (s) => s.toUpperCase()));
}
