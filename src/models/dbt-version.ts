/**
 * The dbt version Tributary answers to: `dbt_version` in the Jinja context and the version a
 * project's or package's `require-dbt-version` is checked against. Tributary implements
 * dbt-core 1.9's semantics, so it reports 1.9.0. A range that leaves it out is a warning, never
 * a failure (dbt fails unless --no-version-check): most ranges only guard features Tributary has.
 */

/** The dbt-core version whose behaviour Tributary follows. */
export const DBT_VERSION = '1.9.0';

type Triple = [number, number, number];

/** `1`, `1.8` or `1.8.2` (a pre-release or build suffix is ignored) as three numbers. */
function parseVersion(text: string): Triple | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

const OPERATORS: Record<string, (c: number) => boolean> = {
  '>=': (c) => c >= 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '<': (c) => c < 0,
  '=': (c) => c === 0,
  '': (c) => c === 0,
};

/**
 * Whether `version` meets every specifier of a require-dbt-version list (dbt reads the list as
 * all of them at once, e.g. [">=1.3.0", "<2.0.0"]). Undefined when a specifier is unreadable.
 */
export function versionSatisfies(version: string, specifiers: string[]): boolean | undefined {
  const have = parseVersion(version);
  if (!have) return undefined;
  for (const spec of specifiers) {
    const m = /^\s*(>=|<=|>|<|=)?\s*(.+)$/.exec(spec);
    const want = m ? parseVersion(m[2]!) : undefined;
    if (!m || !want) return undefined;
    if (!OPERATORS[m[1] ?? '']!(compare(have, want))) return false;
  }
  return true;
}
