/** CSV for downloads, produced in chunks so a response streams instead of building one string. */
import { toCsv } from '../core/index.js';

/** RFC 4180 CSV of rows, a header then chunks of up to `chunk` rows each. */
export function* csvLines(
  columns: string[],
  rows: Record<string, unknown>[],
  chunk = 1000,
): Generator<string> {
  yield toCsv(columns, []);
  for (let i = 0; i < rows.length; i += chunk) {
    // toCsv writes a header line first; each chunk drops it.
    const text = toCsv(columns, rows.slice(i, i + chunk));
    yield text.slice(text.indexOf('\n') + 1);
  }
}
