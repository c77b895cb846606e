/**
 * When `tributary serve` holds a project, other commands ask it over HTTP instead of failing on
 * the project lock (DESIGN.md run model). The server leaves its URL and a token for this
 * machine's CLI in `.tributary/server.json` (mode 600) while it runs.
 */
import { TributaryError, isErrno } from '../core/index.js';
import { openWorkspace, type Workspace } from '../orchestrator/index.js';
import { loadProject } from '../project/index.js';
import { findServer } from '../serve/index.js';

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
  return server ? { url: server.url, api: apiClient(server.url, server.token) } : undefined;
}

function apiClient(url: string, token: string): RemoteApi {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      if (
        isErrno(err, 'ECONNREFUSED') ||
        isErrno((err as { cause?: unknown }).cause, 'ECONNREFUSED')
      )
        throw new TributaryError(`the server at ${url} holds the project but does not answer`, {
          code: 'LOCKED',
        });
      throw err;
    }
    const payload = (await res.json()) as T & { error?: { message: string; hint?: string } };
    if (!res.ok) {
      throw new TributaryError(payload.error?.message ?? `the server answered ${res.status}`, {
        code: res.status === 404 || res.status === 400 ? 'USAGE' : 'INPUT',
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
