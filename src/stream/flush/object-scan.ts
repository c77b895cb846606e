/**
 * A validating scan of an event's bytes that answers "is this one JSON object, nested at most
 * `maxDepth` levels, with no top-level member of these names?" without building it. The flusher
 * renders every record's line, and a JSON.parse of each event only to learn that it is an object
 * was the largest cost of its rendering (bench/RESULTS.md, bench:stream); this scan builds no
 * strings or objects, so an event's bytes go to its line as they are.
 *
 * It is exact where it says yes: it accepts only what JSON.parse of the bytes (as UTF-8) would
 * read as an object. Anything it does not settle (not UTF-8, a byte-order mark, a top-level name
 * with an escape, too deep, any syntax error) gives undefined, and the caller takes the general
 * path, which names the problem as before.
 */
import { isUtf8 } from 'node:buffer';

/** Where the object's text lies in the bytes, for splicing the metadata into it. */
export interface ObjectShape {
  /** Offset of the opening `{` (after leading whitespace). */
  open: number;
  /** Offset of the closing `}` of the top-level object. */
  close: number;
  /** Whether the object has no members. */
  empty: boolean;
  /** Whether a line break (CR or LF, whitespace outside strings) occurs inside the object. */
  lineBreaks: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** JSON's four whitespace bytes: space, tab, LF, CR. */
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** The bytes after `\` that JSON allows (besides `u`): " \ / b f n r t. */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** An Int32 view of the last buffer scanned, so string bytes are checked four at a time. */
let wordsOf: ArrayBufferLike | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

function wordsOver(b: Uint8Array): Int32Array<ArrayBufferLike> {
  if (b.buffer !== wordsOf) {
    wordsOf = b.buffer;
    words = new Int32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
  }
  return words;
}

/** Below this many bytes a string's bytes are checked one by one (no word view needed). */
const WORD_CHECK_BYTES = 16;

/**
 * The first offset in [from, to) of a control byte (below 0x20) or a backslash; `to` when there
 * is none. Long stretches (a 1 KB event's padding, URLs, user agents) are checked a 32-bit word
 * at a time with the "has a byte less than n" and "has a zero byte" tests, which never miss such
 * a byte; a word they flag is looked at byte by byte. Byte by byte, this check was the flusher's
 * largest cost after the garbage collector (bench:stream, issue 15).
 */
function plainUntil(b: Uint8Array, from: number, to: number): number {
  let k = from;
  if (to - from >= WORD_CHECK_BYTES) {
    const w = wordsOver(b);
    const base = b.byteOffset;
    for (; ((base + k) & 3) !== 0; k++) {
      const c = b[k]!;
      if (c < 0x20 || c === BACKSLASH) return k;
    }
    let word = (base + k) >>> 2;
    const end = (base + to) >>> 2; // words wholly before `to`
    for (; word < end; word++) {
      const x = w[word]!;
      const y = x ^ 0x5c5c5c5c; // a zero byte where x has a backslash
      if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) break;
    }
    k = word * 4 - base;
  }
  for (; k < to; k++) {
    const c = b[k]!;
    if (c < 0x20 || c === BACKSLASH) return k;
  }
  return to;
}

/** Offset just past the string whose opening quote is at `at - 1`; -1 when it is not valid. */
function stringEnd(b: Uint8Array, at: number): number {
  let i = at;
  for (;;) {
    // The closing quote candidate found natively; the bytes before it must hold no control byte,
    // and escapes, rare in events, are stepped over one by one.
    const quote = b.indexOf(QUOTE, i);
    if (quote < 0) return -1;
    const escape = plainUntil(b, i, quote);
    if (escape === quote) return quote + 1;
    if (b[escape]! < 0x20) return -1;
    const e = b[escape + 1];
    if (e === 0x75) {
      const h = escape + 2;
      if (!(isHex(b[h]!) && isHex(b[h + 1]!) && isHex(b[h + 2]!) && isHex(b[h + 3]!))) return -1;
      i = escape + 6;
    } else if (e !== undefined && SIMPLE_ESCAPES.has(e)) i = escape + 2;
    else return -1;
  }
}

/** Offset just past the number starting at `at`; -1 when it is not a JSON number. */
function numberEnd(b: Uint8Array, at: number): number {
  let i = at;
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (b[i]! >= 0x31 && b[i]! <= 0x39) while (isDigit(b[i]!)) i++;
  else return -1;
  if (b[i] === 0x2e) {
    i++;
    if (!isDigit(b[i]!)) return -1;
    while (isDigit(b[i]!)) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!isDigit(b[i]!)) return -1;
    while (isDigit(b[i]!)) i++;
  }
  return i;
}

/** Offset just past `word` (true, false, null) at `at`; -1 when it is not there. */
function literalEnd(b: Uint8Array, at: number, word: Uint8Array): number {
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return -1;
  return at + word.length;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** Offset just past the scalar (string, number, literal) at `at`; -1 when it is not one. */
function scalarEnd(b: Uint8Array, at: number): number {
  const c = b[at]!;
  if (c === QUOTE) return stringEnd(b, at + 1);
  if (c === 0x2d || isDigit(c)) return numberEnd(b, at);
  if (c === 0x74) return literalEnd(b, at, TRUE);
  if (c === 0x66) return literalEnd(b, at, FALSE);
  if (c === 0x6e) return literalEnd(b, at, NULL);
  return -1;
}

/** Whether the bytes [start, end) equal one of `names` (ASCII, no escapes). */
function isOneOf(b: Uint8Array, start: number, end: number, names: readonly Uint8Array[]): boolean {
  outer: for (const name of names) {
    if (name.length !== end - start) continue;
    for (let k = 0; k < name.length; k++) if (b[start + k] !== name[k]) continue outer;
    return true;
  }
  return false;
}

/** Byte forms of member names, for `scanObject`'s `reserved`. */
export function reservedNames(names: readonly string[]): Uint8Array[] {
  return names.map((n) => Buffer.from(n, 'utf8'));
}

/** Container kinds on the scan's stack. */
const IN_OBJECT = 1;
const IN_ARRAY = 2;
/** The stack, reused by every scan (the scan is synchronous, so never shared). */
let scanStack = new Uint8Array(1024);

/**
 * Scans `b` as one JSON object (whitespace around it allowed). Returns its shape, or undefined
 * when it is anything else, nests deeper than `maxDepth`, or has a top-level member named in
 * `reserved` (or a top-level name with an escape, which might spell one).
 */
export function scanObject(
  b: Uint8Array,
  maxDepth: number,
  reserved: readonly Uint8Array[],
): ObjectShape | undefined {
  if (!isUtf8(b)) return undefined;
  const n = b.length;
  let i = 0;
  while (i < n && isSpace(b[i]!)) i++;
  if (b[i] !== OPEN_OBJECT) return undefined;
  const open = i;
  if (scanStack.length < maxDepth) scanStack = new Uint8Array(maxDepth);
  const stack = scanStack;
  let depth = 0;
  let lineBreaks = false;
  let close = -1;
  // `expect`: 0 a value, 1 a member name (or `}` right after `{`), 2 what follows a value.
  let expect = 0;
  let firstInContainer = false;
  while (close < 0) {
    while (i < n && isSpace(b[i]!)) {
      if (b[i] === 0x0a || b[i] === 0x0d) lineBreaks = true;
      i++;
    }
    if (i >= n) return undefined;
    const c = b[i]!;
    if (expect === 1) {
      if (c === CLOSE_OBJECT && firstInContainer) {
        depth--;
        if (depth === 0) close = i;
        i++;
        expect = 2;
        firstInContainer = false;
        continue;
      }
      if (c !== QUOTE) return undefined;
      const end = stringEnd(b, i + 1);
      if (end < 0) return undefined;
      if (depth === 1) {
        for (let k = i + 1; k < end - 1; k++) if (b[k] === BACKSLASH) return undefined;
        if (isOneOf(b, i + 1, end - 1, reserved)) return undefined;
      }
      i = end;
      while (i < n && isSpace(b[i]!)) {
        if (b[i] === 0x0a || b[i] === 0x0d) lineBreaks = true;
        i++;
      }
      if (b[i] !== COLON) return undefined;
      i++;
      expect = 0;
      firstInContainer = false;
    } else if (expect === 0) {
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (depth === maxDepth) return undefined;
        stack[depth++] = c === OPEN_OBJECT ? IN_OBJECT : IN_ARRAY;
        i++;
        expect = c === OPEN_OBJECT ? 1 : 0;
        firstInContainer = true;
        continue;
      }
      if (c === CLOSE_ARRAY && firstInContainer) {
        // `[]`: only reachable right after `[` (a `{` expects a name next, not a value).
        depth--;
        i++;
      } else {
        i = scalarEnd(b, i);
        if (i < 0) return undefined;
      }
      expect = 2;
      firstInContainer = false;
    } else {
      const inside = stack[depth - 1];
      if (c === COMMA) {
        i++;
        expect = inside === IN_OBJECT ? 1 : 0;
      } else if (
        (c === CLOSE_OBJECT && inside === IN_OBJECT) ||
        (c === CLOSE_ARRAY && inside === IN_ARRAY)
      ) {
        depth--;
        if (depth === 0) close = i;
        i++;
      } else return undefined;
    }
  }
  for (let k = close + 1; k < n; k++) if (!isSpace(b[k]!)) return undefined;
  let first = open + 1;
  while (isSpace(b[first]!)) first++;
  return { open, close, empty: first === close, lineBreaks };
}
