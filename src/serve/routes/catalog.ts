/**
 * The catalog: every table in every zone, one table with its schema versions, and the partitions
 * of a partitioned model.
 */
import type { FastifyPluginAsync } from 'fastify';
import { TributaryError } from '../../core/index.js';
import { partitionStates } from '../../orchestrator/index.js';
import { VIEWER, type AppContext } from '../context.js';
import { z } from 'zod';
import { catalogDetailSchema, catalogEntrySchema, jsonResponse } from '../api-schemas.js';

export const catalogRoutes: FastifyPluginAsync<AppContext> = async (app, { ws }) => {
  app.get(
    '/api/catalog',
    {
      config: VIEWER,
      schema: {
        tags: ['catalog'],
        summary: 'Every table in every zone',
        response: { 200: jsonResponse(z.array(catalogEntrySchema)) },
      },
    },
    async () => ws.state.listCatalog(),
  );

  app.get<{ Params: { zone: string; name: string } }>(
    '/api/catalog/:zone/:name',
    {
      config: VIEWER,
      schema: {
        tags: ['catalog'],
        summary: 'One table with its schema versions',
        response: { 200: jsonResponse(catalogDetailSchema) },
      },
    },
    async (req) => {
      const { zone, name } = req.params;
      const entry = (await ws.state.listCatalog()).find((e) => e.zone === zone && e.name === name);
      if (!entry)
        throw new TributaryError(`no table ${zone}.${name} in the catalog`, {
          code: 'NOT_FOUND',
          hint: 'GET /api/catalog lists the tables (a run fills the catalog)',
        });
      return { ...entry, versions: await ws.state.schemaVersions(entry.zone, entry.name) };
    },
  );

  app.get<{ Params: { asset: string } }>(
    '/api/partitions/:asset',
    {
      config: VIEWER,
      schema: { tags: ['runs'], summary: 'Every partition of a partitioned model, with status' },
    },
    async (req) => partitionStates(ws, req.params.asset),
  );
};
