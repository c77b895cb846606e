/** REST API connector: paginated JSON endpoints landed as NDJSON, incremental by a record cursor. */
export { RestSource, type RestCursor, type RestSourceOptions } from './source.js';
export { systemClock, parseRetryAfter, type Clock } from './http.js';
export { nextFromLinkHeader } from './paginate.js';
export { Redactor } from '../../core/index.js';
export { readSecret } from '../../project/index.js';
export type { CustomFetch, CustomFetchContext } from './custom.js';
