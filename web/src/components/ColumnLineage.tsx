// Column lineage in the graph's side panel: a picker of the selected asset's columns; picking one
// shows the columns it is made from (down to the landing file field) and the columns, dashboard
// tiles and sync fields it feeds, each with how it is transformed, and where lineage goes cold.
import { useEffect } from 'react';
import type { ColumnTrace, LineageColumns, TracedColumn } from '../api';
import { useApi } from '../api';
import { ErrorBox, Loading } from './ui';

/** The assets a column's trace passes through, for the graph to light up. */
export interface ColumnPath {
  upstream: Set<string>;
  downstream: Set<string>;
}

export function ColumnLineage({
  asset,
  column,
  onColumn,
  onPath,
}: {
  asset: string;
  column: string | undefined;
  /** Picks a column (of this asset or another one, from the lists). */
  onColumn: (asset: string, column: string | undefined) => void;
  /** The assets on the picked column's trace (null when no column is picked). */
  onPath: (path: ColumnPath | null) => void;
}) {
  const all = useApi<LineageColumns>('/api/lineage/columns');
  const entry = all.data?.assets.find((a) => a.asset === asset);
  const columns = entry?.columns ?? [];
  const chosen = column && columns.includes(column) ? column : undefined;
  const trace = useApi<ColumnTrace>(
    chosen
      ? `/api/lineage/columns/${encodeURIComponent(asset)}/${encodeURIComponent(chosen)}`
      : null,
  );
  const traced = chosen ? trace.data : undefined;
  useEffect(() => {
    onPath(
      traced
        ? {
            upstream: new Set((traced.upstream ?? []).map((t) => t.asset)),
            downstream: new Set((traced.downstream ?? []).map((t) => t.asset)),
          }
        : null,
    );
  }, [traced, onPath]);
  // Leaving the asset (or the page) leaves nothing lit.
  useEffect(() => () => onPath(null), [onPath]);
  return (
    <section className="column-lineage">
      <h3>Columns</h3>
      {all.error ? <ErrorBox error={all.error} /> : null}
      {all.loading && !all.data ? <Loading what="column lineage" /> : null}
      {entry?.unresolved ? (
        <p className="muted small" data-testid="column-unresolved">
          Unresolved: {entry.unresolved}
        </p>
      ) : null}
      {columns.length ? (
        <select
          data-testid="column-picker"
          aria-label="Column"
          value={chosen ?? ''}
          onChange={(e) => onColumn(asset, e.target.value || undefined)}
        >
          <option value="">Pick a column…</option>
          {columns.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      ) : all.data && !entry?.unresolved ? (
        <p className="muted small">No columns known.</p>
      ) : null}
      {trace.error ? <ErrorBox error={trace.error} /> : null}
      {trace.data ? (
        <>
          {trace.data.unresolved ? (
            <p className="muted small">Unresolved: {trace.data.unresolved}</p>
          ) : null}
          <TraceList
            title="Made from"
            list={trace.data.upstream ?? []}
            testId="column-upstream"
            onColumn={onColumn}
          />
          <TraceList
            title="Feeds"
            list={trace.data.downstream ?? []}
            testId="column-downstream"
            onColumn={onColumn}
          />
          {trace.data.tableLevel?.length ? (
            <>
              <h4>Also read by (columns unresolved)</h4>
              <ul className="lineage-list" data-testid="column-table-level">
                {trace.data.tableLevel.map((t) => (
                  <li key={`${t.asset}.${t.tile ?? ''}`}>
                    <span className="mono">
                      {t.asset}
                      {t.tile ? ` · ${t.tile}` : ''}
                    </span>
                    <span className="muted small"> {t.reason}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function TraceList({
  title,
  list,
  testId,
  onColumn,
}: {
  title: string;
  list: TracedColumn[];
  testId: string;
  onColumn: (asset: string, column: string) => void;
}) {
  return (
    <>
      <h4>
        {title} ({list.length})
      </h4>
      {list.length === 0 ? (
        <p className="muted small">None.</p>
      ) : (
        <ul className="lineage-list" data-testid={testId}>
          {list.map((t) => (
            <li key={t.id} style={{ paddingLeft: `${(t.depth - 1) * 0.6}rem` }}>
              <button
                type="button"
                className="link mono"
                onClick={() => onColumn(t.asset, t.column)}
              >
                {t.id}
              </button>
              <span className="muted small">
                {' '}
                {t.transform}
                {t.unresolved ? ` · unresolved: ${t.unresolved}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
