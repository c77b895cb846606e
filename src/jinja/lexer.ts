/**
 * Jinja2's lexer, with the default delimiters and the settings dbt uses: trim_blocks and
 * lstrip_blocks off, keep_trailing_newline off (one trailing newline of the source is dropped),
 * newlines normalised to `\n`, `-` whitespace control on every delimiter and `{% raw %}` blocks
 * handled here as Jinja2 does.
 */
import { TemplateSyntaxError } from './errors.js';
import { lookupUnicodeName } from './unicode-names.js';

export type TokenType =
  | 'data'
  | 'var_begin'
  | 'var_end'
  | 'block_begin'
  | 'block_end'
  | 'name'
  | 'string'
  | 'int'
  | 'float'
  | 'op'
  | 'eof';

export interface Token {
  type: TokenType;
  /** Text of names, operators and data; decoded value of strings; numbers for int/float. */
  value: string | number | bigint;
  line: number;
  /** Offsets into the normalised source: where the token starts and ends. */
  pos: number;
  end: number;
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isNamePart(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

const OPERATORS = [
  '//',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '+',
  '-',
  '/',
  '*',
  '%',
  '~',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '<',
  '>',
  '=',
  '.',
  ':',
  '|',
  ',',
  ';',
];

const TWO_CHAR_OPS = new Set(OPERATORS.filter((o) => o.length === 2));
const ONE_CHAR_OPS = new Set(OPERATORS.filter((o) => o.length === 1));
const OPENER_RE = /\{[{%#]/g;
const RAW_BEGIN_RE = /\{%([-+]?)\s*raw\s*(-?)%\}/y;
const RAW_END_RE = /\{%([-+]?)\s*endraw\s*(-?)%\}/g;
const COMMENT_END_RE = /(-?)#\}/g;
const FLOAT_RE = /(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?[eE][+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/y;
const INT_RE =
  /0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0[xX](?:_?[\da-fA-F])+|[1-9](?:_?\d)*|0(?:_?0)*/y;
const STRING_RE = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const WS_RE = /\s+/y;

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\n': '',
};

/** An escape Python's unicode-escape codec refuses; the lexer reports it at the string's line. */
class EscapeError extends Error {}

/** Python's message for a `\x`, `\u` or `\U` escape with too few hex digits. */
const TRUNCATED: Record<string, string> = {
  x: 'truncated \\xXX escape',
  u: 'truncated \\uXXXX escape',
  U: 'truncated \\UXXXXXXXX escape',
};

/** `\N{name}`: the character, as Python's codec decodes it. */
function namedEscape(esc: string): string {
  const name = esc.length > 3 && esc.endsWith('}') ? esc.slice(2, -1) : '';
  if (!name) throw new EscapeError('malformed \\N character escape');
  const cp = lookupUnicodeName(name);
  if (cp === undefined) throw new EscapeError('unknown Unicode character name');
  return String.fromCodePoint(cp);
}

/**
 * Decodes Python's unicode-escape rules: known escapes translate, unknown ones (`\d`) stay, and
 * what the codec refuses (a truncated `\x4`, an unknown `\N{name}`) throws an EscapeError.
 */
function decodeEscapes(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}?|[0-7]{1,3}|[\s\S])/g,
    (whole, esc: string) => {
      const simple = SIMPLE_ESCAPES[esc];
      if (simple !== undefined) return simple;
      const c = esc[0]!;
      if (c === 'N') return namedEscape(esc);
      if (c === 'x' || c === 'u' || c === 'U') {
        if (esc.length === 1) throw new EscapeError(TRUNCATED[c]!);
        const cp = parseInt(esc.slice(1), 16);
        if (cp > 0x10ffff) throw new EscapeError('illegal Unicode character');
        return String.fromCodePoint(cp);
      }
      if (/^[0-7]/.test(esc)) return String.fromCodePoint(parseInt(esc, 8));
      return whole;
    },
  );
}

function countLines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** Normalises newlines and drops one trailing newline, as Jinja2 does by default. */
export function normalizeSource(source: string): string {
  let src = source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
  if (src.endsWith('\n')) src = src.slice(0, -1);
  return src;
}

/** Splits a normalised template source into tokens. */
export function tokenize(src: string, file: string): Token[] {
  return new Lexer(src, file).run();
}

/**
 * One pass over a source. Data runs between tags are cut with regular expressions; inside a tag
 * the scanner walks character codes, since that is where the time goes on large projects.
 */
class Lexer {
  private readonly tokens: Token[] = [];
  private readonly n: number;
  private pos = 0;
  private line = 1;
  /** A `-` on the previous closing delimiter: strip the leading whitespace of the next data. */
  private lstripNext = false;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {
    this.n = src.length;
  }

  run(): Token[] {
    const { src, n } = this;
    while (this.pos < n) {
      OPENER_RE.lastIndex = this.pos;
      const m = OPENER_RE.exec(src);
      const idx = m ? m.index : n;
      let data = src.slice(this.pos, idx);
      let dataStart = this.pos;
      if (this.lstripNext) {
        const stripped = data.replace(/^\s+/, '');
        dataStart += data.length - stripped.length;
        data = stripped;
        this.lstripNext = false;
      }
      if (!m) {
        this.pushData(data, dataStart, n, 1 + lineAt(src, dataStart));
        this.line = 1 + lineAt(src, n);
        break;
      }
      const kind = src[idx + 1]!;
      RAW_BEGIN_RE.lastIndex = idx;
      const raw = kind === '%' ? RAW_BEGIN_RE.exec(src) : null;
      const stripBefore = raw ? raw[1] === '-' : src[idx + 2] === '-';
      if (stripBefore) data = data.replace(/\s+$/, '');
      this.pushData(data, dataStart, idx, 1 + lineAt(src, dataStart));
      this.line = 1 + lineAt(src, idx);
      if (raw) this.rawBlock(idx, raw);
      else if (kind === '#') this.comment(idx);
      else this.tag(idx, kind === '{');
    }
    this.tokens.push({ type: 'eof', value: '', line: this.line, pos: n, end: n });
    return this.tokens;
  }

  private pushData(text: string, start: number, end: number, dataLine: number): void {
    if (text) this.tokens.push({ type: 'data', value: text, line: dataLine, pos: start, end });
  }

  private rawBlock(idx: number, raw: RegExpExecArray): void {
    const { src } = this;
    RAW_END_RE.lastIndex = idx + raw[0].length;
    const end = RAW_END_RE.exec(src);
    if (!end) throw new TemplateSyntaxError('Missing end of raw directive', this.file, this.line);
    let body = src.slice(idx + raw[0].length, end.index);
    if (raw[2] === '-') body = body.replace(/^\s+/, '');
    if (end[1] === '-') body = body.replace(/\s+$/, '');
    this.pushData(body, idx, end.index, this.line);
    this.pos = end.index + end[0].length;
    this.line = 1 + lineAt(src, this.pos);
    this.lstripNext = end[2] === '-';
  }

  private comment(idx: number): void {
    COMMENT_END_RE.lastIndex = idx + 2;
    const end = COMMENT_END_RE.exec(this.src);
    if (!end) throw new TemplateSyntaxError('Missing end of comment tag', this.file, this.line);
    this.pos = end.index + end[0].length;
    this.line = 1 + lineAt(this.src, this.pos);
    this.lstripNext = end[1] === '-';
  }

  /** A `{{ … }}` or `{% … %}` tag: its delimiters and the expression tokens between them. */
  private tag(idx: number, isVar: boolean): void {
    const { src, n } = this;
    const beginLen = src[idx + 2] === '-' || src[idx + 2] === '+' ? 3 : 2;
    this.tokens.push({
      type: isVar ? 'var_begin' : 'block_begin',
      value: src.slice(idx, idx + beginLen),
      line: this.line,
      pos: idx,
      end: idx + beginLen,
    });
    this.pos = idx + beginLen;
    const closer = isVar ? '}}' : '%}';
    const depth: string[] = [];
    while (this.pos < n) {
      if (this.skipWhitespace()) continue;
      if (depth.length === 0 && this.closeTag(closer, isVar)) return;
      const code = src.charCodeAt(this.pos);
      if (code === 39 || code === 34) this.string();
      else if (!(code >= 48 && code <= 57 && this.number()))
        if (isNameStart(code)) this.name();
        else this.operator(depth);
    }
    throw new TemplateSyntaxError(
      `unexpected end of template: the ${isVar ? "'{{'" : "'{%'"} tag is never closed with '${closer}'`,
      this.file,
      this.line,
    );
  }

  /** Steps over whitespace at pos (counting newlines); false when there is none. */
  private skipWhitespace(): boolean {
    const code = this.src.charCodeAt(this.pos);
    if (code === 32 || code === 10 || code === 9 || code === 13 || code === 12 || code === 11) {
      if (code === 10) this.line++;
      this.pos++;
      return true;
    }
    if (code > 127) {
      WS_RE.lastIndex = this.pos;
      const ws = WS_RE.exec(this.src);
      if (ws) {
        this.line += countLines(ws[0], 0, ws[0].length);
        this.pos += ws[0].length;
        return true;
      }
    }
    return false;
  }

  /** The tag's closing delimiter at pos, with its `-`/`+` marker; false when it is not there. */
  private closeTag(closer: string, isVar: boolean): boolean {
    const { src, pos } = this;
    const marked = src[pos] === '-' || (!isVar && src[pos] === '+');
    if (!src.startsWith(closer, pos) && !(marked && src.startsWith(closer, pos + 1))) return false;
    // `+%}` only turns trim_blocks off for this tag, and trim_blocks is off anyway.
    const len = marked ? 3 : 2;
    this.tokens.push({
      type: isVar ? 'var_end' : 'block_end',
      value: src.slice(pos, pos + len),
      line: this.line,
      pos,
      end: pos + len,
    });
    this.lstripNext = src[pos] === '-';
    this.pos = pos + len;
    return true;
  }

  private string(): void {
    const { src, pos } = this;
    STRING_RE.lastIndex = pos;
    const sm = STRING_RE.exec(src);
    if (!sm) throw new TemplateSyntaxError('unexpected end of string', this.file, this.line);
    const rawBody = sm[1] ?? sm[2] ?? '';
    let value: string;
    try {
      value = decodeEscapes(rawBody);
    } catch (e) {
      if (!(e instanceof EscapeError)) throw e;
      throw new TemplateSyntaxError(e.message, this.file, this.line);
    }
    this.tokens.push({
      type: 'string',
      value,
      line: this.line,
      pos,
      end: pos + sm[0].length,
    });
    this.line += countLines(sm[0], 0, sm[0].length);
    this.pos += sm[0].length;
  }

  /** A float or int literal at pos (Python's syntax, `_` separators); false when none matches. */
  private number(): boolean {
    const { src, pos, line } = this;
    FLOAT_RE.lastIndex = pos;
    const fm = src[pos - 1] === '.' ? null : FLOAT_RE.exec(src);
    if (fm) {
      const value = Number(fm[0].replace(/_/g, ''));
      this.tokens.push({ type: 'float', value, line, pos, end: pos + fm[0].length });
      this.pos += fm[0].length;
      return true;
    }
    INT_RE.lastIndex = pos;
    const im = INT_RE.exec(src);
    if (!im) return false;
    const t = im[0].replace(/_/g, '').toLowerCase();
    let value: number | bigint = t.startsWith('0b')
      ? parseInt(t.slice(2), 2)
      : t.startsWith('0o')
        ? parseInt(t.slice(2), 8)
        : t.startsWith('0x')
          ? parseInt(t.slice(2), 16)
          : Number(t);
    // Python ints have no size limit: past 2**53 a literal is kept exact as a BigInt.
    if (!Number.isSafeInteger(value)) value = BigInt(t);
    this.tokens.push({ type: 'int', value, line, pos, end: pos + im[0].length });
    this.pos += im[0].length;
    return true;
  }

  private name(): void {
    const { src, n, pos } = this;
    let e = pos + 1;
    while (e < n && isNamePart(src.charCodeAt(e))) e++;
    this.tokens.push({ type: 'name', value: src.slice(pos, e), line: this.line, pos, end: e });
    this.pos = e;
  }

  /** An operator at pos; brackets must pair up inside the tag. */
  private operator(depth: string[]): void {
    const { src, pos } = this;
    const ch = src[pos]!;
    const two = src.slice(pos, pos + 2);
    const op = TWO_CHAR_OPS.has(two) ? two : ONE_CHAR_OPS.has(ch) ? ch : undefined;
    if (!op)
      throw new TemplateSyntaxError(`unexpected char ${JSON.stringify(ch)}`, this.file, this.line);
    if (op === '(' || op === '[' || op === '{') depth.push(op);
    else if (op === ')' || op === ']' || op === '}') {
      const open = depth.pop();
      const want = op === ')' ? '(' : op === ']' ? '[' : '{';
      if (open !== want)
        throw new TemplateSyntaxError(
          open
            ? `unexpected '${op}', expected the closing bracket of '${open}'`
            : `unexpected '${op}'`,
          this.file,
          this.line,
        );
    }
    this.tokens.push({ type: 'op', value: op, line: this.line, pos, end: pos + op.length });
    this.pos += op.length;
  }
}

// Line numbers from offsets: a sorted list of newline offsets, built once per source string.
let cachedSrc = '';
let cachedNl: number[] = [];
function lineAt(src: string, offset: number): number {
  if (src !== cachedSrc) {
    cachedSrc = src;
    cachedNl = [];
    for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) cachedNl.push(i);
  }
  let lo = 0;
  let hi = cachedNl.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cachedNl[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
