/**
 * Durations as people write them in YAML: `500ms`, `30s`, `10m`, `26h`, `7d`, or a sum such as
 * `1h30m`. A bare number is milliseconds. Parsed once at load time, so a typo is a config error
 * naming the field rather than a surprise at 3 a.m.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, n, unit] of trimmed.matchAll(PART))
    total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return Math.round(total);
}

/** A duration for messages: `850ms`, `12.3s`, `4m05s`, `26h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) {
    const m = Math.floor(ms / 60_000);
    return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  }
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h}h` : `${h.toFixed(1)}h`;
}
