/**
 * How a Tributary stream maps onto NATS JetStream, in one place: one JetStream stream per
 * Tributary stream, named `<prefix>_<name>`, taking the subjects `<prefix>.<name>.<shardIndex>`
 * (one subject per shard, so a shard is read with a subject filter). The stream's settings
 * (shards, retention, creation time) and the per-shard trim marks live as JSON in the JetStream
 * stream's `description`: nats-server 2.9 has no stream `metadata` (2.10 added it), and keeping
 * them on the stream itself means they are created and deleted with it in one step, never out of
 * step with a separate KV entry.
 */
import type { StreamSettings } from '../log.js';

/** What the description of a Tributary-owned JetStream stream holds. */
export interface StoredStreamMeta {
  /** Marks the description as ours, with its layout version. */
  tributary: 1;
  prefix: string;
  /** The Tributary stream's own name (before encoding). */
  name: string;
  settings: StreamSettings;
  createdAt: string;
  /**
   * Per shard index: records of the shard below this sequence number were removed by
   * `enforceRetention`'s per-shard byte limit (the server's own age and size limits remove from
   * the front of the whole stream, which the stream's first sequence number already shows).
   */
  trimmedBelow?: Record<string, number>;
}

/**
 * Encodes a stream name into a token JetStream accepts in stream names and subjects: letters,
 * digits, `_` and `-` pass; every other byte (`.`, `*`, `>`, spaces, non-ASCII) becomes `=XX`, so
 * the encoding is one-to-one and Kinesis names such as `orders.v2` still work.
 */
export function encodeNameToken(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(char)
      ? char
      : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The JetStream stream that holds Tributary stream `name`. */
export function jetStreamNameOf(prefix: string, name: string): string {
  return `${prefix}_${encodeNameToken(name)}`;
}

/** The subject of one shard of a stream. */
export function shardSubjectOf(prefix: string, name: string, shardIndex: number): string {
  return `${prefix}.${encodeNameToken(name)}.${shardIndex}`;
}

/** The wildcard taking every shard's subject of a stream. */
export function streamSubjectsOf(prefix: string, name: string): string {
  return `${prefix}.${encodeNameToken(name)}.*`;
}

/** Serialises the stream's metadata for the JetStream description. */
export function encodeMeta(meta: StoredStreamMeta): string {
  return JSON.stringify(meta);
}

/**
 * Reads a JetStream description written by `encodeMeta`, or undefined when the stream is not
 * one of ours (another tool's stream, or another prefix's that shares the name).
 */
export function decodeMeta(
  description: string | undefined,
  prefix: string,
): StoredStreamMeta | undefined {
  if (!description) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(description);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const meta = parsed as Partial<StoredStreamMeta>;
  if (meta.tributary !== 1 || meta.prefix !== prefix || typeof meta.name !== 'string')
    return undefined;
  if (typeof meta.settings?.shards !== 'number' || typeof meta.createdAt !== 'string')
    return undefined;
  return meta as StoredStreamMeta;
}
