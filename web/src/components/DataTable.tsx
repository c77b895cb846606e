// A plain HTML table for query results and tile rows: scrolls horizontally, numbers right-aligned,
// renders at most `max` rows and says so.
import type { Column, Row } from '../api';
import { formatCell, toNumber } from '../format';

interface Props {
  columns: (Column | string)[];
  rows: Row[];
  max?: number;
  testId?: string;
  /** Columns to highlight (e.g. a quarantined row's reason columns). */
  emphasize?: string[];
}

export function columnName(c: Column | string): string {
  return typeof c === 'string' ? c : c.name;
}

/** Whether a column holds numbers, by its declared kind or by its values. */
export function isNumericColumn(c: Column | string, rows: Row[]): boolean {
  if (typeof c !== 'string' && c.kind) return c.kind === 'number';
  const name = columnName(c);
  let seen = 0;
  for (const r of rows.slice(0, 50)) {
    const v = r[name];
    if (v === null || v === undefined) continue;
    if (toNumber(v) === null) return false;
    seen++;
  }
  return seen > 0;
}

/** The full text of a long cell, shown on hover when the cell is cut short. */
function cellTitle(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? s : undefined;
}

export function DataTable({ columns, rows, max = 1000, testId, emphasize }: Props) {
  const names = columns.map(columnName);
  const numeric = new Set(columns.filter((c) => isNumericColumn(c, rows)).map(columnName));
  const shown = rows.length > max ? rows.slice(0, max) : rows;
  const strong = new Set(emphasize ?? []);
  return (
    <div className="table-wrap">
      <table className="data-table" data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) => {
              const name = columnName(c);
              const type = typeof c === 'string' ? undefined : c.type;
              return (
                <th key={name} className={numeric.has(name) ? 'num' : undefined} title={type}>
                  {name}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {shown.map((r, i) => (
            <tr key={i}>
              {names.map((n) => (
                <td
                  key={n}
                  title={cellTitle(r[n])}
                  className={
                    [numeric.has(n) ? 'num' : '', strong.has(n) ? 'em' : ''].join(' ').trim() ||
                    undefined
                  }
                >
                  {r[n] === null || r[n] === undefined ? (
                    <span className="null">NULL</span>
                  ) : (
                    formatCell(r[n])
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > max ? (
        <p className="table-note">
          Showing the first {max.toLocaleString()} of {rows.length.toLocaleString()} rows.
        </p>
      ) : null}
    </div>
  );
}
