// A plain HTML table for query results and tile rows: scrolls horizontally, numbers right-aligned,
// renders at most `max` rows and says so.
import type { Column, Row } from '../api';
import { formatCell } from '../format';
import { columnName, isNumericColumn, readableCell } from '../tile-data';

interface Props {
  columns: (Column | string)[];
  rows: Row[];
  max?: number;
  testId?: string;
  /** Columns to highlight (e.g. a quarantined row's reason columns). */
  emphasize?: string[];
  /**
   * Round numbers for reading (dashboard tables): grouped, at most 2 decimals (3 significant
   * digits below 1), and ratio columns (`…_rate`, `…_share`, `…_pct`, `…ratio`) as percentages.
   * Off for the SQL editor, which shows values exactly.
   */
  readable?: boolean;
}

/** The full text of a long cell, shown on hover when the cell is cut short. */
function cellTitle(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? s : undefined;
}

export function DataTable({ columns, rows, max = 1000, testId, emphasize, readable }: Props) {
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
                  ) : readable && numeric.has(n) ? (
                    readableCell(r[n], n)
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
