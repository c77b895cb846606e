// Dashboards: the list (#/dashboards) and one dashboard (#/dashboards/:name) with its filters bar
// and tiles. Filter values live in the hash's query (shareable links); changing one refetches
// every tile's data from /api/dashboards/:name/data.
import { useEffect, useMemo } from 'react';
import type { Dashboard, DashboardData, DashboardSummary, FilterDef, FilterOptions } from '../api';
import { enc, useApi } from '../api';
import { href, navigate } from '../router';
import type { Route } from '../router';
import { TileBody } from '../components/tiles';
import { tileSpan } from '../tile-data';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/ui';
import { formatMs } from '../format';

export function DashboardsPage({ route }: { route: Route }) {
  const name = route.path[1];
  return name ? <DashboardView name={name} route={route} /> : <DashboardList />;
}

function DashboardList() {
  const { data, error, loading } = useApi<DashboardSummary[]>('/api/dashboards');
  return (
    <div className="page">
      <PageHeader title="Dashboards" />
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="dashboards" /> : null}
      {data && data.length === 0 ? (
        <Empty>No dashboards yet: add YAML files under the project’s dashboards/ folder.</Empty>
      ) : null}
      <div className="card-grid">
        {data?.map((d) => (
          <a key={d.name} className="card card-link" href={href(['dashboards', d.name])}>
            <h2>{d.title || d.name}</h2>
            {d.description ? <p>{d.description}</p> : null}
            <p className="muted">
              {d.tiles} tile{d.tiles === 1 ? '' : 's'}
            </p>
          </a>
        ))}
      </div>
    </div>
  );
}

type FilterKind = 'range' | 'select' | 'date' | 'text';

