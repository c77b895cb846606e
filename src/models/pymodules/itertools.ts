/**
 * Python's `itertools` as dbt's `modules.itertools`. Python's iterators are lazy; here each
 * function returns the whole list, which is what a template does with them anyway (loops over
 * them, or `| list`). Tuples come back as tuples so they print as Python prints them.
 */
import { TributaryError } from '../../core/index.js';
import { pyEq, pyIter, splitArgs, tuple } from '../../jinja/index.js';

/** Larger results are refused: a template asking for more is a mistake, not a workload. */
const MAX_ITEMS = 1_000_000;

function guard(n: number, what: string): void {
  if (n > MAX_ITEMS)
    throw new TributaryError(`itertools.${what} would make ${n} items (more than ${MAX_ITEMS})`, {
      code: 'CONFIG',
    });
}

function product(...raw: unknown[]): unknown[][] {
  const { args, kwargs } = splitArgs(raw);
  const repeat = Number(kwargs.repeat ?? 1);
  const pools: unknown[][] = [];
  for (let r = 0; r < repeat; r++) for (const a of args) pools.push(pyIter(a));
  guard(
    pools.reduce((n, p) => n * p.length, 1),
    'product',
  );
  let out: unknown[][] = [[]];
  for (const pool of pools) out = out.flatMap((prefix) => pool.map((x) => [...prefix, x]));
  return out.map((t) => tuple(t));
}

function combinations(iterable: unknown, r: unknown, withReplacement: boolean): unknown[][] {
  const pool = pyIter(iterable);
  const k = Number(r);
  const out: unknown[][] = [];
  const walk = (start: number, acc: unknown[]) => {
    if (acc.length === k) {
      out.push(tuple([...acc]));
      guard(out.length, 'combinations');
      return;
    }
    for (let i = start; i < pool.length; i++) walk(withReplacement ? i : i + 1, [...acc, pool[i]]);
  };
  walk(0, []);
  return out;
}

function permutations(iterable: unknown, r?: unknown): unknown[][] {
  const pool = pyIter(iterable);
  const k = r === undefined || r === null ? pool.length : Number(r);
  const out: unknown[][] = [];
  const walk = (used: boolean[], acc: unknown[]) => {
    if (acc.length === k) {
      out.push(tuple([...acc]));
      guard(out.length, 'permutations');
      return;
    }
    for (let i = 0; i < pool.length; i++) {
      if (used[i]) continue;
      used[i] = true;
      walk(used, [...acc, pool[i]]);
      used[i] = false;
    }
  };
  if (k <= pool.length) walk([], []);
  return out;
}

/** groupby(iterable, key=None): (key, items) pairs of consecutive equal keys. */
async function groupby(...raw: unknown[]): Promise<unknown[][]> {
  const { args, kwargs } = splitArgs(raw);
  const keyFn = (kwargs.key ?? args[1]) as ((x: unknown) => unknown) | null | undefined;
  const out: unknown[][] = [];
  let current: { key: unknown; items: unknown[] } | undefined;
  for (const x of pyIter(args[0])) {
    const key = keyFn ? await keyFn(x) : x;
    if (!current || !pyEq(current.key, key)) {
      current = { key, items: [] };
      out.push(tuple([key, current.items]));
    }
    current.items.push(x);
  }
  return out;
}

function islice(iterable: unknown, ...raw: unknown[]): unknown[] {
  const { args } = splitArgs(raw);
  const items = pyIter(iterable);
  const num = (v: unknown, d: number) => (v === undefined || v === null ? d : Number(v));
  if (args.length <= 1) return items.slice(0, num(args[0], items.length));
  const [start, stop, step] = [num(args[0], 0), num(args[1], items.length), num(args[2], 1)];
  const out: unknown[] = [];
  for (let i = start; i < Math.min(stop, items.length); i += step) out.push(items[i]);
  return out;
}

function zipLongest(...raw: unknown[]): unknown[][] {
  const { args, kwargs } = splitArgs(raw);
  const lists = args.map(pyIter);
  const n = Math.max(0, ...lists.map((l) => l.length));
  const fill = kwargs.fillvalue ?? null;
  return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => (i < l.length ? l[i] : fill))));
}

function accumulate(iterable: unknown, ...raw: unknown[]): unknown[] {
  const { args, kwargs } = splitArgs(raw);
  const fn = (kwargs.func ?? args[0]) as ((a: unknown, b: unknown) => unknown) | undefined;
  const out: unknown[] = [];
  let acc: unknown = kwargs.initial;
  if (acc !== undefined && acc !== null) out.push(acc);
  for (const x of pyIter(iterable)) {
    acc = out.length === 0 ? x : fn ? fn(acc, x) : (acc as number) + (x as number);
    out.push(acc);
  }
  return out;
}

/** `modules.itertools`. */
export function itertoolsModule(): Record<string, unknown> {
  const chain = Object.assign(
    (...raw: unknown[]) => splitArgs(raw).args.flatMap((a) => pyIter(a)),
    { from_iterable: (its: unknown) => pyIter(its).flatMap((a) => pyIter(a)) },
  );
  return {
    product,
    chain,
    combinations: (it: unknown, r: unknown) => combinations(it, r, false),
    combinations_with_replacement: (it: unknown, r: unknown) => combinations(it, r, true),
    permutations,
    groupby,
    islice,
    zip_longest: zipLongest,
    accumulate,
    repeat: (x: unknown, times: unknown) => {
      if (times === undefined)
        throw new TributaryError('itertools.repeat needs times here (no infinite iterators)', {
          code: 'CONFIG',
        });
      guard(Number(times), 'repeat');
      return Array.from({ length: Number(times) }, () => x);
    },
    compress: (data: unknown, selectors: unknown) => {
      const s = pyIter(selectors);
      return pyIter(data).filter((_, i) => Boolean(s[i]));
    },
  };
}
