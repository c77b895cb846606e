// Syncs (reverse ETL): every sync with its destination and its last run's counts (#/syncs), and
// one sync's run history (#/syncs/:name), dry runs marked. Rejected records are dead letters,
// linked to the dead-letter page filtered to records.
import { useState } from 'react';
import type { SyncDryRun, SyncRun, SyncSummary } from '../api';
import { ApiError, enc, post, useApi } from '../api';
import { href, navigate } from '../router';
import type { Route } from '../router';
import { Empty, ErrorBox, Loading, onActivate, PageHeader, StatusBadge } from '../components/ui';
import { formatCount, formatDuration, formatTime } from '../format';

export function SyncsPage({ route, canOperate }: { route: Route; canOperate: boolean }) {
  const name = route.path[1];
  return name ? <SyncDetail name={name} canOperate={canOperate} /> : <SyncList />;
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** A turned-off sync shows `disabled` (its runs are skipped), else its last run's status. */
const syncStatus = (s: SyncSummary) =>
  s.disabled ? 'disabled' : (s.lastRun?.status ?? 'never run');

function SyncList() {
  const syncs = useApi<SyncSummary[]>('/api/syncs', { pollMs: 10000 });
  return (
    <div className="page">
      <PageHeader title="Syncs">
        <button type="button" className="btn" onClick={syncs.reload}>
          Refresh
        </button>
      </PageHeader>
      <p className="muted">
        Warehouse rows sent to business tools. Each run sends only what changed since the last one;
        records a destination rejects wait in the <a href="#/dlq?kind=record">dead letters</a>.
      </p>
      {syncs.error ? <ErrorBox error={syncs.error} /> : null}
      {syncs.loading && !syncs.data ? <Loading what="syncs" /> : null}
      {syncs.data && syncs.data.length === 0 ? (
        <Empty>No syncs. Add one as syncs/&lt;name&gt;.yml (docs/syncs.md).</Empty>
      ) : null}
      {syncs.data && syncs.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data-table clickable" data-testid="syncs-table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Sync</th>
                <th>Destination</th>
                <th>Mode</th>
                <th>Last run</th>
                <th className="num">Inserted</th>
                <th className="num">Updated</th>
                <th className="num">Deleted</th>
                <th className="num">Rejected</th>
                <th className="num">Dead letters</th>
              </tr>
            </thead>
            <tbody>
              {syncs.data.map((s) => (
                <tr
                  key={s.name}
                  data-testid={`sync-${s.name}`}
                  tabIndex={0}
                  onClick={() => navigate(href(['syncs', s.name]))}
                  onKeyDown={onActivate(() => navigate(href(['syncs', s.name])))}
                >
                  <td>
                    <StatusBadge status={syncStatus(s)} />
                  </td>
                  <td>
                    <a href={href(['syncs', s.name])} onClick={(e) => e.stopPropagation()}>
                      {s.name}
                    </a>
                    <div className="muted small mono">{s.source}</div>
                    {s.disabled ? (
                      <div className="muted small" data-testid={`sync-disabled-${s.name}`}>
                        skipped: {s.disabled}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    {s.destination} <span className="muted small">({s.destinationType})</span> ·{' '}
                    {s.object}
                  </td>
                  <td>{s.mode}</td>
                  <td className="nowrap">{s.lastRun ? formatTime(s.lastRun.startedAt) : '—'}</td>
                  <td className="num">{s.lastRun ? formatCount(s.lastRun.inserted) : '—'}</td>
                  <td className="num">{s.lastRun ? formatCount(s.lastRun.updated) : '—'}</td>
                  <td className="num">{s.lastRun ? formatCount(s.lastRun.deleted) : '—'}</td>
                  <td className="num">
                    {s.lastRun ? formatCount(s.lastRun.rejected) : '—'}
                    {s.lastRun && s.lastRun.rejected > 0 ? (
                      <span className="muted small"> ({percent(s.lastRun.failedShare)})</span>
                    ) : null}
                  </td>
                  <td className="num">
                    {s.pendingDeadLetters > 0 ? (
                      <a href="#/dlq?kind=record" onClick={(e) => e.stopPropagation()}>
                        {formatCount(s.pendingDeadLetters)}
                      </a>
                    ) : (
                      '0'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function SampleList({
  label,
  records,
  total,
}: {
  label: string;
  records: SyncDryRun['samples']['insert'];
  total: number;
}) {
  if (!total) return null;
  return (
    <div className="small">
      <strong>
        {label} ({formatCount(total)}
        {records.length < total ? `, ${records.length} shown` : ''})
      </strong>
      <ul className="mono">
        {records.map((r) => (
          <li key={r.key}>
            {r.key}{' '}
            <span className="muted">
              {Object.entries(r.fields)
                .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                .join(' ')}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What a dry run would send: counts, then a few records of each operation. */
function DryRunPlan({ plan }: { plan: SyncDryRun }) {
  return (
    <div className="notice" role="status" data-testid="sync-dry-run">
      <p>
        Dry run <a href={href(['runs', plan.runId])}>{plan.runId}</a>: would insert{' '}
        {formatCount(plan.inserted)}, update {formatCount(plan.updated)}, delete{' '}
        {formatCount(plan.deleted)}; {formatCount(plan.unchanged)} unchanged. Nothing was sent.
      </p>
      {plan.status !== 'succeeded' ? <p>{plan.message}</p> : null}
      <SampleList label="Inserts" records={plan.samples.insert} total={plan.inserted} />
      <SampleList label="Updates" records={plan.samples.update} total={plan.updated} />
      <SampleList label="Deletes" records={plan.samples.delete} total={plan.deleted} />
    </div>
  );
}

/** "Sync now" (queued on the server like any run) and "Dry run" (answers what it would send). */
function SyncActions({ name, onQueued }: { name: string; onQueued: () => void }) {
  const [busy, setBusy] = useState<'run' | 'dry' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [plan, setPlan] = useState<SyncDryRun | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const act = async (dryRun: boolean) => {
    setBusy(dryRun ? 'dry' : 'run');
    setNotice(null);
    setPlan(null);
    setError(null);
    try {
      if (dryRun) setPlan(await post<SyncDryRun>(`/api/syncs/${enc(name)}/run`, { dryRun: true }));
      else {
        const queued = await post<{ position: number; runId?: string }>(
          `/api/syncs/${enc(name)}/run`,
          {},
        );
        setNotice(
          queued.runId
            ? `Sync run ${queued.runId} started; it appears in the history below when it finishes.`
            : `Sync queued (position ${queued.position}) behind the run in progress.`,
        );
      }
      window.setTimeout(onQueued, 800);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), 0));
    } finally {
      setBusy(null);
    }
  };
  return (
    <>
      <div className="actions">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="sync-now"
          disabled={busy !== null}
          onClick={() => void act(false)}
        >
          {busy === 'run' ? 'Starting…' : 'Sync now'}
        </button>{' '}
        <button
          type="button"
          className="btn"
          data-testid="sync-dry-run-button"
          disabled={busy !== null}
          onClick={() => void act(true)}
        >
          {busy === 'dry' ? 'Computing…' : 'Dry run'}
        </button>
      </div>
      {notice ? (
        <p className="notice" role="status" data-testid="sync-queued">
          {notice}
        </p>
      ) : null}
      {plan ? <DryRunPlan plan={plan} /> : null}
      {error ? <ErrorBox error={error} title="Could not run the sync" /> : null}
    </>
  );
}

function SyncDetail({ name, canOperate }: { name: string; canOperate: boolean }) {
  const syncs = useApi<SyncSummary[]>('/api/syncs');
  const runs = useApi<SyncRun[]>(`/api/syncs/${enc(name)}/runs?limit=100`, { pollMs: 10000 });
  const sync = syncs.data?.find((s) => s.name === name);
  return (
    <div className="page">
      <p className="crumbs">
        <a href="#/syncs">Syncs</a> / <span className="mono">{name}</span>
      </p>
      <PageHeader
        title={
          <>
            Sync <span className="mono">{name}</span>{' '}
            {sync ? <StatusBadge status={syncStatus(sync)} /> : null}
          </>
        }
      />
      {sync?.disabled ? (
        <p className="muted" data-testid="sync-disabled">
          Skipped in runs: {sync.disabled}.
        </p>
      ) : null}
      {canOperate && sync && !sync.disabled ? (
        <SyncActions
          name={name}
          onQueued={() => {
            runs.reload();
            syncs.reload();
          }}
        />
      ) : null}
      {sync ? (
        <dl className="facts">
          <div>
            <dt>Source</dt>
            <dd className="mono">{sync.source}</dd>
          </div>
          <div>
            <dt>Destination</dt>
            <dd>
              {sync.destination} ({sync.destinationType}) · {sync.object}
            </dd>
          </div>
          <div>
            <dt>Mode</dt>
            <dd>{sync.mode}</dd>
          </div>
          <div>
            <dt>File</dt>
            <dd className="mono">{sync.file}</dd>
          </div>
          <div>
            <dt>Dead letters</dt>
            <dd>
              <a href="#/dlq?kind=record">{formatCount(sync.pendingDeadLetters)} waiting</a>
            </dd>
          </div>
        </dl>
      ) : null}
      <h2>History</h2>
      {runs.error ? <ErrorBox error={runs.error} /> : null}
      {runs.loading && !runs.data ? <Loading what="history" /> : null}
      {runs.data && runs.data.length === 0 ? <Empty>This sync has not run yet.</Empty> : null}
      {runs.data && runs.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data-table" data-testid="sync-history">
            <thead>
              <tr>
                <th>Status</th>
                <th>Run</th>
                <th>Started</th>
                <th className="num">Duration</th>
                <th className="num">Inserted</th>
                <th className="num">Updated</th>
                <th className="num">Deleted</th>
                <th className="num">Rejected</th>
                <th className="num">Unchanged</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((r) => (
                <tr key={r.runId} data-testid={`sync-run-${r.runId}`}>
                  <td>
                    <StatusBadge status={r.status} />
                    {r.dryRun ? <span className="muted small"> dry run</span> : null}
                  </td>
                  <td className="mono">
                    <a href={href(['runs', r.runId])}>{r.runId}</a>
                  </td>
                  <td className="nowrap">{formatTime(r.startedAt)}</td>
                  <td className="num nowrap">{formatDuration(r.startedAt, r.finishedAt)}</td>
                  <td className="num">{formatCount(r.inserted)}</td>
                  <td className="num">{formatCount(r.updated)}</td>
                  <td className="num">{formatCount(r.deleted)}</td>
                  <td className="num">{formatCount(r.rejected)}</td>
                  <td className="num">{formatCount(r.unchanged)}</td>
                  {/* A succeeded run's message repeats its counts; a failed one's says why. */}
                  <td className="small" title={r.message}>
                    {r.status === 'failed' ? r.message.split('\n')[0] : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