/** How a filter is edited, from its declared type. */
export function filterKind(f: FilterDef): FilterKind {
  const t = (f.type || '').toLowerCase().replace(/[-\s]/g, '_');
  if (t === 'date_range' || t === 'daterange' || t === 'range' || t === 'dates') return 'range';
  if (t === 'select' || t === 'multiselect' || t === 'multi_select' || t === 'dropdown') {
    return 'select';
  }
  if (t === 'date') return 'date';
  return 'text';
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** A date range default as [from, to]: {from,to}, [from,to], "a..b", or "last_30_days". */
export function resolveRange(def: unknown, today = new Date()): [string, string] | null {
  if (!def) return null;
  if (Array.isArray(def) && def.length === 2) return [String(def[0] ?? ''), String(def[1] ?? '')];
  if (typeof def === 'object') {
    const o = def as Record<string, unknown>;
    const from = o.from ?? o.start;
    const to = o.to ?? o.end;
    if (from || to) return [String(from ?? ''), String(to ?? '')];
    return null;
  }
  if (typeof def !== 'string') return null;
  const parts = def.split(/\s*(?:\.\.|\/|,)\s*/);
  if (parts.length === 2 && parts.every((p) => p === '' || /^\d{4}-\d{2}-\d{2}$/.test(p))) {
    return [parts[0] ?? '', parts[1] ?? ''];
  }
  const m = /^last[_\s-]?(\d+)[_\s-]?(day|week|month|year)s?$/i.exec(def.trim());
  if (m) {
    const n = Number(m[1]);
    const from = new Date(today);
    const unit = m[2]?.toLowerCase();
    if (unit === 'day') from.setDate(from.getDate() - n);
    else if (unit === 'week') from.setDate(from.getDate() - 7 * n);
    else if (unit === 'month') from.setMonth(from.getMonth() - n);
    else from.setFullYear(from.getFullYear() - n);
    return [isoDate(from), isoDate(today)];
  }
  return null;
}

/** The query parameters a filter's default sets, when it can be resolved in the browser. */
function defaultParams(filters: FilterDef[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of filters) {
    const kind = filterKind(f);
    if (kind === 'range') {
      const r = resolveRange(f.default);
      if (r) {
        if (r[0]) out[`${f.name}_from`] = r[0];
        if (r[1]) out[`${f.name}_to`] = r[1];
      }
    } else if (f.default !== undefined && f.default !== null && f.default !== '') {
      out[f.name] = String(f.default);
    }
  }
  return out;
}

function paramNames(filters: FilterDef[]): string[] {
  return filters.flatMap((f) =>
    f.params && f.params.length
      ? f.params
      : filterKind(f) === 'range'
        ? [`${f.name}_from`, `${f.name}_to`]
        : [f.name],
  );
}

/**
 * The filter query string for the API: every parameter, empty ones too, because the server
 * gives a parameter left out its default while an empty one means "all" / an open end.
 */
export function filterQuery(keys: string[], params: Record<string, string>): string {
  if (!keys.length) return '';
  const sp = new URLSearchParams();
  for (const k of keys) sp.set(k, params[k] ?? '');
  return '?' + sp.toString();
}

/** A data version short enough for a header: its last 8 characters. */
function shortVersion(v: string): string {
  return v.length > 14 ? '…' + v.slice(-8) : v;
}

function DashboardView({ name, route }: { name: string; route: Route }) {
  const def = useApi<Dashboard>(`/api/dashboards/${enc(name)}`);
  const filters = useMemo(() => def.data?.filters ?? [], [def.data]);
  const keys = useMemo(() => paramNames(filters), [filters]);
  const params = useMemo(() => {
    const p: Record<string, string> = {};
    for (const k of keys) {
      const v = route.query.get(k);
      if (v) p[k] = v;
    }
    return p;
  }, [keys, route.query]);
  const initialized = route.query.has('_f') || keys.some((k) => route.query.has(k));

  // First visit: put the definition's defaults into the URL, so they show in the inputs.
  useEffect(() => {
    if (!def.data || initialized) return;
    navigate(href(['dashboards', name], { ...defaultParams(filters), _f: '1' }), true);
  }, [def.data, initialized, filters, name]);

  const query = filterQuery(keys, params);
  const dataPath = def.data && initialized ? `/api/dashboards/${enc(name)}/data${query}` : null;
  const data = useApi<DashboardData>(dataPath, { keep: true });

  const setParam = (changes: Record<string, string>) => {
    const next: Record<string, string> = { ...params, ...changes, _f: '1' };
    navigate(href(['dashboards', name], next), true);
  };

  if (def.error) {
    return (
      <div className="page">
        <PageHeader title={name} />
        <ErrorBox error={def.error} />
        <p>
          <a href="#/dashboards">All dashboards</a>
        </p>
      </div>
    );
  }
  if (!def.data) return <Loading what="dashboard" />;
  const d = def.data;
  return (
    <div className="page">
      <PageHeader title={d.title || d.name}>
        <span
          className="muted small"
          title={data.data ? `data version ${data.data.dataVersion}` : undefined}
        >
          {data.loading
            ? 'Refreshing…'
            : data.data
              ? `data ${shortVersion(data.data.dataVersion)}`
              : ''}
        </span>
        <button type="button" className="btn" onClick={data.reload} disabled={data.loading}>
          Refresh
        </button>
      </PageHeader>
      {d.description ? <p className="lede">{d.description}</p> : null}
      {filters.length ? (
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
          {filters.map((f) => (
            <FilterInput
              key={f.name}
              dashboard={name}
              filter={f}
              params={params}
              onChange={setParam}
            />
          ))}
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => navigate(href(['dashboards', name], { _f: '1' }), true)}
          >
            Clear
          </button>
        </form>
      ) : null}
      {data.error ? <ErrorBox error={data.error} title="Could not load the data" /> : null}
      {d.tiles.length === 0 ? <Empty>This dashboard has no tiles.</Empty> : null}
      <div className={`tiles${data.loading ? ' is-loading' : ''}`}>
        {d.tiles.map((t) => {
          const td = data.data?.tiles[t.id];
          return (
            <section
              key={t.id}
              className={`tile tile-${t.type}`}
              data-testid={`tile-${t.id}`}
              style={{ gridColumn: `span ${tileSpan(t)}` }}
            >
              <header className="tile-head">
                <h2 title={t.title || t.id}>{t.title || t.id}</h2>
                <a
                  className="tile-csv"
                  href={`/api/dashboards/${enc(name)}/tiles/${enc(t.id)}.csv${query}`}
                  download={`${name}-${t.id}.csv`}
                  title="Download this tile's rows as CSV"
                >
                  CSV
                </a>
              </header>
              {t.description ? <p className="tile-desc">{t.description}</p> : null}
              <div className="tile-body">
                {td ? (
                  <TileBody tile={t} data={td} />
                ) : data.loading || !data.data ? (
                  <div className="tile-placeholder">Loading…</div>
                ) : (
                  <TileBody tile={t} data={undefined} />
                )}
              </div>
              {td && !('error' in td) ? (
                <footer className="tile-foot">
                  {td.cached ? 'cached · ' : ''}
                  {formatMs(td.ms)}
                </footer>
              ) : null}
            </section>
          );
        })}
      </div>
    </div>
  );
}

