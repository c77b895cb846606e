// The asset graph (#/graph): every asset from /api/graph placed in layers by dependency depth
// (x = depth, y = position in its layer, ordered to follow upstream positions), coloured by
// kind. Search finds assets; clicking one highlights and lists its upstream and downstream, and
// offers its columns: picking one lists the columns upstream and downstream of it.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Asset, Graph } from '../api';
import { useApi } from '../api';
import {
  dependencyMaps,
  esc,
  kindColors,
  layoutGraph,
  matchAssets,
  MAX_ROWS,
  PAD,
  placeNodes,
  reach,
  ROW,
} from '../graph-layout';
import { href, navigate } from '../router';
import type { Route } from '../router';
import { Chart } from '../components/Chart';
import { ColumnLineage, type ColumnPath } from '../components/ColumnLineage';
import type { ChartOption, ECElementEvent } from '../components/echarts';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/ui';

export function GraphPage({ route }: { route: Route }) {
  const { data, error, loading } = useApi<Graph>('/api/graph');
  const selected = route.query.get('asset') ?? undefined;
  const [search, setSearch] = useState('');
  const mainRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(900);
  useEffect(() => {
    const el = mainRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.round(el.clientWidth)));
    ro.observe(el);
    setWidth(Math.round(el.clientWidth));
    return () => ro.disconnect();
  }, [data]);
  const column = route.query.get('column') ?? undefined;
  const select = (key: string | undefined, col?: string) =>
    navigate(href(['graph'], { asset: key, column: col }), true);

  const assets = useMemo(() => data?.assets ?? [], [data]);
  const model = useMemo(() => {
    const { up, down } = dependencyMaps(assets);
    const kinds = [...new Set(assets.map((a) => a.kind))].sort();
    return {
      up,
      down,
      kinds,
      colors: kindColors(kinds),
      layout: layoutGraph(assets),
      byKey: new Map(assets.map((a) => [a.key, a])),
    };
  }, [assets]);

  const assetLineage = useMemo(() => {
    if (!selected || !model.byKey.has(selected)) return null;
    return { upstream: reach(selected, model.up), downstream: reach(selected, model.down) };
  }, [selected, model]);

  // With a column picked, the chart lights the assets its column lineage passes through.
  const [columnPath, setColumnPath] = useState<ColumnPath | null>(null);
  const onPath = useCallback((p: ColumnPath | null) => setColumnPath(p), []);
  const lineage = selected && columnPath ? columnPath : assetLineage;

  const q = search.trim().toLowerCase();
  const matches = useMemo(() => matchAssets(assets, q), [assets, q]);

  const option = useMemo<ChartOption>(() => {
    const { layers } = model.layout;
    const lit = lineage
      ? new Set([selected!, ...lineage.upstream, ...lineage.downstream])
      : q
        ? new Set(matches.map((m) => m.key))
        : null;
    const place = placeNodes(model.layout, Math.max(200, width - PAD.left - PAD.right - 2));
    const fewNodes = Math.max(1, ...layers.map((l) => l.length)) <= MAX_ROWS;
    const nodes = assets.map((a) => {
      const xy = place.pos.get(a.key) ?? { x: 0, y: 0 };
      const on = !lit || lit.has(a.key);
      const isSel = a.key === selected;
      return {
        id: a.key,
        name: a.key,
        value: a.kind,
        x: xy.x,
        y: xy.y,
        category: model.kinds.indexOf(a.kind),
        symbolSize: isSel ? 18 : 10,
        itemStyle: {
          opacity: on ? 1 : 0.12,
          borderColor: isSel ? '#000' : '#fff',
          borderWidth: isSel ? 2 : 1,
        },
        label: {
          show: on && (lit !== null || fewNodes),
          formatter: a.name || a.key,
          fontWeight: isSel ? ('bold' as const) : ('normal' as const),
        },
      };
    });
    const edges = assets.flatMap((a) =>
      (model.up.get(a.key) ?? []).map((d) => {
        const on = lineage
          ? (lineage.upstream.has(d) && (a.key === selected || lineage.upstream.has(a.key))) ||
            (lineage.downstream.has(a.key) && (d === selected || lineage.downstream.has(d)))
          : !lit || (lit.has(d) && lit.has(a.key));
        return {
          source: d,
          target: a.key,
          lineStyle: { opacity: on ? (lineage ? 0.85 : 0.45) : 0.04, width: on && lineage ? 2 : 1 },
        };
      }),
    );
    return {
      tooltip: {
        confine: true,
        formatter: (p: {
          dataType?: string;
          data?: { id?: string; value?: string; source?: string; target?: string };
        }) =>
          p.dataType === 'edge'
            ? `${esc(p.data?.source ?? '')} → ${esc(p.data?.target ?? '')}`
            : `<b>${esc(p.data?.id ?? '')}</b><br/>${esc(p.data?.value ?? '')}`,
      },
      legend: { top: 0, type: 'scroll', data: model.kinds },
      animation: assets.length < 300,
      series: [
        {
          type: 'graph',
          layout: 'none',
          // on phones a one-finger drag scrolls the page; pinch zooms
          roam: width < 640 ? 'scale' : true,
          ...PAD,
          preserveAspect: true,
          categories: model.kinds.map((k) => ({
            name: k,
            itemStyle: { color: model.colors.get(k) },
          })),
          data: nodes,
          links: edges,
          edgeSymbol: ['none', 'arrow'],
          edgeSymbolSize: [0, 6],
          lineStyle: { color: '#8a8a8a', curveness: 0.08 },
          label: {
            position: 'right',
            fontSize: 11,
            color: '#1b1b1b',
            width: Math.max(40, place.columnPx - 18),
            overflow: 'truncate',
          },
          labelLayout: { hideOverlap: true },
          emphasis: { focus: 'adjacency', label: { show: true } },
          scaleLimit: { min: 0.2, max: 12 },
        },
      ],
    };
  }, [assets, model, lineage, selected, q, matches, width]);

  const onClick = (e: ECElementEvent) => {
    if (e.dataType === 'node') {
      const id = (e.data as { id?: string } | undefined)?.id;
      if (id) select(id === selected ? undefined : id);
    }
  };

  const rows = Math.min(MAX_ROWS, Math.max(1, ...model.layout.layers.map((l) => l.length)));
  const height = Math.max(320, rows * ROW + PAD.top + PAD.bottom);
  const sel = selected ? model.byKey.get(selected) : undefined;

  return (
    <div className="page">
      <PageHeader title="Asset graph">
        <span className="muted small">
          {assets.length} assets · {model.layout.layers.length} layers
        </span>
      </PageHeader>
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="graph" /> : null}
      {data && assets.length === 0 ? <Empty>The project has no assets.</Empty> : null}
      {assets.length > 0 ? (
        <div className="graph-layout">
          <div className="graph-main" ref={mainRef}>
            <div className="graph-search">
              <input
                type="search"
                placeholder="Search assets…"
                aria-label="Search assets"
                data-testid="graph-search"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && matches[0]) select(matches[0].key);
                }}
              />
              {q ? (
                <span className="muted small">
                  {matches.length} match{matches.length === 1 ? '' : 'es'}
                </span>
              ) : null}
            </div>
            {q && matches.length > 0 && !sel ? (
              <ul className="chips">
                {matches.slice(0, 30).map((m) => (
                  <li key={m.key}>
                    <button type="button" className="chip" onClick={() => select(m.key)}>
                      {m.key}
                    </button>
                  </li>
                ))}
                {matches.length > 30 ? (
                  <li className="muted small">…{matches.length - 30} more</li>
                ) : null}
              </ul>
            ) : null}
            <Chart
              option={option}
              height={height}
              onClick={onClick}
              onBlankClick={() => (selected ? select(undefined) : undefined)}
              merge
              className="graph-chart"
              ariaLabel="Asset graph"
            />
            <p className="muted small">
              Drag to pan, scroll to zoom. Click an asset to see its lineage; click empty space to
              clear.
            </p>
          </div>
          <aside className="graph-side panel" data-testid="lineage">
            {sel && assetLineage ? (
              <>
                <header className="panel-head">
                  <h2 className="mono">{sel.key}</h2>
                  <button type="button" className="btn btn-quiet" onClick={() => select(undefined)}>
                    Clear
                  </button>
                </header>
                <dl className="facts compact">
                  <div>
                    <dt>Kind</dt>
                    <dd>{sel.kind}</dd>
                  </div>
                  {sel.file ? (
                    <div>
                      <dt>File</dt>
                      <dd className="mono">{sel.file}</dd>
                    </div>
                  ) : null}
                  {sel.tags && sel.tags.length ? (
                    <div>
                      <dt>Tags</dt>
                      <dd>{sel.tags.join(', ')}</dd>
                    </div>
                  ) : null}
                </dl>
                <ColumnLineage asset={sel.key} column={column} onColumn={select} onPath={onPath} />
                <LineageList
                  title="Upstream"
                  keys={assetLineage.upstream}
                  direct={new Set(model.up.get(sel.key) ?? [])}
                  byKey={model.byKey}
                  onSelect={select}
                  testId="lineage-upstream"
                />
                <LineageList
                  title="Downstream"
                  keys={assetLineage.downstream}
                  direct={new Set(model.down.get(sel.key) ?? [])}
                  byKey={model.byKey}
                  onSelect={select}
                  testId="lineage-downstream"
                />
              </>
            ) : (
              <>
                <h2>Lineage</h2>
                <p className="muted">
                  Click an asset to see everything upstream and downstream of it.
                </p>
                <h3>Kinds</h3>
                <ul className="legend-list">
                  {model.kinds.map((k) => (
                    <li key={k}>
                      <span className="swatch" style={{ background: model.colors.get(k) }} />
                      {k} ({assets.filter((a) => a.kind === k).length})
                    </li>
                  ))}
                </ul>
              </>
            )}
          </aside>
        </div>
      ) : null}
    </div>
  );
}

function LineageList({
  title,
  keys,
  direct,
  byKey,
  onSelect,
  testId,
}: {
  title: string;
  keys: Set<string>;
  direct: Set<string>;
  byKey: Map<string, Asset>;
  onSelect: (key: string) => void;
  testId: string;
}) {
  const sorted = [...keys].sort(
    (a, b) => Number(direct.has(b)) - Number(direct.has(a)) || a.localeCompare(b),
  );
  return (
    <section>
      <h3>
        {title} ({keys.size})
      </h3>
      {sorted.length === 0 ? (
        <p className="muted small">None.</p>
      ) : (
        <ul className="lineage-list" data-testid={testId}>
          {sorted.map((k) => (
            <li key={k}>
              <button type="button" className="link" onClick={() => onSelect(k)}>
                {k}
              </button>
              <span className="muted small">
                {' '}
                {byKey.get(k)?.kind}
                {direct.has(k) ? ' · direct' : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
