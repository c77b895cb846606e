/**
 * `tributary query`: SQL against the warehouse, as a table, CSV or JSON, through the same
 * sandbox as the API (one read-only SELECT on the published snapshot, time and row limits).
 * When a server holds the project, the query goes to it over HTTP.
 *
 * It runs under the admin role's read rules: over HTTP it uses the admin token the server left
 * for this machine's CLI, and in-process the same rules keep both paths alike. Whoever runs the
 * CLI owns the project's files (the warehouse, the lake), so masking PII or hiding paths from
 * them would protect nothing; the sandbox's own limits (read-only, one SELECT, no files outside
 * the lake, locked settings) still apply.
 */
import { toCsv } from '../../core/index.js';
import { publishServingSnapshot } from '../../orchestrator/index.js';
import { queryRunnerFor, type QueryLimits, type SqlResult } from '../../serve/index.js';
import type { Row } from '../../engines/index.js';
import { formatTable } from '../output.js';
import { withProject } from '../remote.js';

export type QueryFormat = 'table' | 'csv' | 'json';

export async function queryProject(
  projectDir: string,
  sql: string,
  limits: QueryLimits = {},
): Promise<SqlResult> {
  return withProject(
    projectDir,
    'query',
    async (ws) => {
      const sandbox = queryRunnerFor(ws, { role: 'admin' });
      try {
        await publishServingSnapshot(ws);
        return await sandbox.query(sql, {}, limits);
      } finally {
        await sandbox.close();
      }
    },
    (api) =>
      api.post<SqlResult>('/api/query', {
        sql,
        ...(limits.rowLimit !== undefined ? { limit: limits.rowLimit } : {}),
        ...(limits.timeoutMs !== undefined ? { timeoutMs: limits.timeoutMs } : {}),
      }),
  );
}

export function formatResult(result: SqlResult, format: QueryFormat): string {
  const note = result.truncated ? ' (truncated: raise --limit for more)' : '';
  switch (format) {
    case 'csv':
      return toCsv(
        result.columns.map((c) => c.name),
        result.rows,
      ).trimEnd();
    case 'json':
      return JSON.stringify(result.rows, null, 2);
    case 'table':
      return `${formatTable(
        result.columns.map((c) => ({
          name: c.name,
          type: c.type,
          kind: c.kind === 'number' ? 'number' : 'string',
        })),
        result.rows as Row[],
      )}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${note})`;
  }
}
