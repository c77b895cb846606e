/**
 * `npm run payments-api -- [project-dir] [--port 4242]`: serves a project's generated payments as
 * the stand-in payments API (Stripe list semantics) until Ctrl-C, so `tributary run` in the demo
 * folder can pull payments again after `tributary demo` has finished.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PAYMENTS_TEST_KEY, startPaymentsServer } from './payments-server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '4242' } },
});
const dir = resolve(positionals[0] ?? 'tributary-demo');
const server = await startPaymentsServer({
  dataFile: join(dir, 'landing', 'payments.json'),
  port: Number(values.port),
});
process.stdout.write(
  `payments API stand-in at ${server.url}/v1/charges (bearer ${PAYMENTS_TEST_KEY}); Ctrl-C to stop\n` +
    `in another terminal: TRIBUTARY_PAYMENTS_API=${server.url} tributary -p ${positionals[0] ?? 'tributary-demo'} run\n`,
);
await new Promise<void>((done) => {
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
});
await server.close();
