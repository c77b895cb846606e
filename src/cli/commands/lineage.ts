/**
 * `tributary lineage <relation>.<column>`: where a column comes from (down to the landing file's
 * field) and what it feeds (models, dashboard tiles, sync destination fields), from the models'
 * SQL parsed by DuckDB; never run. Unresolved hops say why.
 */
import { Option, type Command } from 'commander';
import {
  loadColumnLineage,
  locateColumn,
  traceColumn,
  type ColumnTrace,
  type TraceDirection,
  type TracedColumn,
} from '../../orchestrator/index.js';
import { print, type CliContext } from '../context.js';

/** One side of a trace as an indented tree: each column under the one it was reached from. */
function treeLines(list: TracedColumn[], root: string, arrow: string): string[] {
  const children = new Map<string, TracedColumn[]>();
  for (const t of list) children.set(t.via, [...(children.get(t.via) ?? []), t]);
  const lines: string[] = [];
  const visit = (id: string, indent: string) => {
    for (const t of children.get(id) ?? []) {
      const why = t.unresolved ? `  unresolved: ${t.unresolved}` : '';
      lines.push(`${indent}${arrow} ${t.id}  (${t.transform})${why}`);
      visit(t.id, `${indent}   `);
    }
  };
  visit(root, '  ');
  return lines;
}

/** A trace as text: the column, then upstream and downstream trees, then cold trails. */
export function formatTrace(trace: ColumnTrace): string {
  const lines = [trace.id];
  if (trace.unresolved) lines.push(`  unresolved: ${trace.unresolved}`);
  if (trace.upstream) {
    lines.push('', 'upstream (made from):');
    const tree = treeLines(trace.upstream, trace.id, '<-');
    lines.push(...(tree.length ? tree : ['  (none: a source column or a constant)']));
  }
  if (trace.downstream) {
    lines.push('', 'downstream (feeds):');
    const tree = treeLines(trace.downstream, trace.id, '->');
    lines.push(...(tree.length ? tree : ['  (nothing)']));
  }
  if (trace.tableLevel?.length) {
    lines.push('', 'also read by (table-level: their columns could not be resolved):');
    for (const t of trace.tableLevel)
      lines.push(`  ${t.asset}${t.tile ? ` tile ${t.tile}` : ''}: ${t.reason}`);
  }
  return lines.join('\n');
}

export function registerLineage(program: Command, cli: CliContext): void {
  program
    .command('lineage')
    .description(
      'column lineage: what a column is made from (down to the landing file field) and what it feeds (models, dashboard tiles, sync fields)',
    )
    .argument(
      '<column>',
      '<relation>.<column>: dim_customers.email, model:fct_sales.net_amount, raw:shop.customers.address.city, sync:crm_contacts.email',
    )
    .addOption(new Option('--upstream', 'only what it is made from').conflicts('downstream'))
    .option('--downstream', 'only what it feeds')
    .option('--json', 'print JSON')
    .action(
      async (ref: string, opts: { upstream?: boolean; downstream?: boolean; json?: boolean }) => {
        const { graph, lineage } = await loadColumnLineage(cli.project());
        const { asset, column } = locateColumn(lineage, graph, ref);
        const direction: TraceDirection = opts.upstream
          ? 'upstream'
          : opts.downstream
            ? 'downstream'
            : 'both';
        const trace = traceColumn(lineage, asset, column, direction);
        print(opts.json ? JSON.stringify(trace, null, 2) : formatTrace(trace));
      },
    );
}
