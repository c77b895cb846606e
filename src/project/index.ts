/** Project: the folder format (tributary.yml, contracts, models, reports), loaded and validated. */
export * from './schema.js';
export * from './yaml.js';
export * from './project.js';
export * from './secrets.js';
export * from './dashboards/index.js';
