// Data quality (#/quality): the latest result of every test (status, failing rows), and the
// quarantine per table with its reasons; choosing a table (#/quality?table=…) lists its
// quarantined rows with the reason columns first.
import { useMemo } from 'react';
import type { Column, Quality, QuarantineRows } from '../api';
import { enc, qs, useApi } from '../api';
import { href, navigate } from '../router';
import type { Route } from '../router';
import { DataTable } from '../components/DataTable';
import { columnName } from '../tile-data';
import { Empty, ErrorBox, Loading, PageHeader, StatusBadge, statusClass } from '../components/ui';
import { formatCount, formatTime } from '../format';

const REASON_COLUMNS = [
  '_reason',
  '_column',
  '_value',
  '_message',
  '_source_file',
  '_record',
  '_line',
];

export function QualityPage({ route }: { route: Route }) {
  const table = route.query.get('table') ?? undefined;
  const { data, error, loading } = useApi<Quality>('/api/quality');
  const tests = data?.tests ?? [];
  const failing = tests.filter((t) => statusClass(t.status) !== 'ok');
  const quarantined = (data?.quarantine ?? []).reduce((s, q) => s + (Number(q.rows) || 0), 0);
  return (
    <div className="page">
      <PageHeader title="Data quality" />
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="quality results" /> : null}
      {data ? (
        <>
          <div className="stat-row">
            <div className="stat">
              <div className="stat-value">{tests.length}</div>
              <div className="stat-label">tests</div>
            </div>
            <div className={`stat${failing.length ? ' stat-bad' : ''}`}>
              <div className="stat-value">{failing.length}</div>
              <div className="stat-label">not passing</div>
            </div>
            <div className={`stat${quarantined ? ' stat-warn' : ''}`}>
              <div className="stat-value">{formatCount(quarantined)}</div>
              <div className="stat-label">quarantined rows</div>
            </div>
          </div>

          <h2>Quarantine</h2>
          {data.quarantine.length === 0 ? <Empty>No rows have been quarantined.</Empty> : null}
          {data.quarantine.length > 0 ? (
            <div className="table-wrap">
              <table className="data-table clickable" data-testid="quarantine-summary">
                <thead>
                  <tr>
                    <th>Table</th>
                    <th>Source</th>
                    <th className="num">Rows</th>
                    <th>Reasons</th>
                  </tr>
                </thead>
                <tbody>
                  {[...data.quarantine]
                    .sort((a, b) => (Number(b.rows) || 0) - (Number(a.rows) || 0))
                    .map((q) => (
                      <tr
                        key={`${q.source ?? ''}/${q.table}`}
                        data-testid={`quarantine-${q.table}`}
                        className={q.table === table ? 'selected' : undefined}
                        onClick={() => navigate(href(['quality'], { table: q.table }), true)}
                      >
                        <td className="mono">
                          <a
                            href={href(['quality'], { table: q.table })}
                            onClick={(e) => e.stopPropagation()}
                          >
                            {q.table}
                          </a>
                        </td>
                        <td>{q.source ?? ''}</td>
                        <td className="num">{formatCount(q.rows)}</td>
                        <td>
                          {q.rejectedFiles ? (
                            <span className="chip">
                              rejected files <span className="muted">{q.rejectedFiles}</span>
                            </span>
                          ) : null}
                          <ul className="chips inline">
                            {Object.entries(q.reasons ?? {})
                              .sort((a, b) => b[1] - a[1])
                              .map(([reason, n]) => (
                                <li key={reason} className="chip">
                                  {reason} <span className="muted">{formatCount(n)}</span>
                                </li>
                              ))}
                          </ul>
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {table ? <QuarantineRows table={table} /> : null}

          <h2>Tests</h2>
          {tests.length === 0 ? <Empty>No tests have run yet.</Empty> : null}
          {tests.length > 0 ? (
            <div className="table-wrap">
              <table className="data-table" data-testid="quality-tests">
                <thead>
                  <tr>
                    <th>Status</th>
                    <th>Test</th>
                    <th className="num">Failing rows</th>
                    <th>Message</th>
                    <th>Run</th>
                    <th>Finished</th>
                  </tr>
                </thead>
                <tbody>
                  {[...tests]
                    .sort(
                      (a, b) =>
                        Number(failing.includes(b)) - Number(failing.includes(a)) ||
                        a.asset.localeCompare(b.asset),
                    )
                    .map((t) => (
                      <tr key={t.asset} data-testid={`test-${t.asset}`}>
                        <td>
                          <StatusBadge status={t.status} />
                        </td>
                        <td className="mono">{t.asset}</td>
                        <td className="num">{formatCount(t.failingRows)}</td>
                        <td className="message" title={t.message ?? undefined}>
                          {t.message ?? ''}
                        </td>
                        <td className="mono">
                          {t.runId ? (
                            <a href={href(['runs', t.runId], { step: t.asset })}>{t.runId}</a>
                          ) : (
                            '—'
                          )}
                        </td>
                        <td className="nowrap">{formatTime(t.finishedAt)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

function QuarantineRows({ table }: { table: string }) {
  const { data, error, loading } = useApi<QuarantineRows>(
    `/api/quarantine/${enc(table)}${qs({ limit: 1000 })}`,
  );
  const columns = useMemo(() => {
    const cols = data?.columns ?? [];
    const reason = REASON_COLUMNS.map((n) => cols.find((c) => columnName(c) === n)).filter(
      (c): c is Column => c !== undefined,
    );
    return [...reason, ...cols.filter((c) => !REASON_COLUMNS.includes(columnName(c)))];
  }, [data]);
  return (
    <section className="panel" aria-label={`Quarantined rows of ${table}`}>
      <header className="panel-head">
        <h2>
          Quarantined rows: <span className="mono">{table}</span>
        </h2>
        <a className="btn btn-quiet" href="#/quality">
          Close
        </a>
      </header>
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="rows" /> : null}
      {data && data.rows.length === 0 ? <Empty>No quarantined rows.</Empty> : null}
      {data && data.rows.length > 0 ? (
        <>
          <p className="muted small">
            {data.rows.length.toLocaleString()} row{data.rows.length === 1 ? '' : 's'}
            {data.rows.length >= 1000 ? ' (the first 1,000)' : ''}. The reason columns come first.
          </p>
          <DataTable
            columns={columns}
            rows={data.rows}
            testId="quarantine-rows"
            emphasize={['_reason', '_column', '_value']}
          />
        </>
      ) : null}
    </section>
  );
}
