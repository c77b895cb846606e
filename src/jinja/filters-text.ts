/**
 * Jinja2's text-layout and HTML filters that follow Python library code closely: `wordwrap`
 * (textwrap.wrap), `filesizeformat`, `urlize` (jinja2.utils.urlize), `xmlattr` and `random`.
 */
import { pySplitlines, pyToFixed } from './python.js';
import { undef, type FilterImpl } from './runtime/state.js';
import {
  JinjaUndefined,
  TemplateRuntimeError,
  dictEntries,
  failUndefined,
  isDictView,
  isMapping,
  isNumber,
  num,
  pyIter,
  pyEq,
  pyLen,
  pyRepr,
  pyStr,
  truthy,
  typeName,
} from './values.js';

/** markupsafe.escape of a value's str(). */
export function htmlEscapeValue(v: unknown): string {
  return pyStr(v)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

function opt(kw: Record<string, unknown>, a: unknown[], i: number, name: string, d: unknown) {
  if (i < a.length) return a[i];
  return Object.hasOwn(kw, name) ? kw[name] : d;
}

// --- wordwrap: Python's textwrap.wrap with expand_tabs / replace_whitespace off -------------------

const WS = '[\\t\\n\\x0b\\x0c\\r ]';
const NWS = '[^\\t\\n\\x0b\\x0c\\r ]';
const WP = '[\\p{L}\\p{N}_!"\'&.,?]';
const LT = '[\\p{L}_]';
/** textwrap.TextWrapper.wordsep_re: whitespace, em-dashes, and words split after hyphens. */
const WORDSEP = new RegExp(
  `(${WS}+|(?<=${WP})-{2,}(?=[\\p{L}\\p{N}_])|${NWS}+?(?:-(?:(?<=${LT}{2}-)|(?<=${LT}-${LT}-))(?=${LT}-?${LT})|(?=${WS}|$)|(?<=${WP})(?=-{2,}[\\p{L}\\p{N}_])))`,
  'u',
);
const WORDSEP_SIMPLE = new RegExp(`(${WS}+)`);

function wrapLine(text: string, width: number, breakLong: boolean, hyphens: boolean): string[] {
  const chunks = text.split(hyphens ? WORDSEP : WORDSEP_SIMPLE).filter((c) => c);
  chunks.reverse();
  const lines: string[] = [];
  const blank = (c: string) => c.trim() === '';
  while (chunks.length) {
    const cur: string[] = [];
    let len = 0;
    if (blank(chunks[chunks.length - 1]!) && lines.length) chunks.pop();
    while (chunks.length) {
      const l = [...chunks[chunks.length - 1]!].length;
      if (len + l > width) break;
      cur.push(chunks.pop()!);
      len += l;
    }
    if (chunks.length && [...chunks[chunks.length - 1]!].length > width) {
      const spaceLeft = width < 1 ? 1 : width - len;
      if (breakLong) {
        const chunk = [...chunks[chunks.length - 1]!];
        let end = spaceLeft;
        if (hyphens && chunk.length > spaceLeft) {
          const hyphen = chunk.slice(0, spaceLeft).lastIndexOf('-');
          if (hyphen > 0 && chunk.slice(0, hyphen).some((c) => c !== '-')) end = hyphen + 1;
        }
        cur.push(chunk.slice(0, end).join(''));
        chunks[chunks.length - 1] = chunk.slice(end).join('');
      } else if (!cur.length) cur.push(chunks.pop()!);
    }
    if (cur.length && blank(cur[cur.length - 1]!)) cur.pop();
    if (cur.length) lines.push(cur.join(''));
  }
  return lines;
}

const wordwrap: FilterImpl = (_st, v, a, kw) => {
  if (v instanceof JinjaUndefined) failUndefined(v);
  if (typeof v !== 'string')
    throw new TemplateRuntimeError(`'${typeName(v)}' object has no attribute 'splitlines'`);
  const width = Math.trunc(num(opt(kw, a, 0, 'width', 79)));
  if (width <= 0) throw new TemplateRuntimeError(`invalid width ${width} (must be > 0)`);
  const breakLong = truthy(opt(kw, a, 1, 'break_long_words', true));
  const wrapstring = opt(kw, a, 2, 'wrapstring', null);
  const sep = wrapstring === null || wrapstring === undefined ? '\n' : pyStr(wrapstring);
  const hyphens = truthy(opt(kw, a, 3, 'break_on_hyphens', true));
  return pySplitlines(v)
    .map((line) => wrapLine(line, width, breakLong, hyphens).join(sep))
    .join(sep);
};

// --- filesizeformat -------------------------------------------------------------------------

function pyFloatOf(v: unknown): number {
  if (v instanceof JinjaUndefined) failUndefined(v);
  if (isNumber(v)) return num(v);
  if (typeof v === 'string') {
    const t = v.trim().replace(/_/g, '');
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
    if (/^[+-]?(inf|infinity|nan)$/i.test(t)) return Number(t.replace(/inf(inity)?/i, 'Infinity'));
    throw new TemplateRuntimeError(`could not convert string to float: ${pyRepr(v)}`);
  }
  throw new TemplateRuntimeError(
    `float() argument must be a string or a real number, not '${typeName(v)}'`,
  );
}

const filesizeformat: FilterImpl = (_st, v, a, kw) => {
  const bytes = pyFloatOf(v);
  const binary = truthy(opt(kw, a, 0, 'binary', false));
  const base = binary ? 1024 : 1000;
  const prefixes = binary
    ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
    : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes === 1) return '1 Byte';
  if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
  let unit = 0;
  for (let i = 0; i < prefixes.length; i++) {
    unit = base ** (i + 2);
    if (bytes < unit) return `${pyToFixed((base * bytes) / unit, 1)} ${prefixes[i]}`;
  }
  return `${pyToFixed((base * bytes) / unit, 1)} ${prefixes[prefixes.length - 1]}`;
};

