// The catalog browser: every lake and warehouse table (#/catalog) with zone, rows, schema version
// and partitions; one table (#/catalog/:zone/:name) with its columns, partitions and schema
// versions, each version showing what changed from the one before.
import { useMemo, useState } from 'react';
import type { CatalogColumn, CatalogDetail, CatalogEntry } from '../api';
import { enc, useApi } from '../api';
import { href } from '../router';
import type { Route } from '../router';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/ui';
import { formatCount, formatTime, sqlName } from '../format';

export function CatalogPage({ route }: { route: Route }) {
  const [, zone, name] = route.path;
  return zone && name ? <TableDetail zone={zone} name={name} /> : <TableList />;
}

/** A partitions field as a count: a list's length, or the number itself. */
function partitionCount(p: CatalogEntry['partitions']): number | null {
  if (Array.isArray(p)) return p.length;
  return typeof p === 'number' ? p : null;
}

function TableList() {
  const { data, error, loading } = useApi<CatalogEntry[]>('/api/catalog');
  const [filter, setFilter] = useState('');
  const [zone, setZone] = useState('');
  const zones = useMemo(() => [...new Set((data ?? []).map((t) => t.zone))].sort(), [data]);
  const q = filter.trim().toLowerCase();
  const shown = (data ?? []).filter(
    (t) => (!zone || t.zone === zone) && (!q || t.name.toLowerCase().includes(q)),
  );
  return (
    <div className="page">
      <PageHeader title="Catalog">
        <span className="muted small">{data ? `${data.length} tables` : ''}</span>
      </PageHeader>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Filter tables…"
          aria-label="Filter tables"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <select aria-label="Zone" value={zone} onChange={(e) => setZone(e.target.value)}>
          <option value="">All zones</option>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="catalog" /> : null}
      {data && shown.length === 0 ? <Empty>No tables match.</Empty> : null}
      {shown.length > 0 ? (
        <div className="table-wrap">
          <table className="data-table" data-testid="catalog-table">
            <thead>
              <tr>
                <th>Zone</th>
                <th>Table</th>
                <th className="num">Rows</th>
                <th className="num">Columns</th>
                <th className="num">Schema version</th>
                <th className="num">Partitions</th>
                <th>Format</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((t) => (
                <tr key={`${t.zone}/${t.name}`} data-testid={`catalog-${t.zone}-${t.name}`}>
                  <td>
                    <span className={`zone zone-${t.zone}`}>{t.zone}</span>
                  </td>
                  <td className="mono">
                    <a href={href(['catalog', t.zone, t.name])}>{t.name}</a>
                  </td>
                  <td className="num">{formatCount(t.rowCount)}</td>
                  <td className="num">{t.columns?.length ?? '—'}</td>
                  <td className="num">{t.schemaVersion ?? '—'}</td>
                  <td className="num">{formatCount(partitionCount(t.partitions))}</td>
                  <td>{t.format ?? ''}</td>
                  <td className="nowrap">{formatTime(t.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

/** What changed in a schema version against the previous one. */
export function schemaDiff(prev: CatalogColumn[] | undefined, next: CatalogColumn[]): string[] {
  if (!prev) return ['first version'];
  const before = new Map(prev.map((c) => [c.name, c.type ?? '']));
  const after = new Map(next.map((c) => [c.name, c.type ?? '']));
  const out: string[] = [];
  for (const [n, t] of after) {
    if (!before.has(n)) out.push(`+ ${n} ${t}`);
    else if (before.get(n) !== t) out.push(`~ ${n} ${before.get(n)} → ${t}`);
  }
  for (const [n, t] of before) if (!after.has(n)) out.push(`− ${n} ${t}`);
  return out.length ? out : ['no column changes'];
}

function TableDetail({ zone, name }: { zone: string; name: string }) {
  const { data, error, loading } = useApi<CatalogDetail>(`/api/catalog/${enc(zone)}/${enc(name)}`);
  const versions = useMemo(
    () => [...(data?.versions ?? [])].sort((a, b) => a.version - b.version),
    [data],
  );
  const partitions = Array.isArray(data?.partitions) ? data.partitions : null;
  return (
    <div className="page">
      <p className="crumbs">
        <a href="#/catalog">Catalog</a> / {zone} / <span className="mono">{name}</span>
      </p>
      <PageHeader
        title={
          <>
            <span className={`zone zone-${zone}`}>{zone}</span> <span className="mono">{name}</span>
          </>
        }
      >
        {zone !== 'raw' ? (
          <a className="btn" href={href(['sql'], { table: sqlName(zone, name) })}>
            Query in SQL
          </a>
        ) : null}
      </PageHeader>
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="table" /> : null}
      {data ? (
        <>
          <dl className="facts">
            <div>
              <dt>Rows</dt>
              <dd>{formatCount(data.rowCount)}</dd>
            </div>
            <div>
              <dt>Schema version</dt>
              <dd>{data.schemaVersion ?? '—'}</dd>
            </div>
            <div>
              <dt>Partitions</dt>
              <dd>{formatCount(partitionCount(data.partitions))}</dd>
            </div>
            <div>
              <dt>Format</dt>
              <dd>{data.format ?? '—'}</dd>
            </div>
            <div>
              <dt>Updated</dt>
              <dd>{formatTime(data.updatedAt)}</dd>
            </div>
            {data.location ? (
              <div className="wide">
                <dt>Location</dt>
                <dd className="mono break">{data.location}</dd>
              </div>
            ) : null}
          </dl>
          <h2>Columns</h2>
          <div className="table-wrap">
            <table className="data-table" data-testid="catalog-columns">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th>Column</th>
                  <th>Type</th>
                </tr>
              </thead>
              <tbody>
                {(data.columns ?? []).map((c, i) => (
                  <tr key={c.name}>
                    <td className="num muted">{i + 1}</td>
                    <td className="mono">{c.name}</td>
                    <td className="mono">{c.type}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {partitions && partitions.length ? (
            <>
              <h2>Partitions ({partitions.length})</h2>
              <ul className="chips">
                {partitions.slice(0, 200).map((p, i) => (
                  <li key={i} className="chip mono">
                    {typeof p === 'object' ? JSON.stringify(p) : String(p)}
                  </li>
                ))}
                {partitions.length > 200 ? (
                  <li className="muted small">…{partitions.length - 200} more</li>
                ) : null}
              </ul>
            </>
          ) : null}
          <h2>Schema versions</h2>
          {versions.length === 0 ? <Empty>No versions recorded.</Empty> : null}
          <ol className="versions" data-testid="catalog-versions">
            {[...versions].reverse().map((v) => {
              const prev =
                versions.find((p) => p.version === v.version - 1) ??
                versions.filter((p) => p.version < v.version).pop();
              return (
                <li key={v.version}>
                  <div className="version-head">
                    <strong>v{v.version}</strong>{' '}
                    <span className="muted small">{formatTime(v.recordedAt)}</span>{' '}
                    <span className="muted small">{v.columns.length} columns</span>
                  </div>
                  <ul className="diff">
                    {schemaDiff(prev?.columns, v.columns).map((line) => (
                      <li
                        key={line}
                        className={`diff-${line[0] === '+' ? 'add' : line[0] === '−' ? 'del' : line[0] === '~' ? 'chg' : 'none'}`}
                      >
                        {line}
                      </li>
                    ))}
                  </ul>
                </li>
              );
            })}
          </ol>
        </>
      ) : null}
    </div>
  );
}
