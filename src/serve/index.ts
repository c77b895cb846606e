/** Serve: the HTTP API (Fastify), tokens and audit, the SQL sandbox and dashboards. */
export type { ParamValue, SqlColumn, SqlResult, QueryLimits, SqlRunner } from './types.js';
export {
  ROLES,
  TOKEN_ROLES,
  allows,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  TokenStore,
  TOKEN_MIGRATIONS,
  type Role,
  type TokenRole,
  type TokenEntry,
  type ProducerKey,
  type TokenKind,
  type TokenInfo,
  type CredentialCheck,
} from './auth.js';
export {
  DEFAULT_ROW_LIMIT,
  SANDBOX_DEFAULTS,
  DEFAULT_TIMEOUT_MS,
  QuerySandbox,
  sandboxOptionsOf,
  sandboxOpenOptions,
  columnKind,
  type QuerySandboxOptions,
} from './sandbox.js';
export { PostgresQueryRunner, queryRunnerFor, positionalParams } from './pg-runner.js';
export { startHttp, findServer, type ServerInfo } from './http.js';
export { loadTlsFiles, pinnedTlsOptions, type TlsFiles } from './tls.js';
export { buildApp } from './app.js';
export type { AppContext } from './context.js';
export type { RouteEntry } from './route-table.js';
export {
  HttpError,
  STATUS_BY_CODE,
  errorResponse,
  type ApiErrorCode,
  type HttpErrorCode,
  type ErrorBody,
} from './errors.js';
export {
  outcomeOf,
  AuditLog,
  AUDIT_MIGRATIONS,
  type AuditOutcome,
  type AuditEntry,
  type AuditStart,
  type AuditEnd,
} from './audit.js';
export {
  CONTENT_SECURITY_POLICY,
  MUTATING_METHODS,
  SECURITY_HEADERS,
  SESSION_COOKIE,
} from './hooks.js';
export { dashboardRoutes, type DashboardService } from './dashboards-service.js';
export {
  DASHBOARDS_DIR,
  loadDashboards,
  parseDashboard,
  findDashboard,
  findTile,
  type Dashboard,
  type Tile,
  resolveFilters,
  previousPeriod,
  MAX_SELECT_LENGTH,
  type DateRange,
  type FilterValue,
  type FilterValues,
  type ResolveFiltersOptions,
  tileQuery,
  runTile,
  runDashboard,
  selectOptions,
  filterOptions,
  tileCsv,
  changeRatio,
  isTileFailure,
  MAX_OPTIONS,
  type TileQuery,
  type TileResult,
  type TileFailure,
  type DashboardResult,
  type RunOptions as TileRunOptions,
  type RunDashboardOptions,
  type CsvOptions,
  QueryCache,
  type QueryCacheOptions,
  type QueryCacheStats,
  type CachedResult,
  dashboardSummary,
  dashboardDefinition,
  type DashboardSummary,
  type DashboardDefinition,
  type FilterDefinition,
  type TileDefinition,
} from './dashboards/index.js';
