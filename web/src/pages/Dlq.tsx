// The dead-letter store (#/dlq): failed events, triggered runs and sync records, filterable by
// status and kind; a letter's payload and error open below the list; operators replay one.
import { useState } from 'react';
import type { DeadLetter, Replayed } from '../api';
import { ApiError, enc, post, qs, useApi } from '../api';
import { href, navigate } from '../router';
import type { Route } from '../router';
import { Empty, ErrorBox, Loading, onActivate, PageHeader, StatusBadge } from '../components/ui';
import { formatTime } from '../format';

export function DlqPage({ route, canOperate }: { route: Route; canOperate: boolean }) {
  const status = route.query.get('status') ?? '';
  const kind = route.query.get('kind') ?? '';
  const open = route.query.get('id') ?? undefined;
  const letters = useApi<DeadLetter[]>(`/api/dlq${qs({ status, kind })}`, { keep: true });
  const all = useApi<DeadLetter[]>('/api/dlq');
  const [replaying, setReplaying] = useState<string | null>(null);
  const [result, setResult] = useState<{ id: string; text: string; ok: boolean } | null>(null);

  const go = (q: { status?: string; kind?: string; id?: string }) =>
    navigate(href(['dlq'], { status, kind, id: open, ...q }), true);

  const replay = async (id: string) => {
    setReplaying(id);
    setResult(null);
    try {
      const r = await post<Replayed>(`/api/dlq/${enc(id)}/replay`, {});
      setResult({ id, ok: true, text: `Replayed ${id}: ${r?.status ?? 'done'}` });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(String(e), 0);
      setResult({
        id,
        ok: false,
        text: `Replay of ${id} failed: ${err.message}${err.hint ? ` — ${err.hint}` : ''}`,
      });
    } finally {
      setReplaying(null);
      letters.reload();
      all.reload();
    }
  };

  const statuses = [...new Set((all.data ?? []).map((l) => l.status))].sort();
  const kinds = [...new Set((all.data ?? []).map((l) => l.kind))].sort();
  const selected = (letters.data ?? []).find((l) => l.id === open);

  return (
    <div className="page">
      <PageHeader title="Dead letters">
        <button type="button" className="btn" onClick={letters.reload}>
          Refresh
        </button>
      </PageHeader>
      <div className="toolbar">
        <label className="filter">
          <span>Status</span>
          <select
            value={status}
            onChange={(e) => go({ status: e.target.value })}
            data-testid="dlq-status"
          >
            <option value="">All</option>
            {[...new Set([...statuses, ...(status ? [status] : [])])].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span>Kind</span>
          <select
            value={kind}
            onChange={(e) => go({ kind: e.target.value })}
            data-testid="dlq-kind"
          >
            <option value="">All</option>
            {[...new Set([...kinds, ...(kind ? [kind] : [])])].map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
      </div>
      {result ? (
        <p className={result.ok ? 'notice' : 'notice notice-bad'} role="status">
          {result.text}
        </p>
      ) : null}
      {letters.error ? <ErrorBox error={letters.error} /> : null}
      {letters.loading && !letters.data ? <Loading what="dead letters" /> : null}
      {letters.data && letters.data.length === 0 ? (
        <Empty>No dead letters{status || kind ? ' match these filters' : ''}.</Empty>
      ) : null}
      {letters.data && letters.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data-table clickable" data-testid="dlq-table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Id</th>
                {canOperate ? <th>Action</th> : null}
                <th>Kind</th>
                <th>Source</th>
                <th className="num">Attempts</th>
                <th>Error</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {letters.data.map((l) => (
                <tr
                  key={l.id}
                  data-testid={`dlq-${l.id}`}
                  className={l.id === open ? 'selected' : undefined}
                  onClick={() => go({ id: l.id === open ? '' : l.id })}
                  tabIndex={0}
                  onKeyDown={onActivate(() => go({ id: l.id === open ? '' : l.id }))}
                >
                  <td>
                    <StatusBadge status={l.status} />
                  </td>
                  <td className="mono nowrap">{l.id}</td>
                  {canOperate ? (
                    <td>
                      <button
                        type="button"
                        className="btn btn-small"
                        data-testid={`replay-${l.id}`}
                        disabled={replaying !== null || l.status === 'replayed'}
                        onClick={(e) => {
                          e.stopPropagation();
                          void replay(l.id);
                        }}
                      >
                        {replaying === l.id ? 'Replaying…' : 'Replay'}
                      </button>
                    </td>
                  ) : null}
                  <td>{l.kind}</td>
                  <td className="mono">{l.source}</td>
                  <td className="num">{l.attempts}</td>
                  <td className="message" title={l.error ?? undefined}>
                    {l.error ?? ''}
                  </td>
                  <td className="nowrap">{formatTime(l.lastSeen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {selected ? (
        <section
          className="panel"
          aria-label={`Dead letter ${selected.id}`}
          data-testid="dlq-detail"
        >
          <header className="panel-head">
            <h2>
              <span className="mono">{selected.id}</span> <StatusBadge status={selected.status} />
            </h2>
            <button type="button" className="btn btn-quiet" onClick={() => go({ id: '' })}>
              Close
            </button>
          </header>
          <dl className="facts compact">
            <div>
              <dt>Kind</dt>
              <dd>{selected.kind}</dd>
            </div>
            <div>
              <dt>Source</dt>
              <dd className="mono">{selected.source}</dd>
            </div>
            <div>
              <dt>Attempts</dt>
              <dd>{selected.attempts}</dd>
            </div>
            <div>
              <dt>First seen</dt>
              <dd>{formatTime(selected.firstSeen)}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd>{formatTime(selected.lastSeen)}</dd>
            </div>
          </dl>
          {canOperate ? (
            <p>
              <button
                type="button"
                className="btn btn-primary"
                disabled={replaying !== null || selected.status === 'replayed'}
                onClick={() => void replay(selected.id)}
              >
                {replaying === selected.id ? 'Replaying…' : 'Replay this letter'}
              </button>
            </p>
          ) : null}
          <h3>Error</h3>
          <pre className="log log-error">{selected.error || '—'}</pre>
          <h3>Payload</h3>
          <pre className="log">{formatPayload(selected.payload)}</pre>
        </section>
      ) : null}
    </div>
  );
}

function formatPayload(p: unknown): string {
  if (typeof p === 'string') {
    try {
      return JSON.stringify(JSON.parse(p), null, 2);
    } catch {
      return p;
    }
  }
  return JSON.stringify(p, null, 2) ?? '—';
}
