/**
 * openDestination: a `destinations.<name>` entry (as the project schema parses it) becomes the
 * right adapter with its secrets read from env or file; a missing secret names the config path.
 * The HubSpot API is played by the local stand-in (the real one cannot be reached here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDestination } from '../../src/sync/index.js';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { startWebhookReceiver } from './standins/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'open-destination-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openDestination', () => {
  it('opens a HubSpot destination with its token from an env var and its rate limit', async () => {
    const server = await startHubSpotServer();
    try {
      process.env.TEST_OPEN_DEST_TOKEN = HUBSPOT_TEST_TOKEN;
      const destination = openDestination(
        'crm',
        {
          type: 'hubspot',
          enabled: true,
          base_url: server.url,
          token: { env: 'TEST_OPEN_DEST_TOKEN' },
          rate_limit: { requests: 50, per: 5000 },
          timeout_ms: 30000,
        },
        { dir },
      );
      expect(destination.type).toBe('hubspot');
      expect(destination.capabilities.maxRequestsPerSecond).toBe(10);
      expect((await destination.describe('contacts')).some((f) => f.name === 'email')).toBe(true);
    } finally {
      delete process.env.TEST_OPEN_DEST_TOKEN;
      await server.close();
    }
  });

  it('names the config path when the token is not set', () => {
    expect(() =>
      openDestination(
        'crm',
        {
          type: 'hubspot',
          enabled: true,
          base_url: 'http://127.0.0.1:9',
          token: { env: 'TEST_OPEN_DEST_UNSET' },
          timeout_ms: 30000,
        },
        { dir },
      ),
    ).toThrow(/TEST_OPEN_DEST_UNSET is not set/);
  });

  it('opens a webhook destination with its signing secret from a file', async () => {
    writeFileSync(join(dir, 'hook.secret'), 'file-secret\n');
    const receiver = await startWebhookReceiver({ secret: 'file-secret' });
    try {
      const destination = openDestination(
        'hook',
        {
          type: 'webhook',
          enabled: true,
          url: receiver.url,
          secret: { file: 'hook.secret' },
          headers: { 'x-api-key': 'plain' },
          timeout_ms: 30000,
        },
        { dir },
      );
      const results = await destination.write({
        object: 'contacts',
        operation: 'upsert',
        matchField: 'email',
        records: [{ key: 'a@example.com', fields: { n: 1 } }],
      });
      expect(results).toEqual([
        { status: 'ok', key: 'a@example.com', destinationId: 'rec-a@example.com' },
      ]);
      expect(destination.capabilities.openSchema).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
