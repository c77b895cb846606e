/**
 * Starting and finding the HTTP server of a project. `startHttp` listens and writes
 * `.tributary/server.json` (mode 600) with the URL and a token for this machine's CLI, so a CLI
 * command can ask the running server instead of failing on the project lock (DESIGN.md run
 * model). The token is revoked and the file removed when the server stops.
 */
import { chmod, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { writeFileAtomic } from '../core/index.js';
import type { TokenStore } from './auth.js';

export interface ServerInfo {
  url: string;
  pid: number;
  /** An admin token for the CLI on this machine, valid while the server runs. */
  token: string;
  startedAt: string;
}

const infoFile = (workDir: string) => join(workDir, 'server.json');

export async function startHttp(
  app: FastifyInstance,
  tokens: TokenStore,
  workDir: string,
  listen: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const local = await tokens.create('admin', `local cli (pid ${process.pid})`);
  const info: ServerInfo = {
    url,
    pid: process.pid,
    token: local.token,
    startedAt: new Date().toISOString(),
  };
  await writeFileAtomic(infoFile(workDir), JSON.stringify(info, null, 2));
  await chmod(infoFile(workDir), 0o600);
  return {
    url,
    close: async () => {
      await rm(infoFile(workDir), { force: true });
      await app.close();
      await tokens.revoke(local.info.id).catch(() => undefined);
    },
  };
}

/** The running server of a project, if one is alive. */
export async function findServer(workDir: string): Promise<ServerInfo | undefined> {
  let info: ServerInfo;
  try {
    info = JSON.parse(await readFile(infoFile(workDir), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
  } catch {
    return undefined;
  }
  return info;
}
