// The SQL editor (#/sql): one read-only statement through POST /api/query; Ctrl/⌘+Enter runs it.
// Results show the first 1,000 rows with the row count, a truncated notice, the data version and
// the time; "CSV" runs the statement again as format csv and saves the answer.
import { useEffect, useRef, useState } from 'react';
import type { QueryResult } from '../api';
import { ApiError, apiFetch, downloadBlob, post, useApi } from '../api';
import type { CatalogEntry } from '../api';
import type { Route } from '../router';
import { DataTable } from '../components/DataTable';
import { ErrorBox, PageHeader } from '../components/ui';
import { formatMs, sqlName } from '../format';

const STORAGE_KEY = 'tributary.sql';
const RENDER_MAX = 1000;

function initialSql(table: string | null): string {
  if (table)
    return `SELECT *\nFROM ${/^[A-Za-z_][A-Za-z0-9_.]*$/.test(table) ? table : `"${table.replace(/"/g, '""')}"`}\nLIMIT 100`;
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved) return saved;
  } catch {
    // storage unavailable
  }
  return 'SELECT 42 AS answer';
}

export function SqlPage({ route }: { route: Route }) {
  const [sql, setSql] = useState(() => initialSql(route.query.get('table')));
  const [result, setResult] = useState<QueryResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [running, setRunning] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const [ranSql, setRanSql] = useState('');
  const textarea = useRef<HTMLTextAreaElement>(null);
  const catalog = useApi<CatalogEntry[]>('/api/catalog');

  useEffect(() => {
    try {
      localStorage.setItem(STORAGE_KEY, sql);
    } catch {
      // storage unavailable
    }
  }, [sql]);

  const run = async () => {
    const text = sql.trim();
    if (!text || running) return;
    setRunning(true);
    setError(null);
    try {
      const r = await post<QueryResult>('/api/query', { sql: text, format: 'json' });
      setResult(r);
      setRanSql(text);
    } catch (e) {
      setResult(null);
      setError(e instanceof ApiError ? e : new ApiError(String(e), 0));
    } finally {
      setRunning(false);
    }
  };

  const downloadCsv = async () => {
    const text = (ranSql || sql).trim();
    if (!text) return;
    setDownloading(true);
    setError(null);
    try {
      const res = await apiFetch('/api/query', {
        method: 'POST',
        body: JSON.stringify({ sql: text, format: 'csv' }),
      });
      downloadBlob(await res.blob(), 'query.csv');
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), 0));
    } finally {
      setDownloading(false);
    }
  };

  const insert = (name: string) => {
    const el = textarea.current;
    if (!el) return setSql((s) => s + name);
    const start = el.selectionStart;
    const end = el.selectionEnd;
    const next = sql.slice(0, start) + name + sql.slice(end);
    setSql(next);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(start + name.length, start + name.length);
    });
  };

  const tables = (catalog.data ?? []).filter((t) => t.zone !== 'raw');

  return (
    <div className="page">
      <PageHeader title="SQL" />
      <div className="sql-layout">
        <div className="sql-main">
          <textarea
            ref={textarea}
            className="sql-input"
            data-testid="sql-input"
            value={sql}
            spellCheck={false}
            autoCapitalize="off"
            autoCorrect="off"
            aria-label="SQL statement"
            rows={8}
            onChange={(e) => setSql(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void run();
              }
            }}
          />
          <div className="sql-actions">
            <button
              type="button"
              className="btn btn-primary"
              data-testid="sql-run"
              onClick={() => void run()}
              disabled={running || !sql.trim()}
            >
              {running ? 'Running…' : 'Run'}
            </button>
            <span className="muted small">Ctrl+Enter runs · read-only, one statement</span>
            <span className="spacer" />
            <button
              type="button"
              className="btn"
              data-testid="sql-csv"
              onClick={() => void downloadCsv()}
              disabled={downloading || !(ranSql || sql).trim()}
              title="Run the statement as CSV and download it"
            >
              {downloading ? 'Preparing…' : 'Download CSV'}
            </button>
          </div>
        </div>
        {tables.length > 0 ? (
          <details className="sql-tables">
            <summary>Tables ({tables.length})</summary>
            <ul>
              {tables.map((t) => (
                <li key={`${t.zone}/${t.name}`}>
                  <button
                    type="button"
                    className="link mono"
                    onClick={() => insert(sqlName(t.zone, t.name))}
                    title={(t.columns ?? []).map((c) => `${c.name} ${c.type ?? ''}`).join('\n')}
                  >
                    {sqlName(t.zone, t.name)}
                  </button>{' '}
                  <span className="muted small">{t.zone}</span>
                </li>
              ))}
            </ul>
          </details>
        ) : null}
      </div>
      {error ? <ErrorBox error={error} title="Query failed" /> : null}
      {result ? (
        <section className="sql-result" aria-live="polite">
          <p className="result-meta" data-testid="sql-meta">
            <strong>{result.rows.length.toLocaleString()}</strong> row
            {result.rows.length === 1 ? '' : 's'}
            {result.truncated ? (
              <span className="badge badge-warn" data-testid="sql-truncated">
                truncated: more rows exist
              </span>
            ) : null}
            <span className="muted"> · {formatMs(result.ms)}</span>
            <span className="muted"> · data {result.dataVersion}</span>
            {result.rows.length > RENDER_MAX ? (
              <span className="muted"> · showing the first {RENDER_MAX.toLocaleString()}</span>
            ) : null}
          </p>
          <DataTable
            columns={result.columns}
            rows={result.rows}
            max={RENDER_MAX}
            testId="sql-results"
          />
        </section>
      ) : null}
    </div>
  );
}
