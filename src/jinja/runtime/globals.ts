/**
 * Jinja2's default globals: range, dict, namespace, cycler and joiner. dbt adds its own
 * (ref, config, adapter…) through the globals passed to render, which take precedence.
 */
import {
  Namespace,
  PyDict,
  TemplateRuntimeError,
  markRange,
  tuple,
  pyStr,
  splitArgs,
  typeName,
} from '../values.js';
import { fromkeys, updateFrom } from '../python.js';

/** Jinja2's sandbox refuses ranges longer than this; so do we, to stop runaway loops. */
const MAX_RANGE = 100_000;

/** Python's range(stop) / range(start, stop[, step]) as a list. */
function range(...raw: unknown[]): number[] {
  const { args } = splitArgs(raw);
  for (const a of args)
    if (typeof a !== 'number' || !Number.isInteger(a))
      throw new TemplateRuntimeError(`'${typeName(a)}' object cannot be interpreted as an integer`);
  let start = 0;
  let stop: number;
  let step = 1;
  if (args.length === 1) stop = args[0] as number;
  else if (args.length === 2 || args.length === 3) {
    start = args[0] as number;
    stop = args[1] as number;
    if (args.length === 3) step = args[2] as number;
  } else throw new TemplateRuntimeError(`range expected 1 to 3 arguments, got ${args.length}`);
  if (step === 0) throw new TemplateRuntimeError('range() arg 3 must not be zero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (n > MAX_RANGE)
    throw new TemplateRuntimeError(`range too big, maximum size for range is ${MAX_RANGE}`);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return markRange(out, start, stop, step);
}

/** Python's dict(mapping_or_pairs, **kwargs). */
function dict(...raw: unknown[]): PyDict {
  const { args, kwargs } = splitArgs(raw);
  if (args.length > 1)
    throw new TemplateRuntimeError(`dict expected at most 1 argument, got ${args.length}`);
  const out = new PyDict();
  if (args.length) updateFrom(out, args[0]);
  for (const k in kwargs) out.set(k, kwargs[k]);
  return out;
}

dict.fromkeys = (keys: unknown, value: unknown = null) => fromkeys(keys, value);

/** Jinja2's Namespace(*args, **kwargs) takes its attributes as dict(*args, **kwargs) would. */
function namespace(...raw: unknown[]): Namespace {
  const ns = new Namespace();
  for (const [k, v] of dict(...raw).pyEntries()) ns.attrs[pyStr(k)] = v;
  return ns;
}

/** Jinja2's cycler(): `.next()`, `.current`, `.reset()`. */
class Cycler {
  private pos = 0;
  constructor(private readonly items: unknown[]) {}
  get current(): unknown {
    return this.items[this.pos];
  }
  next(): unknown {
    const v = this.items[this.pos];
    this.pos = (this.pos + 1) % this.items.length;
    return v;
  }
  reset(): void {
    this.pos = 0;
  }
}

function cycler(...raw: unknown[]): Cycler {
  const { args } = splitArgs(raw);
  if (!args.length) throw new TemplateRuntimeError('at least one item has to be provided');
  return new Cycler(tuple(args));
}

function joiner(...raw: unknown[]): () => string {
  const { args, kwargs } = splitArgs(raw);
  const sep = pyStr(args[0] ?? kwargs.sep ?? ', ');
  let used = false;
  return () => {
    if (!used) {
      used = true;
      return '';
    }
    return sep;
  };
}

const LOREM =
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat'.split(
    ' ',
  );

/** Jinja2's lipsum(n=5, html=True, min=20, max=100): random placeholder paragraphs. */
function lipsum(...raw: unknown[]): string {
  const { args, kwargs } = splitArgs(raw);
  const pick = (i: number, name: string, d: number | boolean) =>
    (i < args.length ? args[i] : (kwargs[name] ?? d)) as number | boolean;
  const n = Number(pick(0, 'n', 5));
  const html = pick(1, 'html', true) !== false;
  const min = Number(pick(2, 'min', 20));
  const max = Number(pick(3, 'max', 100));
  const paragraphs: string[] = [];
  for (let p = 0; p < n; p++) {
    // Jinja2 draws each paragraph's length with random.randrange(min, max): max excluded.
    if (max <= min)
      throw new TemplateRuntimeError(`empty range for randrange() (${min}, ${max}, ${max - min})`);
    const len = min + Math.floor(Math.random() * (max - min));
    const words = Array.from(
      { length: len },
      () => LOREM[Math.floor(Math.random() * LOREM.length)],
    );
    const text = words.join(' ');
    const para = `${text[0]!.toUpperCase()}${text.slice(1)}.`;
    paragraphs.push(html ? `<p>${para}</p>` : para);
  }
  return paragraphs.join(html ? '\n' : '\n\n');
}

/** The globals every template sees unless the render's globals shadow them. */
export const BUILTIN_GLOBALS: Record<string, unknown> = Object.assign(
  Object.create(null) as object,
  {
    range,
    dict,
    namespace,
    cycler,
    joiner,
    lipsum,
  },
);
