/** What the API's route plugins are given: the open project and the services the app wires. */
import type { PipelineServer, Workspace } from '../orchestrator/index.js';
import type { TokenStore } from './auth.js';
import type { DashboardService } from './dashboards-service.js';
import type { SqlRunner } from './types.js';

export interface AppContext {
  ws: Workspace;
  tokens: TokenStore;
  sql: SqlRunner;
  dashboards?: DashboardService;
  /** The scheduler process, when serving: runs and replays go through its queue. */
  server?: PipelineServer;
  /** The built UI (dist/web); a note is served when it is missing. */
  staticDir?: string;
  version: string;
  /** A certificate and its key (PEM): the app then answers HTTPS only. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** The least role of each kind of route, as route config. */
export const VIEWER = { role: 'viewer' } as const;
export const OPERATOR = { role: 'operator' } as const;
export const ADMIN = { role: 'admin' } as const;
/** A route anyone may call. */
export const PUBLIC = { public: true } as const;
