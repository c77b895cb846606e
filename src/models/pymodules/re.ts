/**
 * Python's `re` as dbt's `modules.re`: match, search, fullmatch, findall, finditer, sub, subn,
 * split, compile, escape, with Python's pattern syntax translated to JavaScript's where the two
 * mean the same (`(?P<name>…)`, `(?P=name)`, `\A`, `\Z`, leading `(?i)` flags, Python's `$`) and a
 * clear error where JavaScript has no equivalent (atomic groups, possessive quantifiers,
 * conditionals). Replacement templates use Python's `\1` and `\g<name>`.
 */
import { TributaryError } from '../../core/index.js';
import { splitArgs, tuple } from '../../jinja/index.js';

export const FLAGS = {
  I: 2,
  IGNORECASE: 2,
  M: 8,
  MULTILINE: 8,
  S: 16,
  DOTALL: 16,
  X: 64,
  VERBOSE: 64,
  A: 256,
  ASCII: 256,
  U: 32,
  UNICODE: 32,
};

function reError(message: string, pattern: string): never {
  throw new TributaryError(`re: ${message} in pattern ${JSON.stringify(pattern)}`, {
    code: 'CONFIG',
    hint: 'Python regular expressions run as JavaScript ones here; rewrite the pattern without that construct',
  });
}

const INLINE_FLAGS: Record<string, number> = { i: 2, m: 8, s: 16, x: 64, a: 256, u: 32, L: 0 };

/** Removes whitespace and # comments outside character classes (re.VERBOSE). */
function stripVerbose(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      out += c + (p[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (/\s/.test(c)) continue;
    else if (c === '#') while (i < p.length && p[i] !== '\n') i++;
    else out += c;
  }
  return out;
}

/** Python pattern text and flags → a JavaScript RegExp source and flags. */
export function translate(pattern: string, flags: number): { source: string; flags: number } {
  let p = pattern;
  const lead = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) flags |= INLINE_FLAGS[f] ?? 0;
    p = p.slice(lead[0].length);
  }
  if (flags & FLAGS.X) p = stripVerbose(p);
  const multiline = (flags & FLAGS.M) !== 0;
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    const rest = p.slice(i);
    if (c === '\\') {
      const n = p[i + 1] ?? '';
      i++;
      if (inClass) out += `\\${n}`;
      else if (n === 'A') out += '^(?<![\\s\\S])';
      else if (n === 'Z') out += '$(?![\\s\\S])';
      else out += `\\${n}`;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') out += p[++i];
      if (p[i + 1] === ']') out += `\\${p[++i]}`;
      continue;
    }
    if (rest.startsWith('(?P<')) {
      out += '(?<';
      i += 3;
    } else if (rest.startsWith('(?P=')) {
      const end = p.indexOf(')', i);
      out += `\\k<${p.slice(i + 4, end)}>`;
      i = end;
    } else if (/^\(\?[aiLmsux-]+[:)]/.test(rest))
      reError('inline flags inside the pattern are not supported', pattern);
    else if (rest.startsWith('(?>')) reError('atomic groups (?>…) are not supported', pattern);
    else if (rest.startsWith('(?('))
      reError('conditional groups (?(…)…) are not supported', pattern);
    else if (/^[*+?}]\+/.test(rest)) reError('possessive quantifiers are not supported', pattern);
    else if (c === '$' && !multiline) out += '(?=\\n?$(?![\\s\\S]))';
    else out += c;
  }
  return { source: out, flags };
}

function jsFlags(flags: number, extra: string): string {
  let f = extra;
  if (flags & FLAGS.I) f += 'i';
  if (flags & FLAGS.M) f += 'm';
  if (flags & FLAGS.S) f += 's';
  return f;
}

