/**
 * The state store over each engine it runs on (DuckDB today): run history, catalog entries with
 * schema versions, and asset versions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDB } from '../../src/engines/index.js';
import { StateStore } from '../../src/state/index.js';

describe('state store on DuckDB', () => {
  let state: StateStore;
  beforeEach(async () => {
    state = await StateStore.open(await openDuckDB({ path: ':memory:' }));
  });
  afterEach(async () => state.close());

  it('records a run and its steps with status, rows and messages', async () => {
    await state.startRun('r1', 'run');
    const step = { runId: 'r1', asset: 'processed:orders', kind: 'processed', startedAt: 't0' };
    await state.upsertSteps([{ ...step, status: 'running' }]);
    await state.upsertSteps([
      {
        ...step,
        status: 'succeeded',
        finishedAt: 't1',
        rowsIn: 10,
        rowsOut: 8,
        rowsRejected: 2,
        message: 'ok',
        attempts: 1,
      },
    ]);
    await state.insertStepLogs([
      { runId: 'r1', asset: 'processed:orders', seq: 1, at: 't0', line: 'first' },
      { runId: 'r1', asset: 'processed:orders', seq: 2, at: 't1', line: 'second' },
    ]);
    await state.finishRun('r1', 'succeeded');
    expect((await state.stepLogs('r1')).map((l) => l.line)).toEqual(['first', 'second']);
    expect((await state.listRuns())[0]).toMatchObject({ runId: 'r1', status: 'succeeded' });
    expect(await state.listSteps('r1')).toEqual([
      expect.objectContaining({
        asset: 'processed:orders',
        status: 'succeeded',
        rowsIn: 10,
        rowsOut: 8,
        rowsRejected: 2,
        message: 'ok',
        attempts: 1,
        startedAt: 't0',
        finishedAt: 't1',
      }),
    ]);
  });

  it('marks runs left running by a dead process as failed, with their running steps', async () => {
    await state.startRun('r2', 'run');
    await state.upsertSteps([
      { runId: 'r2', asset: 'model:x', kind: 'model', status: 'running', startedAt: 't0' },
    ]);
    expect(await state.markAbandonedRuns()).toHaveLength(1);
    expect((await state.listRuns())[0]!.status).toBe('failed');
    expect((await state.listSteps('r2'))[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/stopped/),
    });
  });

  it('adds a schema version only when the columns change', async () => {
    const entry = {
      zone: 'processed',
      name: 't',
      location: 'processed/t',
      format: 'parquet',
      rowCount: 1,
      partitions: [],
    };
    expect(
      (await state.upsertCatalogEntry({ ...entry, columns: [{ name: 'a', type: 'bigint' }] }))
        .schemaVersion,
    ).toBe(1);
    expect(
      (
        await state.upsertCatalogEntry({
          ...entry,
          rowCount: 2,
          columns: [{ name: 'a', type: 'bigint' }],
        })
      ).schemaVersion,
    ).toBe(1);
    const evolved = await state.upsertCatalogEntry({
      ...entry,
      columns: [
        { name: 'a', type: 'bigint' },
        { name: 'b', type: 'string' },
      ],
    });
    expect(evolved.schemaVersion).toBe(2);
    expect((await state.schemaVersions('processed', 't')).map((v) => v.columns.length)).toEqual([
      1, 2,
    ]);
    expect((await state.listCatalog())[0]).toMatchObject({ rowCount: 1, schemaVersion: 2 });
  });

  it('keeps an asset version per asset and commits several writes as one', async () => {
    await state.atomically(async (tx) => {
      await tx.setAssetVersion('model:a', 'f1');
      await tx.setAssetVersion('model:b', 'f2');
    });
    expect(await state.getAssetVersion('model:a')).toBe('f1');
    await expect(
      state.atomically(async (tx) => {
        await tx.setAssetVersion('model:a', 'f3');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await state.getAssetVersion('model:a')).toBe('f1');
  });
});