// --- urlize ----------------------------------------------------------------------------------

/** Python's `\w` (Unicode), and `[\w%-]` / `[\w%]` / `[\w.-]` as jinja2.utils writes them. */
const W = '[\\p{L}\\p{N}_]';
const W_PCT_DASH = '[\\p{L}\\p{N}_%-]';
const W_PCT = '[\\p{L}\\p{N}_%]';
const W_DOT_DASH = '[\\p{L}\\p{N}_.-]';
const HTTP_RE = new RegExp(
  `^((https?://|www\\.)((${W_PCT_DASH}+\\.)+)?([a-z]{2,63}|xn--${W_PCT}{2,59})|(${W_PCT_DASH}{2,63}\\.)+(com|net|int|edu|gov|org|info|mil)|(https?://)((([\\d]{1,3})(\\.[\\d]{1,3}){3})|(\\[([\\da-f]{0,4}:){2}([\\da-f]{0,4}:?){1,6}\\])))(?::[\\d]{1,5})?(?:[/?#]\\S*)?$`,
  'iu',
);
const EMAIL_RE = new RegExp(`^\\S+@${W}${W_DOT_DASH}*\\.${W}+$`, 'u');

function urlizeWord(word: string, trim: (x: string) => string, attrs: string): string {
  let head = '';
  let middle = word;
  let tail = '';
  const lead = /^([(<]|&lt;)+/.exec(middle);
  if (lead) {
    head = lead[0];
    middle = middle.slice(lead[0].length);
  }
  const trail = /([)>.,\n]|&gt;)+$/.exec(middle);
  if (trail) {
    tail = trail[0];
    middle = middle.slice(0, trail.index);
  }
  for (const [open, close] of [
    ['(', ')'],
    ['<', '>'],
    ['&lt;', '&gt;'],
  ] as const) {
    const opens = middle.split(open).length - 1;
    if (opens <= middle.split(close).length - 1) continue;
    const moves = Math.min(opens, tail.split(close).length - 1);
    for (let i = 0; i < moves; i++) {
      const end = tail.indexOf(close) + close.length;
      middle += tail.slice(0, end);
      tail = tail.slice(end);
    }
  }
  if (HTTP_RE.test(middle)) {
    const href =
      middle.startsWith('https://') || middle.startsWith('http://') ? middle : `https://${middle}`;
    middle = `<a href="${href}"${attrs}>${trim(middle)}</a>`;
  } else if (middle.startsWith('mailto:') && EMAIL_RE.test(middle.slice(7))) {
    middle = `<a href="${middle}">${middle.slice(7)}</a>`;
  } else if (
    middle.includes('@') &&
    !middle.startsWith('www.') &&
    !middle.includes(':') &&
    EMAIL_RE.test(middle)
  ) {
    middle = `<a href="mailto:${middle}">${middle}</a>`;
  }
  return head + middle + tail;
}