/** A match object: group(), groups(), groupdict(), start(), end(), span(). */
export class PyMatch {
  constructor(
    private readonly m: RegExpExecArray,
    readonly string: string,
    readonly re: PyPattern,
  ) {}
  private index(g: unknown): number {
    const i =
      typeof g === 'number'
        ? g
        : Object.hasOwn(this.re.groupIndex, String(g))
          ? this.re.groupIndex[String(g)]
          : undefined;
    if (i === undefined || !Number.isInteger(i) || i < 0 || i >= this.m.length)
      throw new TributaryError(`re: no such group ${JSON.stringify(g)}`, { code: 'CONFIG' });
    return i;
  }
  group(...raw: unknown[]): unknown {
    const { args } = splitArgs(raw);
    if (args.length <= 1) return this.m[this.index(args[0] ?? 0)] ?? null;
    return tuple(args.map((g) => this.m[this.index(g)] ?? null));
  }
  /** m[1], m['name']; an unknown group is Python's IndexError, so Jinja tries the attribute. */
  __getitem__(g: unknown): unknown {
    const known =
      (typeof g === 'number' && Number.isInteger(g) && g >= 0 && g < this.m.length) ||
      (typeof g === 'string' && Object.hasOwn(this.re.groupIndex, g));
    return known ? this.group(g) : undefined;
  }
  groups(fallback: unknown = null): unknown[] {
    return tuple(this.m.slice(1).map((v) => v ?? fallback));
  }
  groupdict(fallback: unknown = null): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.m.groups ?? {})) out[k] = v ?? fallback;
    return out;
  }
  start(g: unknown = 0): number {
    const i = this.index(g);
    if (i === 0) return this.m.index;
    const text = this.m[i];
    return text === undefined
      ? -1
      : (this.m.indices?.[i]?.[0] ?? this.m.index + this.m[0].indexOf(text));
  }
  end(g: unknown = 0): number {
    const s = this.start(g);
    const text = this.m[this.index(g)];
    return text === undefined ? -1 : s + text.length;
  }
  span(g: unknown = 0): unknown[] {
    return tuple([this.start(g), this.end(g)]);
  }
  get lastindex(): number | null {
    for (let i = this.m.length - 1; i > 0; i--) if (this.m[i] !== undefined) return i;
    return null;
  }
  __repr__(): string {
    return `<re.Match object; span=(${this.start()}, ${this.end()}), match='${this.m[0]}'>`;
  }
}

/** Expands a Python replacement template (`\1`, `\g<1>`, `\g<name>`, `\n`) for one match. */
function expand(template: string, m: PyMatch): string {
  return template.replace(/\\(g<([^>]+)>|\d{1,2}|[ntr\\])/g, (_, whole: string, g?: string) => {
    if (g !== undefined) return String(m.group(/^\d+$/.test(g) ? Number(g) : g) ?? '');
    if (/^\d/.test(whole)) return String(m.group(Number(whole)) ?? '');
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\' } as Record<string, string>)[whole]!;
  });
}

export class PyPattern {
  readonly groupNames: string[] = [];
  readonly groupIndex: Record<string, number> = {};
  private readonly source: string;
  private readonly jsflags: number;

