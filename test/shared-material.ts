/**
 * Where the workplace's read-only shared material is: dbt-utils at a fixed commit (issue 14's
 * proof) and dbt's published artifact schemas. Tests read it there and never copy it into the
 * repository. TRIBUTARY_SHARED_DIR wins; else `../shared` beside the checkout; else
 * `/work/shared`, where this machine keeps it, so a checkout made elsewhere (CI clones main into
 * a scratch folder) still finds it. Suites needing it say plainly that they did not run when it
 * is absent, and fail under CI=true.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

function candidates(): string[] {
  const fromEnv = process.env.TRIBUTARY_SHARED_DIR;
  if (fromEnv) return [resolve(fromEnv)];
  return [resolve(import.meta.dirname, '../../shared'), '/work/shared'];
}

/** The shared folder, or the first place looked at when none exists (for the message). */
export function sharedDir(): string {
  const all = candidates();
  return all.find((d) => existsSync(d)) ?? all[0]!;
}

/** A path inside the shared folder. */
export function sharedPath(...parts: string[]): string {
  return resolve(sharedDir(), ...parts);
}
