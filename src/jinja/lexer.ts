/**
 * Jinja2's lexer, with the default delimiters and the settings dbt uses: trim_blocks and
 * lstrip_blocks off, keep_trailing_newline off (one trailing newline of the source is dropped),
 * newlines normalised to `\n`, `-` whitespace control on every delimiter and `{% raw %}` blocks
 * handled here as Jinja2 does.
 */
import { TemplateSyntaxError } from './errors.js';

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

/** Decodes Python's unicode-escape rules: known escapes translate, unknown ones (`\d`) stay. */
function decodeEscapes(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g,
    (whole, esc: string) => {
      const simple = SIMPLE_ESCAPES[esc];
      if (simple !== undefined) return simple;
      const c = esc[0]!;
      if (c === 'x' || c === 'u' || c === 'U')
        return String.fromCodePoint(parseInt(esc.slice(1), 16));
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
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lstripNext = false;
  const n = src.length;

  const pushData = (text: string, start: number, end: number, dataLine: number) => {
    if (text) tokens.push({ type: 'data', value: text, line: dataLine, pos: start, end });
  };

  while (pos < n) {
    OPENER_RE.lastIndex = pos;
    const m = OPENER_RE.exec(src);
    const idx = m ? m.index : n;
    let data = src.slice(pos, idx);
    let dataStart = pos;
    if (lstripNext) {
      const stripped = data.replace(/^\s+/, '');
      dataStart += data.length - stripped.length;
      data = stripped;
      lstripNext = false;
    }
    if (!m) {
      pushData(data, dataStart, n, 1 + lineAt(src, dataStart));
      line = 1 + lineAt(src, n);
      break;
    }
    const kind = src[idx + 1]!;
    RAW_BEGIN_RE.lastIndex = idx;
    const raw = kind === '%' ? RAW_BEGIN_RE.exec(src) : null;
    const stripBefore = raw ? raw[1] === '-' : src[idx + 2] === '-';
    if (stripBefore) data = data.replace(/\s+$/, '');
    pushData(data, dataStart, idx, 1 + lineAt(src, dataStart));
    line = 1 + lineAt(src, idx);

    if (raw) {
      RAW_END_RE.lastIndex = idx + raw[0].length;
      const end = RAW_END_RE.exec(src);
      if (!end) throw new TemplateSyntaxError('Missing end of raw directive', file, line);
      let body = src.slice(idx + raw[0].length, end.index);
      if (raw[2] === '-') body = body.replace(/^\s+/, '');
      if (end[1] === '-') body = body.replace(/\s+$/, '');
      pushData(body, idx, end.index, line);
      pos = end.index + end[0].length;
      line = 1 + lineAt(src, pos);
      lstripNext = end[2] === '-';
      continue;
    }

    if (kind === '#') {
      COMMENT_END_RE.lastIndex = idx + 2;
      const end = COMMENT_END_RE.exec(src);
      if (!end) throw new TemplateSyntaxError('Missing end of comment tag', file, line);
      pos = end.index + end[0].length;
      line = 1 + lineAt(src, pos);
      lstripNext = end[1] === '-';
      continue;
    }

    const isVar = kind === '{';
    const beginLen = src[idx + 2] === '-' || src[idx + 2] === '+' ? 3 : 2;
    tokens.push({
      type: isVar ? 'var_begin' : 'block_begin',
      value: src.slice(idx, idx + beginLen),
      line,
      pos: idx,
      end: idx + beginLen,
    });
    pos = idx + beginLen;
    const closer = isVar ? '}}' : '%}';
    const depth: string[] = [];
    let closed = false;
    while (pos < n) {
      const code = src.charCodeAt(pos);
      if (code === 32 || code === 10 || code === 9 || code === 13 || code === 12 || code === 11) {
        if (code === 10) line++;
        pos++;
        continue;
      }
      if (code > 127) {
        WS_RE.lastIndex = pos;
        const ws = WS_RE.exec(src);
        if (ws) {
          line += countLines(ws[0], 0, ws[0].length);
          pos += ws[0].length;
          continue;
        }
      }
      if (depth.length === 0) {
        const marked = src[pos] === '-' || (!isVar && src[pos] === '+');
        if (src.startsWith(closer, pos) || (marked && src.startsWith(closer, pos + 1))) {
          // `+%}` only turns trim_blocks off for this tag, and trim_blocks is off anyway.
          const len = marked ? 3 : 2;
          tokens.push({
            type: isVar ? 'var_end' : 'block_end',
            value: src.slice(pos, pos + len),
            line,
            pos,
            end: pos + len,
          });
          lstripNext = src[pos] === '-';
          pos += len;
          closed = true;
          break;
        }
      }
      const ch = src[pos]!;
      if (ch === "'" || ch === '"') {
        STRING_RE.lastIndex = pos;
        const sm = STRING_RE.exec(src);
        if (!sm) throw new TemplateSyntaxError('unexpected end of string', file, line);
        const rawBody = sm[1] ?? sm[2] ?? '';
        tokens.push({
          type: 'string',
          value: decodeEscapes(rawBody),
          line,
          pos,
          end: pos + sm[0].length,
        });
        line += countLines(sm[0], 0, sm[0].length);
        pos += sm[0].length;
        continue;
      }
      if (ch >= '0' && ch <= '9') {
        FLOAT_RE.lastIndex = pos;
        const fm = src[pos - 1] === '.' ? null : FLOAT_RE.exec(src);
        if (fm) {
          tokens.push({
            type: 'float',
            value: Number(fm[0].replace(/_/g, '')),
            line,
            pos,
            end: pos + fm[0].length,
          });
          pos += fm[0].length;
          continue;
        }
        INT_RE.lastIndex = pos;
        const im = INT_RE.exec(src);
        if (im) {
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
          tokens.push({ type: 'int', value, line, pos, end: pos + im[0].length });
          pos += im[0].length;
          continue;
        }
      }
      if (isNameStart(code)) {
        let e = pos + 1;
        while (e < n && isNamePart(src.charCodeAt(e))) e++;
        tokens.push({ type: 'name', value: src.slice(pos, e), line, pos, end: e });
        pos = e;
        continue;
      }
      const two = src.slice(pos, pos + 2);
      const op = TWO_CHAR_OPS.has(two) ? two : ONE_CHAR_OPS.has(ch) ? ch : undefined;
      if (!op) throw new TemplateSyntaxError(`unexpected char ${JSON.stringify(ch)}`, file, line);
      if (op === '(' || op === '[' || op === '{') depth.push(op);
      else if (op === ')' || op === ']' || op === '}') {
        const open = depth.pop();
        const want = op === ')' ? '(' : op === ']' ? '[' : '{';
        if (open !== want)
          throw new TemplateSyntaxError(
            open
              ? `unexpected '${op}', expected the closing bracket of '${open}'`
              : `unexpected '${op}'`,
            file,
            line,
          );
      }
      tokens.push({ type: 'op', value: op, line, pos, end: pos + op.length });
      pos += op.length;
    }
    if (!closed)
      throw new TemplateSyntaxError(
        `unexpected end of template: the ${isVar ? "'{{'" : "'{%'"} tag is never closed with '${closer}'`,
        file,
        line,
      );
  }
  tokens.push({ type: 'eof', value: '', line, pos: n, end: n });
  return tokens;
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