  constructor(
    readonly pattern: string,
    readonly flags: number,
  ) {
    const t = translate(pattern, flags);
    this.source = t.source;
    this.jsflags = t.flags;
    try {
      new RegExp(this.source, jsFlags(this.jsflags, 'd'));
    } catch (err) {
      reError(err instanceof Error ? err.message : String(err), pattern);
    }
    let n = 0;
    // Count capturing groups in order to number the named ones as Python does.
    for (const g of this.source.matchAll(/\\.|\[(?:\\.|[^\]])*\]|\((\?<([A-Za-z_]\w*)>|\?)?/g)) {
      if (!g[0].startsWith('(')) continue;
      if (g[1] === '?') continue;
      n++;
      if (g[2]) {
        this.groupNames.push(g[2]);
        this.groupIndex[g[2]] = n;
      }
    }
  }
  get groups(): number {
    return new RegExp(`${this.source}|`, jsFlags(this.jsflags, '')).exec('')!.length - 1;
  }
  regex(extra: string): RegExp {
    return new RegExp(this.source, jsFlags(this.jsflags, `d${extra}`));
  }
  private at(text: string, pos: number, sticky: boolean): PyMatch | null {
    const r = this.regex(sticky ? 'y' : 'g');
    r.lastIndex = pos;
    const m = r.exec(text);
    return m ? new PyMatch(m, text, this) : null;
  }
  match(s: unknown, pos: unknown = 0): PyMatch | null {
    return this.at(String(s), Number(pos), true);
  }
  search(s: unknown, pos: unknown = 0): PyMatch | null {
    return this.at(String(s), Number(pos), false);
  }
  fullmatch(s: unknown): PyMatch | null {
    const text = String(s);
    const r = new RegExp(`(?:${this.source})$(?![\\s\\S])`, jsFlags(this.jsflags, 'dy'));
    const m = r.exec(text);
    return m ? new PyMatch(m, text, this) : null;
  }
  finditer(s: unknown): PyMatch[] {
    const text = String(s);
    return [...text.matchAll(this.regex('g'))].map((m) => new PyMatch(m, text, this));
  }
  findall(s: unknown): unknown[] {
    return this.finditer(s).map((m) => {
      const groups = m.groups('') as unknown[];
      if (groups.length === 0) return m.group(0);
      if (groups.length === 1) return groups[0];
      return groups;
    });
  }
  subn(repl: unknown, s: unknown, count: unknown = 0): unknown[] {
    const text = String(s);
    const max = Number(count) || Infinity;
    let n = 0;
    let out = '';
    let last = 0;
    for (const m of this.finditer(text)) {
      if (n >= max) break;
      out += text.slice(last, m.start());
      out +=
        typeof repl === 'function'
          ? String((repl as (m: PyMatch) => unknown)(m))
          : expand(String(repl), m);
      last = m.end();
      n++;
    }
    return tuple([out + text.slice(last), n]);
  }
  sub(repl: unknown, s: unknown, count: unknown = 0): string {
    return this.subn(repl, s, count)[0] as string;
  }
  split(s: unknown, maxsplit: unknown = 0): unknown[] {
    const text = String(s);
    const max = Number(maxsplit) || Infinity;
    const out: unknown[] = [];
    let last = 0;
    let n = 0;
    for (const m of this.finditer(text)) {
      if (n >= max) break;
      out.push(text.slice(last, m.start()), ...(m.groups() as unknown[]));
      last = m.end();
      n++;
    }
    out.push(text.slice(last));
    return out;
  }
  __repr__(): string {
    return `re.compile(${JSON.stringify(this.pattern)})`;
  }
}

const cache = new Map<string, PyPattern>();

function compile(pattern: unknown, flags: unknown = 0): PyPattern {
  if (pattern instanceof PyPattern) return pattern;
  const key = `${Number(flags)}:${String(pattern)}`;
  let p = cache.get(key);
  if (!p) {
    p = new PyPattern(String(pattern), Number(flags) || 0);
    if (cache.size > 500) cache.clear();
    cache.set(key, p);
  }
  return p;
}

/** Python's re.escape: every character that is special in a pattern gets a backslash. */
function escape(s: unknown): string {
  return String(s).replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, (c) => `\\${c}`);
}

/** The module: functions take Python's positional and keyword arguments. */
export function reModule(): Record<string, unknown> {
  const call =
    <T>(fn: (p: PyPattern, args: unknown[]) => T, nArgs: number) =>
    (...raw: unknown[]): T => {
      const { args, kwargs } = splitArgs(raw);
      const flags = kwargs.flags ?? args[nArgs + 1] ?? 0;
      const rest = args.slice(1, nArgs + 1);
      if (kwargs.count !== undefined) rest[2] = kwargs.count;
      if (kwargs.maxsplit !== undefined) rest[1] = kwargs.maxsplit;
      return fn(compile(args[0], flags), rest);
    };
  return {
    ...FLAGS,
    compile: (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      return compile(args[0], kwargs.flags ?? args[1] ?? 0);
    },
    match: call((p, a) => p.match(a[0]), 1),
    search: call((p, a) => p.search(a[0]), 1),
    fullmatch: call((p, a) => p.fullmatch(a[0]), 1),
    findall: call((p, a) => p.findall(a[0]), 1),
    finditer: call((p, a) => p.finditer(a[0]), 1),
    split: call((p, a) => p.split(a[0], a[1]), 2),
    sub: call((p, a) => p.sub(a[0], a[1], a[2]), 3),
    subn: call((p, a) => p.subn(a[0], a[1], a[2]), 3),
    escape,
    purge: () => cache.clear(),
  };
}
