/**
 * What queries read is the serving snapshot named by `.tributary/serving/current.json`. None
 * published yet is "nothing to query yet"; a current.json that is damaged is an error naming the
 * file and saying how to repair it (publishing again, which a run does), never taken for "none".
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import {
  openWorkspace,
  publishServingSnapshot,
  readServingSnapshot,
  servingDir,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { QuerySandbox, TokenStore, buildApp } from '../../src/serve/index.js';
import { tempDir, writeFiles } from '../helpers.js';

let ws: Workspace;
let tokens: TokenStore;
let viewer: string;

beforeAll(async () => {
  const dir = tempDir('trib-serving-');
  writeFiles(dir, { 'tributary.yml': 'name: serving\n' });
  ws = await openWorkspace(dir, 'test');
  tokens = await TokenStore.open(ws.state.engine);
  viewer = (await tokens.create('viewer', 'viewer-serving')).token;
});

afterAll(async () => {
  await ws?.close();
});

const current = () => join(servingDir(ws), 'current.json');

/** Runs `select 1` through a fresh sandbox and the API; returns both outcomes. */
async function queryBoth(): Promise<{ direct: unknown; api: { status: number; body: unknown } }> {
  const sandbox = new QuerySandbox({ dir: servingDir(ws) });
  let app: FastifyInstance | undefined;
  try {
    const direct = await sandbox.query('select 1 as one').then(
      (r) => r.rows,
      (err: unknown) => err,
    );
    app = await buildApp({
      ws,
      tokens,
      sql: new QuerySandbox({ dir: servingDir(ws) }),
      version: 't',
    });
    const res = await app.inject({
      method: 'POST',
      url: '/api/query',
      headers: { authorization: `Bearer ${viewer}` },
      payload: { sql: 'select 1 as one' },
    });
    return { direct, api: { status: res.statusCode, body: res.json() } };
  } finally {
    sandbox.close();
    await app?.close();
  }
}

describe('the serving snapshot', () => {
  it('says there is nothing to query yet when none was ever published', async () => {
    expect(await readServingSnapshot(servingDir(ws))).toBeUndefined();
    const { direct, api } = await queryBoth();
    expect(direct).toBeInstanceOf(TributaryError);
    expect((direct as TributaryError).message).toMatch(/nothing to query yet/);
    expect(api.status).toBe(400);
  });

  it('names a damaged current.json and how to repair it, in the sandbox and the API', async () => {
    await publishServingSnapshot(ws);
    expect((await queryBoth()).direct).toEqual([{ one: 1 }]);
    for (const [what, text] of [
      ['cut short', '{"version": "snap_x", "file": "/tmp/x.duck'],
      ['not a snapshot', '{"hello": "world"}'],
      ['empty', ''],
    ]) {
      writeFileSync(current(), text!);
      await expect(readServingSnapshot(servingDir(ws)), what).rejects.toMatchObject({
        code: 'STATE',
        message: expect.stringContaining(`the serving snapshot's ${current()} is damaged`),
        hint: expect.stringMatching(/tributary run/),
      });
      const { direct, api } = await queryBoth();
      expect((direct as Error).message, what).not.toMatch(/nothing to query/);
      expect((direct as TributaryError).code, what).toBe('STATE');
      expect(api.status, what).toBe(500);
      expect(api.body, what).toMatchObject({
        error: {
          code: 'STATE',
          message: expect.stringContaining(`${current()} is damaged`),
          hint: expect.stringMatching(/`tributary run`/),
        },
      });
    }
  });

  it('is repaired by publishing again, as a run does', async () => {
    writeFileSync(current(), '{ broken');
    const snapshot = await publishServingSnapshot(ws);
    expect(await readServingSnapshot(servingDir(ws))).toEqual(snapshot);
    expect((await queryBoth()).direct).toEqual([{ one: 1 }]);
  });
});