const urlize: FilterImpl = (_st, v, a, kw) => {
  const limit = opt(kw, a, 0, 'trim_url_limit', null);
  const nofollow = truthy(opt(kw, a, 1, 'nofollow', false));
  const target = opt(kw, a, 2, 'target', null);
  const relIn = opt(kw, a, 3, 'rel', null);
  const rel = new Set(
    pyStr(relIn ?? '')
      .split(/\s+/)
      .filter((x) => x),
  );
  if (nofollow) rel.add('nofollow');
  rel.add('noopener'); // Jinja2's default urlize.rel policy
  const relText = [...rel].sort().join(' ');
  const attrs =
    (relText ? ` rel="${htmlEscapeValue(relText)}"` : '') +
    (target !== null && target !== undefined && truthy(target)
      ? ` target="${htmlEscapeValue(target)}"`
      : '');
  const n = limit === null || limit === undefined ? null : Math.trunc(num(limit));
  const trim = (x: string) =>
    n !== null && [...x].length > n ? `${[...x].slice(0, n).join('')}...` : x;
  const text = v instanceof JinjaUndefined ? '' : htmlEscapeValue(v);
  return text
    .split(/(\s+)/)
    .map((w) => urlizeWord(w, trim, attrs))
    .join('');
};

// --- xmlattr and random ----------------------------------------------------------------------

const xmlattr: FilterImpl = (_st, v, a, kw) => {
  if (v instanceof JinjaUndefined) failUndefined(v);
  if (!isMapping(v))
    throw new TemplateRuntimeError(`'${typeName(v)}' object has no attribute 'items'`);
  const items: string[] = [];
  for (const [k, x] of dictEntries(v)) {
    if (x === null || x === undefined || x instanceof JinjaUndefined) continue;
    const key = pyStr(k);
    if (/[\s/>=]/.test(key))
      throw new TemplateRuntimeError(`Invalid character in attribute name: ${pyRepr(k)}`);
    items.push(`${htmlEscapeValue(key)}="${htmlEscapeValue(x)}"`);
  }
  const rv = items.join(' ');
  return truthy(opt(kw, a, 0, 'autospace', true)) && rv ? ` ${rv}` : rv;
};

/**
 * random.choice(seq): `seq[i]` for a random i below len(seq), so a dict answers for the int key
 * i (KeyError when it has none) and dict views, which have no [], raise. Jinja2 turns the
 * IndexError of an empty sequence into Undefined.
 */
const random: FilterImpl = (st, v) => {
  const n = pyLen(v);
  if (!n) return undef(st, null, 'No random item, sequence was empty.');
  const i = Math.floor(Math.random() * n);
  if (isMapping(v)) {
    const hit = dictEntries(v).find(([k]) => pyEq(k, i));
    if (!hit) throw new TemplateRuntimeError(`KeyError: ${i}`);
    return hit[1];
  }
  if (isDictView(v)) throw new TemplateRuntimeError(`'${typeName(v)}' object is not subscriptable`);
  return pyIter(v)[i];
};

/** The filters of this module by name. */
export const TEXT_FILTERS: Record<string, FilterImpl> = {
  wordwrap,
  filesizeformat,
  urlize,
  xmlattr,
  random,
};
