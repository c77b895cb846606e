/**
 * Dashboards as code, the project side: `dashboards/*.yml` read and validated (tiles, filters,
 * the parameters their SQL names). Running tiles and caching results live in serve/dashboards.
 */
export {
  dashboardJsonSchema,
  isRealDate,
  FILTER_TYPES,
  TILE_TYPES,
  FORMATS,
  type FilterDef,
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
export { scanSql, sqlParameterNames } from './params.js';
