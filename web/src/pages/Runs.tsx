// Pipeline runs: the history (#/runs) with status badges and, for operators, "Run pipeline";
// one run (#/runs/:id) with its steps, and a step's log when the step is clicked.
import { Fragment, useEffect, useRef, useState } from 'react';
import type { LogLine, Run, RunDetail } from '../api';
import { ApiError, enc, post, qs, useApi } from '../api';
import { href, navigate } from '../router';
import type { Route } from '../router';
import { Empty, ErrorBox, Loading, onActivate, PageHeader, StatusBadge } from '../components/ui';
import { formatCount, formatDuration, formatTime } from '../format';

const ACTIVE = new Set(['running', 'queued', 'pending']);

export function RunsPage({ route, canOperate }: { route: Route; canOperate: boolean }) {
  const id = route.path[1];
  return id ? (
    <RunDetail id={id} step={route.query.get('step') ?? undefined} />
  ) : (
    <RunList canOperate={canOperate} />
  );
}

function RunList({ canOperate }: { canOperate: boolean }) {
  const runs = useApi<Run[]>('/api/runs?limit=100', { pollMs: 5000 });
  const [starting, setStarting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [startError, setStartError] = useState<ApiError | null>(null);

  const start = async () => {
    setStarting(true);
    setNotice(null);
    setStartError(null);
    try {
      const queued = await post<{ position: number; runId?: string }>('/api/runs', {});
      setNotice(
        queued.runId
          ? `Run ${queued.runId} started. It is listed below.`
          : `Run queued (position ${queued.position}). It appears below when it starts.`,
      );
      window.setTimeout(runs.reload, 800);
    } catch (e) {
      setStartError(e instanceof ApiError ? e : new ApiError(String(e), 0));
    } finally {
      setStarting(false);
    }
  };

  return (
    <div className="page">
      <PageHeader title="Pipeline runs">
        {canOperate ? (
          <button
            type="button"
            className="btn btn-primary"
            data-testid="run-pipeline"
            onClick={start}
            disabled={starting}
          >
            {starting ? 'Starting…' : 'Run pipeline'}
          </button>
        ) : null}
      </PageHeader>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {startError ? <ErrorBox error={startError} title="Could not start a run" /> : null}
      {runs.error ? <ErrorBox error={runs.error} /> : null}
      {runs.loading && !runs.data ? <Loading what="runs" /> : null}
      {runs.data && runs.data.length === 0 ? <Empty>No runs yet.</Empty> : null}
      {runs.data && runs.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data-table clickable">
            <thead>
              <tr>
                <th>Status</th>
                <th>Run</th>
                <th>Command</th>
                <th>Trigger</th>
                <th>Started</th>
                <th className="num">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((r) => (
                <tr
                  key={r.runId}
                  data-testid={`run-${r.runId}`}
                  onClick={() => navigate(href(['runs', r.runId]))}
                >
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="mono">
                    <a href={href(['runs', r.runId])} onClick={(e) => e.stopPropagation()}>
                      {r.runId}
                    </a>
                    {r.resumedFrom ? (
                      <span className="muted small"> (resumes {r.resumedFrom})</span>
                    ) : null}
                  </td>
                  <td>{r.command}</td>
                  <td>{r.trigger}</td>
                  <td className="nowrap">{formatTime(r.startedAt)}</td>
                  <td className="num nowrap">
                    {ACTIVE.has(r.status) && !r.finishedAt
                      ? formatDuration(r.startedAt, null) + '…'
                      : formatDuration(r.startedAt, r.finishedAt)}
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

function RunDetail({ id, step }: { id: string; step: string | undefined }) {
  const [active, setActive] = useState(true);
  const detail = useApi<RunDetail>(`/api/runs/${enc(id)}`, {
    pollMs: active ? 3000 : undefined,
  });
  useEffect(() => {
    if (detail.data) setActive(ACTIVE.has(detail.data.run.status));
  }, [detail.data]);

  const select = (asset: string | undefined) => navigate(href(['runs', id], { step: asset }), true);

  if (detail.error && !detail.data) {
    return (
      <div className="page">
        <PageHeader title={`Run ${id}`} />
        <ErrorBox error={detail.error} />
        <p>
          <a href="#/runs">All runs</a>
        </p>
      </div>
    );
  }
  if (!detail.data) return <Loading what="run" />;
  const { run, steps } = detail.data;
  return (
    <div className="page">
      <p className="crumbs">
        <a href="#/runs">Runs</a> / <span className="mono">{run.runId}</span>
      </p>
      <PageHeader
        title={
          <>
            Run <span className="mono">{run.runId}</span> <StatusBadge status={run.status} />
          </>
        }
      />
      <dl className="facts">
        <div>
          <dt>Command</dt>
          <dd>{run.command}</dd>
        </div>
        <div>
          <dt>Trigger</dt>
          <dd>{run.trigger}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatTime(run.finishedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(run.startedAt, run.finishedAt)}</dd>
        </div>
        {run.publishedAt ? (
          <div>
            <dt title="When serve published what this run built: dashboards and queries read it from then">
              Published
            </dt>
            <dd>{formatTime(run.publishedAt)}</dd>
          </div>
        ) : null}
        {run.resumedFrom ? (
          <div>
            <dt>Resumes</dt>
            <dd>
              <a href={href(['runs', run.resumedFrom])}>{run.resumedFrom}</a>
            </dd>
          </div>
        ) : null}
      </dl>
      <h2>Steps</h2>
      {steps.length === 0 ? <Empty>No steps recorded.</Empty> : null}
      <div className="table-wrap">
        <table className="data-table clickable">
          <thead>
            <tr>
              <th>Status</th>
              <th>Asset</th>
              <th>Kind</th>
              <th className="num">Rows in</th>
              <th className="num">Rows out</th>
              <th className="num">Rejected</th>
              <th className="num">Attempts</th>
              <th className="num">Duration</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {steps.map((s) => (
              <Fragment key={s.asset}>
                <tr
                  data-testid={`step-${s.asset}`}
                  className={s.asset === step ? 'selected' : undefined}
                  onClick={() => select(s.asset === step ? undefined : s.asset)}
                  tabIndex={0}
                  onKeyDown={onActivate(() => select(s.asset === step ? undefined : s.asset))}
                  aria-selected={s.asset === step}
                >
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td className="mono">{s.asset}</td>
                  <td>{s.kind}</td>
                  <td className="num">{formatCount(s.rowsIn)}</td>
                  <td className="num">{formatCount(s.rowsOut)}</td>
                  <td className="num">{formatCount(s.rowsRejected)}</td>
                  <td className="num">{s.attempts ?? '—'}</td>
                  <td className="num nowrap">{formatDuration(s.startedAt, s.finishedAt)}</td>
                  <td className="message" title={s.message ?? undefined}>
                    {s.message ?? ''}
                  </td>
                </tr>
                {s.asset === step ? (
                  <tr className="log-row">
                    <td colSpan={9}>
                      <StepLog
                        runId={id}
                        asset={step}
                        live={active}
                        onClose={() => select(undefined)}
                      />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function StepLog({
  runId,
  asset,
  live,
  onClose,
}: {
  runId: string;
  asset: string;
  live: boolean;
  onClose: () => void;
}) {
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    panel.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [asset]);
  const logs = useApi<LogLine[]>(`/api/runs/${enc(runId)}/logs${qs({ step: asset })}`, {
    pollMs: live ? 3000 : undefined,
  });
  return (
    <section className="panel step-log-panel" aria-label={`Log of ${asset}`} ref={panel}>
      <header className="panel-head">
        <h2>
          Log: <span className="mono">{asset}</span>
        </h2>
        <button type="button" className="btn btn-quiet" onClick={onClose}>
          Close
        </button>
      </header>
      {logs.error ? <ErrorBox error={logs.error} /> : null}
      <pre className="log" data-testid="step-log">
        {logs.loading && !logs.data
          ? 'Loading…'
          : logs.data && logs.data.length
            ? logs.data.map((l) => `${formatLogTime(l.at)}  ${l.line}`).join('\n')
            : 'No log lines for this step.'}
      </pre>
    </section>
  );
}

function formatLogTime(at: string): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at;
  return (
    d.toLocaleTimeString(undefined, { hour12: false }) +
    '.' +
    String(d.getMilliseconds()).padStart(3, '0')
  );
}
