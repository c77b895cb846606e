/**
 * Dashboards as code: `dashboards/*.yml` files of tiles (SQL, or a model and a measure) and
 * filters bound as query parameters, run through the read-only SqlRunner with a cache that
 * follows the data, and exported as CSV.
 */
// Reading and validating the files is the project's part; one list of names, kept there.
export {
  dashboardJsonSchema,
  isRealDate,
  DASHBOARDS_DIR,
  loadDashboards,
  parseDashboard,
  findDashboard,
  findTile,
  scanSql,
  sqlParameterNames,
  type FilterDef,
  type TileType,
  type FilterType,
  type TileFormat,
  type Dashboard,
  type Tile,
} from '../../project/dashboards/index.js';
export {
  resolveFilters,
  previousPeriod,
  MAX_SELECT_LENGTH,
  type DateRange,
  type FilterValue,
  type FilterValues,
  type ResolveFiltersOptions,
} from './filters.js';
export {
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
  type RunOptions,
  type RunDashboardOptions,
  type CsvOptions,
} from './render.js';
export {
  QueryCache,
  type QueryCacheOptions,
  type QueryCacheStats,
  type CachedResult,
} from './cache.js';
export {
  dashboardSummary,
  dashboardDefinition,
  type DashboardSummary,
  type DashboardDefinition,
  type FilterDefinition,
  type TileDefinition,
} from './describe.js';
