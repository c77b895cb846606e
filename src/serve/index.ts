/** Serve: the HTTP API (Fastify), tokens and audit, the SQL sandbox and dashboards. */
export * from './types.js';
export * from './auth.js';
export * from './sandbox.js';
export * from './http.js';
export * from './tls.js';
export * from './app.js';
export * from './audit.js';
export {
  CONTENT_SECURITY_POLICY,
  MUTATING_METHODS,
  SECURITY_HEADERS,
  SESSION_COOKIE,
} from './hooks.js';
export * from './dashboards-service.js';
export * from './dashboards/index.js';
