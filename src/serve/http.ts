/**
 * Starting and finding the HTTP server of a project. `startHttp` listens and writes
 * `.tributary/server.json` (mode 600, atomically) with the URL and an admin token for this
 * machine's CLI, so a CLI command can ask the running server instead of failing on the project
 * lock (DESIGN.md run model). That token is the server's own: every start revokes the ones
 * before it (a server killed with SIGKILL cannot revoke its own), and a stop revokes it and
 * removes the file.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { TributaryError, describeError, writeFileAtomic } from '../core/index.js';
import type { TokenStore } from './auth.js';

export interface ServerInfo {
  url: string;
  pid: number;
  /** An admin token for the CLI on this machine, valid while the server runs. */
  token: string;
  startedAt: string;
  /** With HTTPS: the certificate file the server presents, which its clients pin. */
  tlsCert?: string;
}

const infoFile = (workDir: string) => join(workDir, 'server.json');

/** Listens, rotates the server's own token and writes server.json; `close` undoes all three. */
export async function startHttp(
  app: FastifyInstance,
  tokens: TokenStore,
  workDir: string,
  listen: { host: string; port: number; tlsCert?: string },
): Promise<{ url: string; close(): Promise<void> }> {
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const scheme = listen.tlsCert ? 'https' : 'http';
  const url = `${scheme}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  let local: Awaited<ReturnType<TokenStore['rotateServerToken']>>;
  try {
    local = await tokens.rotateServerToken(`local cli (pid ${process.pid})`);
    const info: ServerInfo = {
      url,
      pid: process.pid,
      token: local.token,
      startedAt: new Date().toISOString(),
      ...(listen.tlsCert ? { tlsCert: listen.tlsCert } : {}),
    };
    await writeFileAtomic(infoFile(workDir), JSON.stringify(info, null, 2), { mode: 0o600 });
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    url,
    close: async () => {
      await rm(infoFile(workDir), { force: true });
      await app.close();
      try {
        await tokens.revoke(local.info.id);
      } catch (err) {
        // Already revoked (by an admin) is fine; anything else leaves it to the next start.
        if (!(err instanceof TributaryError && err.code === 'NOT_FOUND'))
          process.stderr.write(
            `could not revoke the server's token ${local.info.id}: ${describeError(err)}; the next start revokes it\n`,
          );
      }
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
