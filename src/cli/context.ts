/**
 * What every command's registration shares: the global options as they are when the command
 * runs (commander parses them before any action), output helpers, and the argument parsers.
 */
import { InvalidArgumentError } from 'commander';
import type { ProgressReporter } from '../core/index.js';
import type { ColumnInfo } from '../engines/index.js';
import type { Output } from './output.js';

/** The global options and output of one command-line invocation. */
export interface CliContext {
  /** The project folder (`-p/--project`, or dbt's `--project-dir`). */
  project(): string;
  quiet(): boolean;
  /** A progress line on stderr (silent with -q or off a terminal); clear() before printing. */
  progress(): ProgressReporter & { clear(): void };
  output(): Output;
}

/** Data to stdout, ending in one newline. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

export const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
};

/** A column of a printed table (formatTable). */
export const column = (name: string, kind: 'string' | 'number' = 'string'): ColumnInfo => ({
  name,
  kind,
  type: '',
});

/** Wall time between two ISO timestamps, to a tenth of a second; null while still running. */
export function seconds(start: string, end: string | null): string | null {
  return end ? ((Date.parse(end) - Date.parse(start)) / 1000).toFixed(1) : null;
}
