/**
 * When `tributary serve` holds a project, other commands ask it over HTTP instead of failing on
 * the project lock (DESIGN.md run model). The server leaves its URL and a token for this
 * machine's CLI in `.tributary/server.json` (mode 600) while it runs, and over HTTPS the path of
 * its certificate, which this client pins.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { TributaryError, isErrno, isErrorCode } from '../core/index.js';
import { openWorkspace, type Workspace } from '../orchestrator/index.js';
import { loadProject } from '../project/index.js';
import { findServer, pinnedTlsOptions } from '../serve/index.js';

export interface RemoteApi {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/** Runs `local` on the opened project, or `remote` against its server when one holds it. */
export async function withProject<T>(
  projectDir: string,
  command: string,
  local: (ws: Workspace) => Promise<T>,
  remote: (api: RemoteApi) => Promise<T>,
): Promise<T> {
  let ws: Workspace;
  try {
    ws = await openWorkspace(projectDir, command);
  } catch (err) {
    if (!(err instanceof TributaryError && err.code === 'LOCKED')) throw err;
    const server = await runningServer(projectDir);
    if (!server) throw err;
    return remote(server.api);
  }
  try {
    return await local(ws);
  } finally {
    await ws.close();
  }
}

/** The server holding a project, with a client for its API; undefined when none runs. */
export async function runningServer(
  projectDir: string,
): Promise<{ url: string; api: RemoteApi } | undefined> {
  const server = await findServer((await loadProject(projectDir)).paths.work);
  if (!server) return undefined;
  // Over HTTPS the server's own certificate (named in server.json) is the only one trusted.
  const tls = server.tlsCert
    ? { certPath: server.tlsCert, options: await pinnedTlsOptions(server.tlsCert) }
    : undefined;
  return { url: server.url, api: apiClient(server.url, server.token, tls) };
}

/** One request with node:http(s), which (unlike fetch) takes TLS options per request. */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  tls: ConnectionOptions | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const options = { method, headers, ...(url.protocol === 'https:' ? (tls ?? {}) : {}) };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function apiClient(
  url: string,
  token: string,
  tls?: { certPath: string; options: ConnectionOptions },
): RemoteApi {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: { status: number; text: string };
    try {
      res = await send(
        new URL(`${url}${path}`),
        method,
        {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body !== undefined ? JSON.stringify(body) : undefined,
        tls?.options,
      );
    } catch (err) {
      if (isErrno(err, 'ECONNREFUSED'))
        throw new TributaryError(`the server at ${url} holds the project but does not answer`, {
          code: 'LOCKED',
        });
      if (tls)
        throw new TributaryError(
          `cannot reach the server at ${url} as the holder of the certificate ${tls.certPath}: ${(err as Error).message}`,
          {
            code: 'LOCKED',
            hint: 'server.json names the certificate the server was started with; if it was replaced, restart `tributary serve`',
          },
        );
      throw err;
    }
    let payload: T & { error?: { code?: unknown; message: string; hint?: string } };
    try {
      payload = JSON.parse(res.text) as typeof payload;
    } catch {
      throw new TributaryError(`the server at ${url} answered ${res.status} with no JSON`, {
        code: 'INPUT',
      });
    }
    if (res.status >= 400) {
      // The server's own code when it sent one, so a missing run is NOT_FOUND here as it is there.
      const code = payload.error?.code;
      throw new TributaryError(payload.error?.message ?? `the server answered ${res.status}`, {
        code: isErrorCode(code)
          ? code
          : res.status === 404
            ? 'NOT_FOUND'
            : res.status === 400
              ? 'USAGE'
              : 'INPUT',
        ...(payload.error?.hint ? { hint: payload.error.hint } : {}),
      });
    }
    return payload;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    delete: (path) => call('DELETE', path),
  };
}
