/** REST API connector: paginated JSON endpoints landed as NDJSON, incremental by a record cursor. */
export { RestSource, type RestCursor, type RestSourceOptions } from './source.js';
export { parseRetryAfter, type Clock } from './http.js';
