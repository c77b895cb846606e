/** PostgreSQL source connector: COPY … TO STDOUT as CSV into the raw zone. */
export { PostgresSource } from './source.js';
