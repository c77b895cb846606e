/**
 * A fast reader for the plain block YAML most properties files are written in (mappings,
 * sequences, single-line plain and quoted scalars, one-line flow collections, `|`/`>` block
 * scalars), giving the same values the `yaml` package gives with dbt's YAML 1.1 options
 * (property-entries.ts). Anything it is not sure of — anchors, aliases, tags, merge keys,
 * escapes, multi-line plain or quoted scalars, numbers other than small decimal integers, dates,
 * keys that YAML 1.1 would read as booleans or null, duplicate keys, tabs, documents markers,
 * invalid YAML — makes it answer `undefined`, and the caller reads the file with `yaml` (which
 * also reports the errors). `yaml` costs ~10× more on a cold process (bench/RESULTS.md,
 * compile-speed2), and a 1,000-model project's properties files are most of the parse's YAML.
 */

/** Thrown inside the reader when the text leaves the subset it handles. */
class Unsure extends Error {}
const unsure = (): never => {
  throw new Unsure();
};

interface Line {
  indent: number;
  /** The line without its indentation (comments still in it). */
  text: string;
  /** Blank or a whole-line comment: skipped, except inside a block scalar. */
  skip: boolean;
  /** Spaces only (not empty). */
  spaces: boolean;
}

const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
const NULL = /^(?:~|null|Null|NULL)$/;
const SMALL_INT = /^-?(?:0|[1-9][0-9]{0,14})$/;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;
/** Characters a plain scalar this reader resolves to a string may not start with. */
const NOT_PLAIN_START = new Set('-?:,[]{}#&*!|>\'"%@`+.=<0123456789~\\ ');

/** A plain scalar's value (YAML 1.1 as configured for dbt), or Unsure. */
function resolvePlain(s: string): unknown {
  if (NULL.test(s)) return null;
  if (PY_TRUE.test(s)) return true;
  if (PY_FALSE.test(s)) return false;
  if (SMALL_INT.test(s) && s !== '-0') return Number(s);
  if (NOT_PLAIN_START.has(s[0]!)) unsure();
  return s;
}

/** A mapping key written plainly or quoted; keys YAML 1.1 would resolve to non-strings are Unsure. */
function checkKey(key: string, quoted: boolean, into: Record<string, unknown>): string {
  if (!quoted) {
    if (!PLAIN_KEY.test(key) || NULL.test(key) || PY_TRUE.test(key) || PY_FALSE.test(key)) unsure();
  }
  if (key === '__proto__' || Object.prototype.hasOwnProperty.call(into, key)) unsure();
  return key;
}

/** What may follow a value on its line: spaces, then nothing or a comment. */
function endOfLine(s: string, at: number): void {
  let i = at;
  while (s[i] === ' ') i++;
  if (i < s.length && (s[i] !== '#' || i === at)) unsure();
}

/** A quoted scalar starting at `at` on one line: [value, index after the closing quote]. */
function quoted(s: string, at: number): [string, number] {
  const q = s[at]!;
  let out = '';
  let i = at + 1;
  for (;;) {
    const j = s.indexOf(q, i);
    if (j < 0) unsure();
    if (q === '"') {
      const chunk = s.slice(i, j);
      if (chunk.includes('\\')) unsure();
      return [out + chunk, j + 1];
    }
    out += s.slice(i, j);
    if (s[j + 1] === "'") {
      out += "'";
      i = j + 2;
    } else return [out, j + 1];
  }
}

/** The end of a plain scalar in a block context: before ` #`, trailing spaces trimmed. */
function plainInBlock(s: string): string {
  const hash = s.indexOf(' #');
  const v = (hash < 0 ? s : s.slice(0, hash)).trimEnd();
  if (v.includes(': ') || v.endsWith(':') || v.includes('\t')) unsure();
  return v;
}

