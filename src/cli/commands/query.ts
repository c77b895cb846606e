/** `tributary query`: SQL against the warehouse, as a table, CSV or JSON. */
import { toCsv } from '../../core/index.js';
import type { QueryResult } from '../../engines/index.js';
import { openWorkspace } from '../../orchestrator/index.js';
import { formatTable } from '../output.js';

export type QueryFormat = 'table' | 'csv' | 'json';

export async function queryProject(projectDir: string, sql: string): Promise<QueryResult> {
  const ws = await openWorkspace(projectDir, 'query');
  try {
    return await ws.warehouse.query(sql);
  } finally {
    await ws.close();
  }
}

export function formatResult(result: QueryResult, format: QueryFormat): string {
  switch (format) {
    case 'csv':
      return toCsv(
        result.columns.map((c) => c.name),
        result.rows,
      ).trimEnd();
    case 'json':
      return JSON.stringify(result.rows, null, 2);
    case 'table':
      return `${formatTable(result.columns, result.rows)}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  }
}
