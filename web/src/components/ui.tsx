// Small shared pieces: status badges, loading and error boxes, an empty-state line.
import type { KeyboardEvent, ReactNode } from 'react';
import type { ApiError } from '../api';

const STATUS_CLASS: Record<string, string> = {
  success: 'ok',
  succeeded: 'ok',
  pass: 'ok',
  passed: 'ok',
  ok: 'ok',
  replayed: 'ok',
  fresh: 'ok',
  up_to_date: 'ok',
  running: 'run',
  queued: 'run',
  pending: 'run',
  replaying: 'run',
  retrying: 'run',
  warn: 'warn',
  warning: 'warn',
  skipped: 'muted',
  cancelled: 'muted',
  canceled: 'muted',
  purged: 'muted',
  error: 'bad',
  failed: 'bad',
  fail: 'bad',
  failure: 'bad',
  timeout: 'bad',
  dead: 'bad',
};

const STATUS_ICON: Record<string, string> = { ok: '✓', run: '●', warn: '!', bad: '✗', muted: '–' };

/** ok, run, warn, bad or muted for a status word. */
export function statusClass(status: string | null | undefined): string {
  return STATUS_CLASS[(status ?? '').toLowerCase()] ?? 'muted';
}

/** A status word in a coloured pill, with an icon so the colour is never the only signal. */
export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = (status ?? 'unknown').toLowerCase();
  const cls = statusClass(s);
  return (
    <span className={`badge badge-${cls}`} data-status={s}>
      <span aria-hidden="true">{STATUS_ICON[cls]}</span> {s.replace(/_/g, ' ')}
    </span>
  );
}

/** A key handler that runs `action` on Enter or Space (for clickable table rows). */
export function onActivate(action: () => void) {
  return (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      action();
    }
  };
}

export function Loading({ what }: { what?: string }) {
  return <p className="loading">Loading{what ? ` ${what}` : ''}…</p>;
}

export function ErrorBox({ error, title }: { error: ApiError | Error | string; title?: string }) {
  const message = typeof error === 'string' ? error : error.message;
  const hint = typeof error === 'object' && 'hint' in error ? error.hint : undefined;
  const code = typeof error === 'object' && 'code' in error ? error.code : undefined;
  return (
    <div className="error-box" role="alert">
      <strong>{title ?? 'Error'}</strong>
      {code && code !== 'NETWORK' ? <span className="error-code">{code}</span> : null}
      <div className="error-message">{message}</div>
      {hint ? <div className="error-hint">{hint}</div> : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}
