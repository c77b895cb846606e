/**
 * Secrets (tokens, passwords, API keys, webhook URLs): read at run time from an environment
 * variable or a file, never from tributary.yml. Every connector and alert channel reads them here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TributaryError, isErrno } from '../core/index.js';
import type { SecretRef } from './schema.js';

/** Reads a secret from its env var or file; `where` names the config path for the error. */
export function readSecret(ref: SecretRef, where: string, dir = process.cwd()): string {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') {
      throw new TributaryError(`environment variable ${ref.env} is not set`, {
        code: 'CONFIG',
        location: { path: where },
        hint: `export ${ref.env}=… before running, or point ${where} at a file: { file: path }`,
      });
    }
    return value;
  }
  const path = resolve(dir, ref.file);
  try {
    // A trailing newline is what editors and `echo` add, never part of the secret.
    const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    if (!value) throw new TributaryError(`secret file ${ref.file} is empty`, { code: 'CONFIG' });
    return value;
  } catch (err) {
    if (err instanceof TributaryError) throw err;
    throw new TributaryError(
      `cannot read secret file ${ref.file}${isErrno(err, 'ENOENT') ? ': it does not exist' : ''}`,
      { code: 'CONFIG', location: { file: path, path: where } },
    );
  }
}
