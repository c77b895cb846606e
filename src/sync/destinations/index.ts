/**
 * Opens the destination a `destinations.<name>` entry of tributary.yml declares, its secrets read
 * through the project's secrets helper (env var or file, never the YAML itself).
 */
import { readSecret, type DestinationConfig } from '../../project/index.js';
import type { SyncDestination, WaitListener } from '../destination.js';
import type { RateLimit } from '../rate-limit.js';
import { HubSpotDestination } from './hubspot.js';
import { PostgresDestination } from './postgres.js';
import { SalesforceDestination } from './salesforce.js';
import { WebhookDestination } from './webhook.js';

export { HubSpotDestination, HUBSPOT_DEFAULT_LIMIT, type HubSpotOptions } from './hubspot.js';
export {
  SalesforceDestination,
  SALESFORCE_DEFAULT_LIMIT,
  type SalesforceOptions,
} from './salesforce.js';
export {
  WebhookDestination,
  WEBHOOK_DEFAULT_LIMIT,
  signWebhook,
  type WebhookOptions,
} from './webhook.js';
export { PostgresDestination, type PostgresDestinationOptions } from './postgres.js';

export interface OpenDestinationOptions {
  /** Where rate-limit and Retry-After waits are reported. */
  onWait?: WaitListener;
}

function rateLimit(config: {
  rate_limit?: { requests: number; per: number };
}): RateLimit | undefined {
  return config.rate_limit
    ? { requests: config.rate_limit.requests, perMs: config.rate_limit.per }
    : undefined;
}

/** The adapter for a destination entry; `project.dir` is where secret files are relative to. */
export function openDestination(
  name: string,
  config: DestinationConfig,
  project: { dir: string },
  options: OpenDestinationOptions = {},
): SyncDestination {
  const at = (field: string) => `destinations.${name}.${field}`;
  switch (config.type) {
    case 'hubspot':
      return new HubSpotDestination({
        name,
        baseUrl: config.base_url,
        token: readSecret(config.token, at('token'), project.dir),
        rateLimit: rateLimit(config),
        timeoutMs: config.timeout_ms,
        onWait: options.onWait,
      });
    case 'salesforce':
      return new SalesforceDestination({
        name,
        instanceUrl: config.base_url,
        token: readSecret(config.token, at('token'), project.dir),
        apiVersion: config.api_version,
        rateLimit: rateLimit(config),
        timeoutMs: config.timeout_ms,
        onWait: options.onWait,
      });
    case 'webhook':
      return new WebhookDestination({
        name,
        url: config.url,
        secret: readSecret(config.secret, at('secret'), project.dir),
        headers: Object.fromEntries(
          Object.entries(config.headers).map(([header, value]) => [
            header,
            typeof value === 'string'
              ? value
              : readSecret(value, at(`headers.${header}`), project.dir),
          ]),
        ),
        rateLimit: rateLimit(config),
        timeoutMs: config.timeout_ms,
        onWait: options.onWait,
      });
    case 'postgres':
      return new PostgresDestination({
        url: readSecret(config.url, at('url'), project.dir),
        schema: config.schema,
      });
  }
}
