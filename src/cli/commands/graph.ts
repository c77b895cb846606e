/** `tributary graph`: the asset graph, or a selection of it, as text, Graphviz dot or JSON. */
import { Option, type Command } from 'commander';
import { loadAssetGraph, selectAssets, type AssetGraph } from '../../orchestrator/index.js';
import { print, type CliContext } from '../context.js';

export type GraphFormat = 'text' | 'dot' | 'json';

/** The asset graph (or a selection of it) as text, Graphviz dot or JSON. */
async function renderGraph(
  projectDir: string,
  select: string[],
  exclude: string[],
  format: GraphFormat,
): Promise<string> {
  const { graph } = await loadAssetGraph(projectDir);
  const selected = selectAssets(graph, select, exclude);
  return formatGraph(graph, selected, format);
}

function formatGraph(graph: AssetGraph, selected: Set<string>, format: GraphFormat): string {
  const assets = graph.order.filter((k) => selected.has(k)).map((k) => graph.assets.get(k)!);
  if (format === 'json') {
    return JSON.stringify(
      {
        assets: assets.map((a) => ({
          key: a.key,
          kind: a.kind,
          name: a.name,
          deps: a.deps.filter((d) => selected.has(d)),
          tags: a.tags,
          ...(a.file ? { file: a.file } : {}),
        })),
      },
      null,
      2,
    );
  }
  if (format === 'dot') {
    const q = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
    const shape: Record<string, string> = {
      dashboard: 'tab',
      raw: 'folder',
      processed: 'cylinder',
      seed: 'note',
      model: 'box',
      snapshot: 'box3d',
      test: 'diamond',
      report: 'component',
      forecast: 'hexagon',
    };
    const lines = ['digraph assets {', '  rankdir=LR;', '  node [fontname="Helvetica"];'];
    for (const a of assets)
      lines.push(`  ${q(a.key)} [label=${q(a.name)}, shape=${shape[a.kind]}];`);
    for (const a of assets)
      for (const d of a.deps) if (selected.has(d)) lines.push(`  ${q(d)} -> ${q(a.key)};`);
    lines.push('}');
    return lines.join('\n');
  }
  // Text: one asset per line in run order, with what it reads.
  const width = Math.max(...assets.map((a) => a.key.length), 5);
  return assets
    .map((a) => {
      const deps = a.deps.filter((d) => selected.has(d));
      return deps.length ? `${a.key.padEnd(width)}  <- ${deps.join(', ')}` : a.key;
    })
    .join('\n');
}

export function registerGraph(program: Command, cli: CliContext): void {
  program
    .command('graph')
    .description('print the asset graph: every source table, lake table, model, test and report')
    .argument('[select...]', 'show only these assets (name, +name, name+, tag:x, kind:model)')
    .option('--exclude <select...>', 'assets to leave out', [])
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'dot', 'json'])
        .default('text'),
    )
    .option('--json', 'same as --format json')
    .action(
      async (
        select: string[],
        opts: { exclude: string[]; format: GraphFormat; json?: boolean },
      ) => {
        print(
          await renderGraph(cli.project(), select, opts.exclude, opts.json ? 'json' : opts.format),
        );
      },
    );
}