/** A flow collection or scalar at `at` of one line: [value, index after it]. */
function flow(s: string, at: number): [unknown, number] {
  let i = at;
  const skip = () => {
    while (s[i] === ' ') i++;
  };
  const scalar = (): [unknown, boolean] => {
    skip();
    const c = s[i];
    if (c === '[' || c === '{') {
      const [v, end] = flow(s, i);
      i = end;
      return [v, false];
    }
    if (c === '"' || c === "'") {
      const [v, end] = quoted(s, i);
      i = end;
      return [v, true];
    }
    const start = i;
    while (i < s.length && !',[]{}'.includes(s[i]!)) {
      if (s[i] === ':' && (s[i + 1] === ' ' || ',[]{}'.includes(s[i + 1] ?? ','))) break;
      if (s[i] === '#' && s[i - 1] === ' ') unsure();
      i++;
    }
    const text = s.slice(start, i).trimEnd();
    if (!text) unsure();
    return [text, false];
  };
  const open = s[i];
  i++;
  if (open === '[') {
    const out: unknown[] = [];
    skip();
    if (s[i] === ']') return [out, i + 1];
    for (;;) {
      const [v, isQuoted] = scalar();
      out.push(isQuoted || typeof v !== 'string' ? v : resolvePlain(v));
      skip();
      if (s[i] === ',') {
        i++;
        skip();
        if (s[i] === ']') unsure();
        continue;
      }
      if (s[i] === ']') return [out, i + 1];
      return unsure();
    }
  }
  const out: Record<string, unknown> = {};
  skip();
  if (s[i] === '}') return [out, i + 1];
  for (;;) {
    const [k, keyQuoted] = scalar();
    if (typeof k !== 'string') return unsure();
    const key = checkKey(k, keyQuoted, out);
    skip();
    if (s[i] !== ':') unsure();
    i++;
    const [v, isQuoted] = scalar();
    out[key] = isQuoted || typeof v !== 'string' ? v : resolvePlain(v);
    skip();
    if (s[i] === ',') {
      i++;
      skip();
      if (s[i] === '}') unsure();
      continue;
    }
    if (s[i] === '}') return [out, i + 1];
    return unsure();
  }
}

/** Reads the lines of one document. */
class Reader {
  private at = 0;

  constructor(private readonly lines: Line[]) {}

  done(): boolean {
    return this.peek() === undefined;
  }

  /** The next line with content, past blank lines and comments. */
  private peek(): Line | undefined {
    while (this.lines[this.at]?.skip) this.at++;
    return this.lines[this.at];
  }

