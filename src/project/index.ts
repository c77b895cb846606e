/** Project: the folder format (tributary.yml, contracts, models, reports), loaded and validated. */
export {
  jsonSchemas,
  restSourceSchema,
  alertsSchema,
  projectConfigSchema,
  type Contract,
  type ColumnContract,
  type CsvOptions,
  type SecretRef,
  type RestSourceConfig,
  type RestTableConfig,
  type DatabaseTableConfig,
  type SchemaEvolution,
  type AssetPolicyConfig,
  type PartitionsConfig,
  type ScheduleConfig,
  type AlertChannelConfig,
  type AlertEventType,
  type AlertsConfig,
  type ProjectConfig,
} from './schema.js';
export { parseYaml, ProblemsError, type Problem } from './yaml.js';
export {
  loadProject,
  CONFIG_FILE,
  type FileFormat,
  type FileSourceTable,
  type RestSourceTable,
  type DatabaseSourceTable,
  type SourceTable,
  type Project,
} from './project.js';
export { readSecret } from './secrets.js';
export {
  isRealDate,
  loadDashboards,
  FILTER_TYPES,
  TILE_TYPES,
  FORMATS,
  sqlParameterNames,
  type FilterDef,
  type TileType,
  type FilterType,
  type TileFormat,
  type Dashboard,
  type Tile,
} from './dashboards/index.js';
