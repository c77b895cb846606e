/**
 * Dashboards as code, the project side: `dashboards/*.yml` read and validated (tiles, filters,
 * the parameters their SQL names). Running tiles and caching results live in serve/dashboards.
 */
export {
  dashboardSchema,
  dashboardJsonSchema,
  filterSchema,
  tileSchema,
  allowedParameters,
  filtersUsedBy,
  isRealDate,
  FILTER_TYPES,
  TILE_TYPES,
  FORMATS,
  type DashboardFile,
  type FilterDef,
  type TileDef,
  type TileType,
  type FilterType,
  type TileFormat,
} from './schema.js';
export {
  DASHBOARDS_DIR,
  loadDashboards,
  parseDashboard,
  findDashboard,
  findTile,
  type Dashboard,
  type Tile,
} from './load.js';
export { scanSql, sqlParameterNames, type SqlScan, type SqlParameter } from './params.js';
