/**
 * What dbt's adapters answer for a node that ran (dbt's AdapterResponse), which dbt prints in
 * the status column of its console line and writes as run_results' `adapter_response`:
 * dbt-duckdb always answers `OK`; dbt-postgres answers the command tag of the node's last
 * statement (`CREATE VIEW`, `SELECT 12` for a table, `INSERT 0 3` for an incremental batch or a
 * snapshot). Seeds say `INSERT <rows>` (`CREATE <rows>` on --full-refresh) on every adapter.
 */
import type { NodeResult } from './execute.js';
import type { Node } from './types.js';

export interface AdapterResponse {
  _message: string;
  code?: string;
  rows_affected?: number;
}

/** The adapter's response for a successful node, or undefined for tests, analyses and failures. */
export function adapterResponse(
  adapterType: string,
  node: Node,
  result: NodeResult,
  fullRefresh = false,
): AdapterResponse | undefined {
  if (result.status !== 'success') return undefined;
  const rows = result.rows ?? 0;
  const tag = (code: string, text: string): AdapterResponse => ({
    _message: text,
    code,
    rows_affected: rows,
  });
  if (node.resource_type === 'seed')
    return fullRefresh ? tag('CREATE', `CREATE ${rows}`) : tag('INSERT', `INSERT ${rows}`);
  if (node.resource_type !== 'model' && node.resource_type !== 'snapshot') return undefined;
  if (adapterType !== 'postgres') return { _message: 'OK' };
  if (node.resource_type === 'snapshot')
    return /\bcreated\b/.test(result.message)
      ? tag('SELECT', `SELECT ${rows}`)
      : tag('INSERT', `INSERT 0 ${rows}`);
  switch (node.config.materialized) {
    case 'view':
      return { _message: 'CREATE VIEW', code: 'CREATE VIEW', rows_affected: -1 };
    case 'table':
      return tag('SELECT', `SELECT ${rows}`);
    case 'incremental':
      return /built in full/.test(result.message)
        ? tag('SELECT', `SELECT ${rows}`)
        : tag('INSERT', `INSERT 0 ${rows}`);
    default:
      return { _message: 'OK' };
  }
}
