/**
 * The demo's payment provider: the template's stand-in for Stripe serves the generated charges
 * while the demo runs, and the payments table is pulled through the REST connector (paginated,
 * authenticated, incremental by `created`) as it would be from the real API. tributary.yml keeps
 * the REST source with the stand-in's address, read from TRIBUTARY_PAYMENTS_API (default port
 * 4242), so `npm run payments-api` lets later runs in the demo folder reach it again.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { ProgressReporter } from '../../core/index.js';
import { CONFIG_FILE } from '../../project/index.js';
import {
  PAYMENTS_TEST_KEY,
  startPaymentsServer,
  type PaymentsServer,
} from '../../../templates/ecommerce/generator/payments-server.js';
import { startLakeAfresh } from './demo-appdb.js';

const PAYMENTS_API_ENV = 'TRIBUTARY_PAYMENTS_API';
const DEFAULT_PAYMENTS_PORT = 4242;
const PAYMENTS_KEY_FILE = 'secrets/payments-api-key';

/** The REST source the demo project uses for payments (Stripe's list API on the stand-in). */
const PAYMENTS_REST_SOURCE = {
  type: 'rest',
  base_url: `\${${PAYMENTS_API_ENV}:-http://127.0.0.1:${DEFAULT_PAYMENTS_PORT}}`,
  // The stand-in's fixed test key is no secret; a real key would live in this file, not in tributary.yml.
  auth: { type: 'bearer', token: { file: PAYMENTS_KEY_FILE } },
  rate_limit: { requests_per_second: 200 },
  tables: {
    payments: {
      path: '/v1/charges',
      params: { limit: 100 },
      records: 'data',
      paginate: {
        type: 'cursor',
        cursor_param: 'starting_after',
        from_last_record: 'id',
        has_more_path: 'has_more',
      },
      incremental: { cursor_field: 'created', param: 'created[gte]' },
    },
  },
};

/**
 * Starts the stand-in over the project's generated payments (on the default port, or any free
 * one when it is taken) and points tributary.yml's payments source at it. Switching a project
 * from files to the API starts its lake afresh: the same charges arriving as API records would
 * otherwise be new batches of keys already loaded.
 */
export async function startDemoPaymentsApi(
  dir: string,
  progress: ProgressReporter,
): Promise<PaymentsServer> {
  const dataFile = join(dir, 'landing', 'payments.json');
  let server: PaymentsServer;
  try {
    server = await startPaymentsServer({ dataFile, port: DEFAULT_PAYMENTS_PORT });
  } catch {
    server = await startPaymentsServer({ dataFile, port: 0 });
  }
  process.env[PAYMENTS_API_ENV] = server.url;
  await mkdir(join(dir, 'secrets'), { recursive: true });
  await writeFile(join(dir, PAYMENTS_KEY_FILE), `${PAYMENTS_TEST_KEY}\n`);
  const configPath = join(dir, CONFIG_FILE);
  const doc = parseDocument(await readFile(configPath, 'utf8'));
  const current = doc.getIn(['sources', 'payments']) as { toJSON(): unknown } | undefined;
  const wasRest = doc.getIn(['sources', 'payments', 'type']) === 'rest';
  if (JSON.stringify(current?.toJSON() ?? null) !== JSON.stringify(PAYMENTS_REST_SOURCE)) {
    doc.setIn(['sources', 'payments'], PAYMENTS_REST_SOURCE);
    await writeFile(configPath, doc.toString());
  }
  if (!wasRest) await startLakeAfresh(dir, 'payments now come from the stand-in API', progress);
  return server;
}
