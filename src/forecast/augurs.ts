/**
 * @bsull/augurs (Grafana's augurs, Rust compiled to WebAssembly): AutoETS, MSTL and seasonality
 * detection. Each of its modules ships its .wasm beside its .js; the package's default loader
 * fetches it by URL, which Node cannot do for file: URLs. So each module is instantiated here,
 * synchronously and once, with `initSync` and the bytes read from the installed package: nothing
 * is fetched and nothing runs until a method first needs it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AutoETS, initSync as initEts } from '@bsull/augurs/ets';
import { MSTL, initSync as initMstl } from '@bsull/augurs/mstl';
import { initSync as initSeasons, seasonalities } from '@bsull/augurs/seasons';
import { TributaryError } from '../core/index.js';

type ModuleName = 'ets' | 'mstl' | 'seasons';

const initialised = new Set<ModuleName>();

/** The folder of the installed package, found through Node's resolver (works from dist/ too). */
function packageDirectory(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@bsull/augurs/ets'));
}

function ensure(module: ModuleName): void {
  if (initialised.has(module)) return;
  const file = join(packageDirectory(), `${module}_bg.wasm`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new TributaryError(`cannot read augurs WebAssembly module ${file}`, {
      code: 'INTERNAL',
      hint: 'reinstall dependencies (npm ci): @bsull/augurs ships its .wasm files in the package',
      cause: err,
    });
  }
  const init = module === 'ets' ? initEts : module === 'mstl' ? initMstl : initSeasons;
  init({ module: bytes });
  initialised.add(module);
}

/** augurs's AutoETS class, its WebAssembly instantiated. */
export function autoEts(): typeof AutoETS {
  ensure('ets');
  return AutoETS;
}

/** augurs's MSTL class, its WebAssembly instantiated. */
export function mstl(): typeof MSTL {
  ensure('mstl');
  return MSTL;
}

/** Seasonal periods augurs finds in y by its periodogram (default options). */
export function detectSeasonalities(y: ArrayLike<number>): number[] {
  ensure('seasons');
  return Array.from(seasonalities(Float64Array.from(y)));
}

/** Anything with a `free()`: augurs objects live in WebAssembly memory until freed. */
export function withFreed<T extends { free(): void }, R>(value: T, use: (value: T) => R): R {
  try {
    return use(value);
  } finally {
    value.free();
  }
}
