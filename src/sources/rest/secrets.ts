/**
 * Secrets of a REST source (tokens, passwords, API keys): read at run time from an environment
 * variable or a file, never from tributary.yml, and scrubbed from every message Tributary prints.
 * A Redactor knows every secret value (and the encoded forms a request carries them in) so
 * errors and warnings can quote URLs, headers and response bodies without leaking one.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TributaryError, isErrno } from '../../core/index.js';
import type { SecretRef } from '../../project/index.js';

const MASK = '***';

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

/** Replaces every known secret (raw, URL-encoded or base64 as in Basic auth) with `***`. */
export class Redactor {
  private readonly values: string[] = [];

  /** Registers a secret; short values are still masked, since an empty mask would leak nothing anyway. */
  add(...secrets: string[]): this {
    for (const s of secrets) {
      if (!s) continue;
      for (const form of [
        s,
        encodeURIComponent(s),
        new URLSearchParams({ x: s }).toString().slice(2),
      ])
        if (form && !this.values.includes(form)) this.values.push(form);
    }
    // Longest first, so a secret containing another is masked whole.
    this.values.sort((a, b) => b.length - a.length);
    return this;
  }

  /** The text with every secret masked. */
  redact(text: string): string {
    let out = text;
    for (const v of this.values) out = out.split(v).join(MASK);
    return out;
  }
}
