/**
 * Alert events: what the orchestrator tells people about (a failed run, a step that used up its
 * retries, a successful run, a stale asset), as plain JSON-safe data so an event can be sent,
 * stored in the dead-letter store and sent again later unchanged.
 */
import { formatDuration } from '../core/index.js';
import type { AlertEventType } from '../project/index.js';

/** One failed step of a run, as a failure alert lists it. */
export interface FailedStep {
  asset: string;
  message: string;
}

/** A run ended with failed steps. */
export interface FailureEvent {
  type: 'failure';
  runId: string;
  command: string;
  failedSteps: FailedStep[];
  /** When the event happened (ISO 8601). */
  at: string;
}

/** A step failed on its last allowed attempt. */
export interface RetriesExhaustedEvent {
  type: 'retries_exhausted';
  runId: string;
  asset: string;
  attempts: number;
  error: string;
  at: string;
}

/** A run finished with every step succeeded (opt-in in `alerts.events`). */
export interface SuccessEvent {
  type: 'success';
  runId: string;
  command: string;
  durationMs: number;
  at: string;
}

/** An asset was last updated longer ago than its `freshness.max_age` (or never). */
export interface FreshnessEvent {
  type: 'freshness';
  asset: string;
  maxAgeMs: number;
  /** When the asset was last updated (ISO 8601), or null when it never was. */
  lastUpdatedAt: string | null;
  at: string;
}

/** One file a run refused whole, as the refused_files alert lists it. */
export interface RefusedFileEntry {
  /** The processed asset, e.g. `processed:orders`. */
  asset: string;
  file: string;
  /** Why, with the file's line where known and what to do. */
  message: string;
}

/** A run refused input files whole (a data problem: the run went on without them). */
export interface RefusedFilesEvent {
  type: 'refused_files';
  runId: string;
  command: string;
  files: RefusedFileEntry[];
  at: string;
}

/**
 * Stream records were removed by the log's retention before they were flushed into the lake:
 * lost for good, so it alerts by default. Told once per gap (the table's cursor keeps it).
 */
export interface StreamGapEvent {
  type: 'stream_gap';
  /** The stream table, e.g. `web.clickstream`. */
  table: string;
  stream: string;
  shardId: string;
  /** The last sequence number flushed before the gap. */
  after: string;
  /** The oldest sequence number still in the log: everything between is lost. */
  before: string;
  at: string;
}

/** A sync's destination rejected more than its `alert.failed_share` of the records sent. */
export interface SyncFailuresEvent {
  type: 'sync_failures';
  runId: string;
  /** The sync's name (asset `sync:<name>`). */
  sync: string;
  destination: string;
  /** Records sent in the run, and how many of them the destination rejected. */
  sent: number;
  rejected: number;
  failedShare: number;
  threshold: number;
  at: string;
}

export type AlertEvent =
  | FailureEvent
  | RetriesExhaustedEvent
  | SuccessEvent
  | FreshnessEvent
  | RefusedFilesEvent
  | StreamGapEvent
  | SyncFailuresEvent;

/** Every event type, in the order the config schema lists them. */
export const ALERT_EVENT_TYPES: readonly AlertEventType[] = [
  'failure',
  'retries_exhausted',
  'success',
  'freshness',
  'refused_files',
  'stream_gap',
  'sync_failures',
];

// Compile-time check that the event union and the config's event names stay the same set.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameTypes: Same<AlertEvent['type'], AlertEventType> = true;
void sameTypes;

/** Longest step message a summary quotes, and how many steps it names before "and N more". */
const MESSAGE_CHARS = 120;
const STEPS_NAMED = 3;