  /** A block node whose lines are indented more than `parent`. */
  block(parent: number): unknown {
    const line = this.peek();
    if (!line || line.indent <= parent) return null;
    return isItem(line.text) ? this.sequence(line.indent) : this.mapping(line.indent);
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.peek(); line && line.indent === indent && isItem(line.text);) {
      let rest = line.text.slice(1);
      const spaces = rest.length - rest.trimStart().length;
      rest = rest.trimStart();
      if (!rest || rest.startsWith('#')) {
        this.at++;
        out.push(this.block(indent));
      } else if (isItem(rest)) {
        return unsure();
      } else if (rest[0] !== '[' && rest[0] !== '{' && keyOf(rest)) {
        // A compact mapping: `- name: x` continues on the lines indented like `name`.
        line.indent = indent + 1 + spaces;
        line.text = rest;
        out.push(this.mapping(line.indent));
      } else {
        out.push(this.inline(rest, indent));
      }
      line = this.peek();
      if (line && line.indent > indent) unsure();
    }
    return out;
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.peek(); line && line.indent === indent && !isItem(line.text);) {
      const parsed = keyOf(line.text) ?? unsure();
      const key = checkKey(parsed.key, parsed.quoted, out);
      const rest = line.text.slice(parsed.end).trimStart();
      if (!rest || rest.startsWith('#')) {
        this.at++;
        const next = this.peek();
        out[key] =
          next && next.indent === indent && isItem(next.text)
            ? this.sequence(indent)
            : this.block(indent);
      } else {
        out[key] = this.inline(rest, indent);
      }
      line = this.peek();
      if (line && line.indent > indent) unsure();
    }
    return out;
  }

  /** A value on the current line after its key or `- `, owned by a collection at `indent`. */
  private inline(rest: string, indent: number): unknown {
    this.at++;
    const c = rest[0];
    if (c === '"' || c === "'") {
      const [v, end] = quoted(rest, 0);
      endOfLine(rest, end);
      return v;
    }
    if (c === '[' || c === '{') {
      const [v, end] = flow(rest, 0);
      endOfLine(rest, end);
      return v;
    }
    if (c === '|' || c === '>') return this.blockScalar(rest, indent);
    const v = resolvePlain(plainInBlock(rest));
    const next = this.peek();
    if (next && next.indent > indent) unsure(); // a plain scalar continued on the next lines
    return v;
  }

  /** `|`, `|-`, `>` or `>-` and the lines indented more than `indent` that follow. */
  private blockScalar(header: string, indent: number): string {
    const m = /^([|>])(-?)(?:\s+#.*)?\s*$/.exec(header) ?? unsure();
    const lines: string[] = [];
    let blockIndent = -1;
    while (this.at < this.lines.length) {
      const line = this.lines[this.at]!;
      if (line.indent <= indent && line.text !== '') break;
      if (line.text === '') {
        if (line.spaces || blockIndent < 0) unsure(); // spaces-only or leading blank lines
        lines.push('');
      } else {
        if (blockIndent < 0) blockIndent = line.indent;
        if (line.indent !== blockIndent) unsure(); // more-indented lines, or less than the first
        lines.push(line.text);
      }
      this.at++;
    }
    if (blockIndent < 0) unsure();
    while (lines.length && lines[lines.length - 1] === '') {
      lines.pop();
      this.at--; // trailing blank lines belong to what follows (they are blank anyway)
    }
    let body: string;
    if (m[1] === '|') body = lines.join('\n');
    else {
      body = '';
      let blanks = 0;
      for (const [i, l] of lines.entries()) {
        if (l === '') blanks++;
        else {
          if (i > 0) body += blanks ? '\n'.repeat(blanks) : ' ';
          body += l;
          blanks = 0;
        }
      }
    }
    return m[2] === '-' ? body : `${body}\n`;
  }
}

function isItem(text: string): boolean {
  return text[0] === '-' && (text.length === 1 || text[1] === ' ');
}

/** The key at the start of a line (`key:` then a space or the end): key, quoted?, index after `:`. */
function keyOf(text: string): { key: string; quoted: boolean; end: number } | undefined {
  const c = text[0];
  if (c === '"' || c === "'") {
    try {
      const [key, end] = quoted(text, 0);
      if (text[end] === ':' && (end + 1 === text.length || text[end + 1] === ' '))
        return { key, quoted: true, end: end + 1 };
    } catch {
      return undefined;
    }
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon <= 0 || (colon + 1 < text.length && text[colon + 1] !== ' ')) return undefined;
  return { key: text.slice(0, colon), quoted: false, end: colon + 1 };
}

/** Splits a text into lines, each with its indentation. */
function linesOf(text: string): Line[] {
  return text.split('\n').map((raw) => {
    let indent = 0;
    while (raw.charCodeAt(indent) === 32) indent++;
    const body = raw.slice(indent);
    return { indent, text: body, skip: !body || body[0] === '#', spaces: !body && indent > 0 };
  });
}

/**
 * The value of a YAML text when it is plain block YAML this reader is sure of, else undefined
 * (read it with `yaml`). Only a mapping at the top is taken (a properties file is one).
 */
export function readPlainYaml(text: string): Record<string, unknown> | undefined {
  if (/[\t\r\uFEFF]/.test(text) || /^(?:---|\.\.\.|%)/m.test(text)) return undefined;
  try {
    const reader = new Reader(linesOf(text));
    const value = reader.block(-1);
    if (!reader.done() || !value || typeof value !== 'object' || Array.isArray(value))
      return undefined;
    return value as Record<string, unknown>;
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
}
