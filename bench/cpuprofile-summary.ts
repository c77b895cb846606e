/**
 * Summarises a V8 `.cpuprofile` (`node --cpu-prof`): the share of sampled time of the top
 * functions by self time, inclusive time of functions named on the command line, and self time
 * grouped by source area (collector, local log, flusher, lake, node internals, GC, idle), so
 * profiles of two versions can be compared by where the CPU went rather than by wall time.
 *   node dist/bench/cpuprofile-summary.js FILE.cpuprofile [--top 30] [--inclusive lineOf,readShard]
 */
import { readFileSync } from 'node:fs';
import { benchArgs } from './args.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = benchArgs(
  {
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, inclusive: { type: 'string', default: '' } },
  },
  import.meta.url,
);

/** The source area a frame belongs to, by its script URL. */
function areaOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'program';
  const m = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (m) {
    const path = m[2]!;
    if (path.startsWith('stream/collector/')) return 'stream/collector';
    if (path.startsWith('stream/local/')) return 'stream/local';
    if (path.startsWith('stream/flush/')) return 'stream/flush';
    return `${m[1]}/${path.split('/').slice(0, 1).join('/')}`;
  }
  if (url.includes('node_modules/'))
    return `npm:${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)![1]}`;
  if (url.startsWith('node:')) return url;
  return url ? 'other' : '(native)';
}

function summarise(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });
  const key = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const selfByKey = new Map<string, number>();
  const byArea = new Map<string, number>();
  const inclusiveNames = values.inclusive ? values.inclusive.split(',') : [];
  const inclusive = new Map<string, number>(inclusiveNames.map((n) => [n, 0]));
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    selfByKey.set(key(node), (selfByKey.get(key(node)) ?? 0) + us);
    // Native frames (no URL) count toward the nearest caller with a script.
    let owner: ProfileNode | undefined = node;
    while (owner && !owner.callFrame.url && parent.has(owner.id) && areaOf(owner) === '(native)')
      owner = byId.get(parent.get(owner.id)!);
    const area = owner ? areaOf(owner) : '(native)';
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (inclusive.has(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, inclusive.get(name)! + us);
      }
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const busy = total - (byArea.get('idle') ?? 0);
  console.log(
    `${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle`,
  );
  console.log('\nby area (self time, native frames counted to their caller):');
  for (const [area, us] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`  ${pct(us)}  ${(us / 1e6).toFixed(2).padStart(6)} s  ${area}`);
  if (inclusive.size) {
    console.log('\ninclusive:');
    for (const [name, us] of inclusive) console.log(`  ${pct(us)}  ${name}`);
  }
  console.log(`\ntop ${values.top} by self time:`);
  for (const [k, us] of [...selfByKey].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    console.log(`  ${pct(us)}  ${k}`);
}

for (const file of positionals) summarise(file);