/** Text on one line, cut to `max` characters with an ellipsis. */
function oneLine(text: string, max = MESSAGE_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A one-line human summary of an event, used as the email subject, Slack text and log line. */
export function describeAlert(event: AlertEvent): string {
  switch (event.type) {
    case 'failure': {
      const steps = event.failedSteps;
      if (!steps.length) return `run ${event.runId} failed`;
      const named = steps
        .slice(0, STEPS_NAMED)
        .map((s) => `${s.asset}: ${oneLine(s.message)}`)
        .join('; ');
      const more = steps.length > STEPS_NAMED ? `; and ${steps.length - STEPS_NAMED} more` : '';
      return `run ${event.runId} failed: ${plural(steps.length, 'step')} failed (${named}${more})`;
    }
    case 'retries_exhausted':
      return `${event.asset} failed after ${plural(event.attempts, 'attempt')} in run ${event.runId}: ${oneLine(event.error)}`;
    case 'success':
      return `run ${event.runId} (${event.command}) succeeded in ${formatDuration(event.durationMs)}`;
    case 'freshness': {
      const limit = `max age ${formatDuration(event.maxAgeMs)}`;
      if (event.lastUpdatedAt === null) return `${event.asset} has never been updated (${limit})`;
      const age = Date.parse(event.at) - Date.parse(event.lastUpdatedAt);
      const ago = Number.isFinite(age)
        ? `${formatDuration(Math.max(0, age))} ago`
        : 'at an unknown time';
      return `${event.asset} is stale: last updated ${ago}, at ${event.lastUpdatedAt} (${limit})`;
    }
    case 'refused_files': {
      const named = event.files
        .slice(0, STEPS_NAMED)
        .map((f) => oneLine(f.message))
        .join('; ');
      const more =
        event.files.length > STEPS_NAMED ? `; and ${event.files.length - STEPS_NAMED} more` : '';
      return `run ${event.runId} refused ${plural(event.files.length, 'file')} (${named}${more})`;
    }
    case 'stream_gap':
      return `stream ${event.stream} ${event.shardId}: records after ${event.after} and before ${event.before} were removed by retention before they reached ${event.table}; they are lost`;
    case 'sync_failures':
      return `sync ${event.sync} to ${event.destination}: ${event.rejected} of ${event.sent} records rejected (${percent(event.failedShare)}, over the ${percent(event.threshold)} threshold) in run ${event.runId}`;
  }
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** The event's fields as `label: value` lines, for an email body or a Slack message. */
export function alertDetails(event: AlertEvent): string[] {
  switch (event.type) {
    case 'failure':
      return [
        `run: ${event.runId}`,
        `command: ${event.command}`,
        `at: ${event.at}`,
        `failed steps (${event.failedSteps.length}):`,
        ...event.failedSteps.map((s) => `  ${s.asset}: ${oneLine(s.message, 1000)}`),
      ];
    case 'retries_exhausted':
      return [
        `run: ${event.runId}`,
        `asset: ${event.asset}`,
        `attempts: ${event.attempts}`,
        `at: ${event.at}`,
        `error: ${oneLine(event.error, 2000)}`,
      ];
    case 'success':
      return [
        `run: ${event.runId}`,
        `command: ${event.command}`,
        `duration: ${formatDuration(event.durationMs)}`,
        `at: ${event.at}`,
      ];
    case 'freshness':
      return [
        `asset: ${event.asset}`,
        `max age: ${formatDuration(event.maxAgeMs)}`,
        `last updated: ${event.lastUpdatedAt ?? 'never'}`,
        `checked at: ${event.at}`,
      ];
    case 'refused_files':
      return [
        `run: ${event.runId}`,
        `command: ${event.command}`,
        `at: ${event.at}`,
        `refused files (${event.files.length}):`,
        ...event.files.map((f) => `  ${f.asset}: ${oneLine(f.message, 1000)}`),
        'after fixing the file (or the contract): tributary run --retry-rejected',
      ];
    case 'stream_gap':
      return [
        `table: ${event.table}`,
        `stream: ${event.stream}`,
        `shard: ${event.shardId}`,
        `lost: the records after sequence number ${event.after} and before ${event.before}`,
        `at: ${event.at}`,
        "to keep it from happening again: raise the stream's retention in tributary.yml, or flush more often (the table's buffer max_age)",
      ];
    case 'sync_failures':
      return [
        `run: ${event.runId}`,
        `sync: ${event.sync}`,
        `destination: ${event.destination}`,
        `rejected: ${event.rejected} of ${event.sent} sent (${percent(event.failedShare)})`,
        `threshold: ${percent(event.threshold)} (alert.failed_share in syncs/${event.sync}.yml)`,
        `at: ${event.at}`,
        `the rejected records are dead letters (source sync:${event.sync}): tributary dlq list --kind record`,
      ];
  }
}

/** True when a value read back (from the dead-letter store) has the shape of an alert event. */
export function isAlertEvent(value: unknown): value is AlertEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const str = (k: string) => typeof v[k] === 'string';
  const num = (k: string) => typeof v[k] === 'number';
  if (!str('at')) return false;
  switch (v.type) {
    case 'failure':
      return (
        str('runId') &&
        str('command') &&
        Array.isArray(v.failedSteps) &&
        v.failedSteps.every(
          (s: unknown) =>
            typeof s === 'object' &&
            s !== null &&
            typeof (s as FailedStep).asset === 'string' &&
            typeof (s as FailedStep).message === 'string',
        )
      );
    case 'retries_exhausted':
      return str('runId') && str('asset') && num('attempts') && str('error');
    case 'success':
      return str('runId') && str('command') && num('durationMs');
    case 'freshness':
      return str('asset') && num('maxAgeMs') && (v.lastUpdatedAt === null || str('lastUpdatedAt'));
    case 'refused_files':
      return (
        str('runId') &&
        str('command') &&
        Array.isArray(v.files) &&
        v.files.every(
          (f: unknown) =>
            typeof f === 'object' &&
            f !== null &&
            typeof (f as RefusedFileEntry).asset === 'string' &&
            typeof (f as RefusedFileEntry).file === 'string' &&
            typeof (f as RefusedFileEntry).message === 'string',
        )
      );
    case 'stream_gap':
      return str('table') && str('stream') && str('shardId') && str('after') && str('before');
    case 'sync_failures':
      return (
        str('runId') &&
        str('sync') &&
        str('destination') &&
        num('sent') &&
        num('rejected') &&
        num('failedShare') &&
        num('threshold')
      );
    default:
      return false;
  }
}
