/**
 * Opening a destination declared under `destinations:` in tributary.yml: the adapter for its
 * type, with its secrets read through the project's secrets helper (as REST sources' auth) and
 * its rate limit from the config. Each adapter's own file documents the API it speaks.
 */
import type { DestinationConfig, Project } from '../../project/index.js';
import { readSecret } from '../../project/index.js';
import type { SyncDestination } from '../destination.js';
import type { RateLimit } from '../rate-limit.js';
import { HubSpotDestination } from './hubspot.js';
import { PostgresDestination } from './postgres.js';
import { WebhookDestination } from './webhook.js';

export { HubSpotDestination, HUBSPOT_DEFAULT_LIMIT, type HubSpotOptions } from './hubspot.js';
export { PostgresDestination, type PostgresDestinationOptions } from './postgres.js';
export {
  WebhookDestination,
  WEBHOOK_DEFAULT_LIMIT,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signWebhook,
  type WebhookOptions,
} from './webhook.js';

/** `rateLimit` for the adapter's options: the configured limit, or nothing (its documented default). */
const rateLimitOf = (config: {
  rate_limit?: { requests: number; per: number } | undefined;
}): { rateLimit?: RateLimit } =>
  config.rate_limit
    ? { rateLimit: { requests: config.rate_limit.requests, perMs: config.rate_limit.per } }
    : {};

/** The adapter for `destinations.<name>`; a missing secret is an error naming its config path. */
export function openDestination(
  name: string,
  config: DestinationConfig,
  project: Pick<Project, 'dir'>,
): SyncDestination {
  const where = (key: string) => `destinations.${name}.${key}`;
  switch (config.type) {
    case 'hubspot':
      return new HubSpotDestination({
        name,
        baseUrl: config.base_url,
        token: readSecret(config.token, where('token'), project.dir),
        ...rateLimitOf(config),
      });
    case 'webhook':
      return new WebhookDestination({
        name,
        url: config.url,
        secret: readSecret(config.secret, where('secret'), project.dir),
        ...rateLimitOf(config),
      });
    case 'postgres':
      return new PostgresDestination({
        url: readSecret(config.url, where('url'), project.dir),
        schema: config.schema,
      });
    case 'salesforce':
      // sy-dest's Salesforce Bulk API 2.0 adapter joins here when it lands.
      throw new Error(`destination ${name}: type salesforce is not available in this build`);
  }
}
