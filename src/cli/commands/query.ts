/**
 * `tributary query`: SQL against the warehouse, as a table, CSV or JSON, through the same
 * sandbox as the API (one read-only SELECT on the published snapshot, time and row limits).
 * When a server holds the project, the query goes to it over HTTP.
 */
import { TributaryError, isErrno, toCsv } from '../../core/index.js';
import { loadProject } from '../../project/index.js';
import { openWorkspace, publishServingSnapshot, servingDir } from '../../orchestrator/index.js';
import {
  SANDBOX_LIMITS,
  QuerySandbox,
  findServer,
  type QueryLimits,
  type SqlResult,
} from '../../serve/index.js';
import type { Row } from '../../engines/index.js';
import { formatTable } from '../output.js';

export type QueryFormat = 'table' | 'csv' | 'json';

export async function queryProject(
  projectDir: string,
  sql: string,
  limits: QueryLimits = {},
): Promise<SqlResult> {
  let ws;
  try {
    ws = await openWorkspace(projectDir, 'query');
  } catch (err) {
    if (!(err instanceof TributaryError && err.code === 'LOCKED')) throw err;
    const project = await loadProject(projectDir);
    const server = await findServer(project.paths.work);
    if (!server) throw err;
    return queryServer(server.url, server.token, sql, limits);
  }
  const sandbox = new QuerySandbox({ dir: servingDir(ws), ...SANDBOX_LIMITS });
  try {
    await publishServingSnapshot(ws);
    return await sandbox.query(sql, {}, limits);
  } finally {
    sandbox.close();
    await ws.close();
  }
}

async function queryServer(
  url: string,
  token: string,
  sql: string,
  limits: QueryLimits,
): Promise<SqlResult> {
  let res: Response;
  try {
    res = await fetch(`${url}/api/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sql,
        ...(limits.rowLimit !== undefined ? { limit: limits.rowLimit } : {}),
        ...(limits.timeoutMs !== undefined ? { timeoutMs: limits.timeoutMs } : {}),
      }),
    });
  } catch (err) {
    if (isErrno(err, 'ECONNREFUSED'))
      throw new TributaryError(`the server at ${url} does not answer`, { code: 'LOCKED' });
    throw err;
  }
  const body = (await res.json()) as SqlResult & { error?: { message: string; hint?: string } };
  if (!res.ok || body.error) {
    throw new TributaryError(body.error?.message ?? `the server answered ${res.status}`, {
      code: 'USAGE',
      ...(body.error?.hint ? { hint: body.error.hint } : {}),
    });
  }
  return body;
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
