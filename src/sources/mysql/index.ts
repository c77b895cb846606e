/** MySQL / MariaDB source connector: a streamed SELECT written as CSV into the raw zone. */
export { MysqlSource } from './source.js';
