/**
 * Terminal output conventions: data to stdout, progress and diagnostics to stderr, colour only
 * on a TTY (and never with NO_COLOR), a live progress line only when stderr is a TTY.
 */
import { styleText } from 'node:util';
import type { ProgressEvent, ProgressReporter } from '../core/index.js';
import type { ColumnInfo, Row } from '../engines/index.js';

type Style = Parameters<typeof styleText>[0];

export interface Output {
  color: boolean;
  paint(style: Style, text: string): string;
}

/** Decides once whether colour is on: a TTY, no NO_COLOR, no --no-color. */
export function makeOutput(noColor: boolean): Output {
  const color = !noColor && !process.env.NO_COLOR && Boolean(process.stdout.isTTY);
  return { color, paint: (style, text) => (color ? styleText(style, text) : text) };
}

/** A progress reporter drawing one live line on stderr when it is a TTY; silent otherwise. */
export function ttyProgress(
  enabled: boolean,
  verbose: boolean,
): ProgressReporter & { clear(): void } {
  const tty = enabled && Boolean(process.stderr.isTTY);
  let last = '';
  let lastDraw = 0;
  const clear = () => {
    if (tty && last) {
      process.stderr.write('\r\x1b[2K');
      last = '';
    }
  };
  return {
    update(event: ProgressEvent) {
      if (!tty) return;
      const now = Date.now();
      if (now - lastDraw < 80 && event.done !== event.total) return;
      lastDraw = now;
      const total = event.total ? `/${event.total}` : '';
      const pct = event.total ? ` ${Math.floor((100 * event.done) / event.total)}%` : '';
      const line = `[${event.done}${total}${event.unit ? ` ${event.unit}` : ''}${pct}] ${event.label}`;
      const width = process.stderr.columns ?? 80;
      last = line.slice(0, width - 1);
      process.stderr.write(`\r\x1b[2K${last}`);
    },
    log(message: string) {
      if (!verbose) return;
      clear();
      process.stderr.write(`${message}\n`);
    },
    clear,
  };
}

/** An aligned text table; numbers (and numeric strings of number-like columns) align right. */
export function formatTable(
  columns: Pick<ColumnInfo, 'name' | 'kind' | 'type'>[],
  rows: Row[],
): string {
  const numeric = columns.map(
    (c) => c.kind === 'number' || /^(BIGINT|HUGEINT|UBIGINT|DECIMAL|INTEGER|DOUBLE)/.test(c.type),
  );
  const cells = rows.map((r) => columns.map((c) => cellText(r[c.name])));
  const widths = columns.map((c, i) =>
    Math.max(c.name.length, ...cells.map((row) => row[i]!.length)),
  );
  const pad = (text: string, i: number) =>
    numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const lines = [
    columns.map((c, i) => pad(c.name, i)).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((row) => row.map(pad).join('  ')),
  ];
  return lines.map((l) => l.trimEnd()).join('\n');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replaceAll('\n', '\\n');
}