function FilterInput({
  dashboard,
  filter,
  params,
  onChange,
}: {
  dashboard: string;
  filter: FilterDef;
  params: Record<string, string>;
  onChange: (changes: Record<string, string>) => void;
}) {
  const kind = filterKind(filter);
  const label = filter.label || filter.name;
  if (kind === 'range') {
    const from = `${filter.name}_from`;
    const to = `${filter.name}_to`;
    return (
      <fieldset className="filter filter-range" data-testid={`filter-${filter.name}`}>
        <legend>{label}</legend>
        <input
          type="date"
          aria-label={`${label} from`}
          data-testid={`filter-${filter.name}-from`}
          value={params[from] ?? ''}
          max={params[to] || undefined}
          onChange={(e) => onChange({ [from]: e.target.value })}
        />
        <span aria-hidden="true">–</span>
        <input
          type="date"
          aria-label={`${label} to`}
          data-testid={`filter-${filter.name}-to`}
          value={params[to] ?? ''}
          min={params[from] || undefined}
          onChange={(e) => onChange({ [to]: e.target.value })}
        />
      </fieldset>
    );
  }
  if (kind === 'select') {
    return (
      <SelectFilter
        dashboard={dashboard}
        filter={filter}
        value={params[filter.name] ?? ''}
        onChange={(v) => onChange({ [filter.name]: v })}
      />
    );
  }
  return (
    <label className="filter">
      <span>{label}</span>
      <input
        type={kind === 'date' ? 'date' : 'text'}
        data-testid={`filter-${filter.name}`}
        defaultValue={params[filter.name] ?? ''}
        key={params[filter.name] ?? ''}
        onBlur={(e) => onChange({ [filter.name]: e.target.value })}
        onChange={kind === 'date' ? (e) => onChange({ [filter.name]: e.target.value }) : undefined}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onChange({ [filter.name]: e.currentTarget.value });
        }}
      />
    </label>
  );
}

function SelectFilter({
  dashboard,
  filter,
  value,
  onChange,
}: {
  dashboard: string;
  filter: FilterDef;
  value: string;
  onChange: (v: string) => void;
}) {
  const { data, error } = useApi<FilterOptions>(
    `/api/dashboards/${enc(dashboard)}/filters/${enc(filter.name)}/options`,
  );
  const options = data?.options ?? [];
  const label = filter.label || filter.name;
  return (
    <label className="filter">
      <span>{label}</span>
      <select
        data-testid={`filter-${filter.name}`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        title={error ? `Options could not be loaded: ${error.message}` : undefined}
      >
        <option value="">All</option>
        {value && !options.includes(value) ? <option value={value}>{value}</option> : null}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
