/** Quality: the latest test results, quarantine per table, and one table's quarantined rows. */
import type { FastifyPluginAsync } from 'fastify';
import { TributaryError } from '../../core/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../../lake/index.js';
import type { Workspace } from '../../orchestrator/index.js';
import { OPERATOR, VIEWER, type AppContext } from '../context.js';
import { jsonResponse, qualitySchema, quarantineRowsSchema } from '../api-schemas.js';

/** Each table's quarantined rows and rejected files, from its processed manifest. */
async function quarantineSummary(ws: Workspace) {
  const out = [];
  for (const t of ws.project.tables) {
    const m = await readManifest<TableManifest>(ws.store, lakeKeys.processedManifest(t.table));
    const reasons: Record<string, number> = {};
    let rows = 0;
    for (const q of m?.quarantine ?? []) {
      rows += q.rows;
      for (const [r, n] of Object.entries(q.reasons)) reasons[r] = (reasons[r] ?? 0) + n;
    }
    out.push({
      table: t.table,
      source: t.source,
      rows,
      reasons,
      rejectedFiles: Object.keys(m?.rejected ?? {}).length,
    });
  }
  return out;
}

export const qualityRoutes: FastifyPluginAsync<AppContext> = async (app, { ws, sql }) => {
  app.get(
    '/api/quality',
    {
      config: VIEWER,
      schema: {
        tags: ['quality'],
        summary: 'Latest test results and quarantine per table',
        response: { 200: jsonResponse(qualitySchema) },
      },
    },
    async () => {
      const tests = (await ws.state.latestSteps('test')).map((s) => ({
        asset: s.asset,
        status: s.status,
        failingRows: s.rowsOut,
        message: s.message,
        runId: s.runId,
        finishedAt: s.finishedAt,
      }));
      return { tests, quarantine: await quarantineSummary(ws) };
    },
  );

  app.get<{ Params: { table: string }; Querystring: { limit?: number } }>(
    '/api/quarantine/:table',
    {
      // Rejected rows are raw values, personal data unmasked: the quarantine zone's read rule.
      config: OPERATOR,
      schema: {
        tags: ['quality'],
        summary: "A table's quarantined rows with their reasons",
        response: { 200: jsonResponse(quarantineRowsSchema) },
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 10000 } },
        },
      },
    },
    async (req) => {
      const table = ws.project.tables.find((t) => t.table === req.params.table);
      if (!table)
        throw new TributaryError(`no table ${req.params.table}`, {
          code: 'NOT_FOUND',
          hint: 'GET /api/quality lists the tables of tributary.yml',
        });
      const q = ws.warehouse.dialect.quoteIdentifier;
      const result = await sql.query(
        `SELECT * FROM quarantine.${q(table.table)} ORDER BY _source_file, _record`,
        {},
        { rowLimit: req.query.limit ?? 1000, role: req.user!.role },
      );
      return { columns: result.columns, rows: result.rows, truncated: result.truncated };
    },
  );
};
