/**
 * The crash campaign's data: one e-commerce project generated once, its landing files split in
 * two deliveries so a second landing (an incremental run) can be killed too. The first delivery
 * stays in `landing/`; the second (later orders with their lines and payments, later
 * clickstream events, and the second record of customers who moved, an SCD2 change) is kept
 * aside and copied in by the trials that need it. The lines and payments of the first few later
 * orders come early, in the first delivery: refused there for their missing order, they must
 * load exactly once when it arrives. Records keep their exact bytes: CSV records
 * are cut at record boundaries (quoted line breaks included), JSON arrays at their one-record
 * lines.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { runTributary } from './processes.js';

/** Share of the orders (by id) and of the clickstream in the first delivery. */
const FIRST_SHARE = 0.8;
/** Later orders whose lines and payments come in the first delivery, before them. */
const EARLY_CHILDREN = 10;

const BOM = '\uFEFF';

/**
 * The campaign kills file landings: its project reads the clickstream from landing/ files, as
 * the template did before its clickstream moved to the stream, and has no streams (the stream's
 * own fault test is test/stream's).
 */
async function clickstreamFromFiles(project: string): Promise<void> {
  const file = join(project, 'tributary.yml');
  const text = await readFile(file, 'utf8');
  const files =
    '  web:\n    type: files\n    path: landing\n    tables:\n      clickstream: { files: "clickstream*.ndjson", format: ndjson }\n';
  // No stream block either: a serve scenario then starts no collector (on a fixed port).
  const changed = text
    .replace(/ {2}web:[^\n]*\n( {4}[^\n]*\n)+/, files)
    .replace(/^stream:\n( {2}[^\n]*\n)+/m, '');
  if (changed === text) throw new Error(`no web source to change in ${file}`);
  await writeFile(file, changed);
}

export interface Deliveries {
  /** The project, `tributary init` from the template, with the first delivery in landing/. */
  project: string;
  /** Folder holding the second delivery's files, to copy into landing/. */
  second: string;
  /** Files of the second delivery. */
  secondFiles: string[];
}

/** Creates the project and its two deliveries under `dir`. */
export async function prepareDeliveries(
  dir: string,
  scale: number,
  seed: number,
): Promise<Deliveries> {
  const project = join(dir, 'shop');
  await runTributary(dir, ['init', project]);
  await clickstreamFromFiles(project);
  // The campaign is about landing and processing: the template's CRM sync (which needs the CRM
  // stand-in listening) is left out; its own crash safety is test/sync's.
  await rm(join(project, 'syncs'), { recursive: true, force: true });
  await runTributary(project, ['generate', '--scale', String(scale), '--seed', String(seed)]);
  const landing = join(project, 'landing');
  const second = join(dir, 'second-delivery');
  await mkdir(second, { recursive: true });
  const parts: Record<string, { first: string; second: string | undefined }> = {};

  const orders = csvRecords(await readFile(join(landing, 'orders.csv'), 'utf8'));
  const ids = orders.records.map((r) => integerOf(r.fields[0])).filter((n) => n !== undefined);
  const cutoff = [...ids].sort((a, b) => a - b)[Math.floor(ids.length * FIRST_SHARE)]!;
  const later = (id: number | undefined) => id !== undefined && id > cutoff;
  const laterChild = (id: number | undefined) => later(id) && id! > cutoff + EARLY_CHILDREN;
  parts['orders.csv'] = splitCsv(orders, (r) => later(integerOf(r.fields[0])));
  const lines = csvRecords(await readFile(join(landing, 'order_lines.csv'), 'utf8'));
  parts['order_lines.csv'] = splitCsv(lines, (r) => laterChild(integerOf(r.fields[1])));

  const payments = jsonArrayRecords(await readFile(join(landing, 'payments.json'), 'utf8'));
  parts['payments.json'] = splitJsonArray(payments, (line) =>
    laterChild(integerOf(parsed(line)?.metadata?.order_id)),
  );
  const seenCustomers = new Set<unknown>();
  const customers = jsonArrayRecords(await readFile(join(landing, 'customers.json'), 'utf8'));
  parts['customers.json'] = splitJsonArray(customers, (line) => {
    const id = parsed(line)?.customer_id;
    if (id === undefined) return false;
    const again = seenCustomers.has(id);
    seenCustomers.add(id);
    return again;
  });
  const events = (await readFile(join(landing, 'clickstream.ndjson'), 'utf8')).split('\n');
  const lastLine = events.at(-1) === '' ? events.pop() : undefined;
  const cut = Math.floor(events.length * FIRST_SHARE);
  const tail = lastLine === undefined ? '' : '\n';
  parts['clickstream.ndjson'] = {
    first: events.slice(0, cut).join('\n') + '\n',
    second: events.slice(cut).join('\n') + tail,
  };

  const secondFiles: string[] = [];
  for (const [name, part] of Object.entries(parts)) {
    await writeFile(join(landing, name), part.first);
    if (part.second === undefined) continue;
    // A new file beside the first: `orders-2.csv` still matches the table's `orders*.csv`.
    const secondName = name.replace(/\.(\w+)$/, '-2.$1');
    await writeFile(join(second, secondName), part.second);
    secondFiles.push(secondName);
  }
  return { project, second, secondFiles };
}

interface CsvRecord {
  fields: string[];
  raw: string;
}

/** A CSV file as its header's raw text and its records with their raw text. */
function csvRecords(text: string): { header: string; records: CsvRecord[] } {
  const bom = text.startsWith(BOM) ? BOM : '';
  const rows = parse(text.slice(bom.length), {
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: false,
  }) as unknown as { record: string[]; raw: string }[];
  const [header, ...records] = rows;
  if (!header) throw new Error('the generated CSV file has no header');
  return {
    header: bom + header.raw,
    records: records.map((r) => ({ fields: r.record, raw: r.raw })),
  };
}

function splitCsv(
  file: { header: string; records: CsvRecord[] },
  second: (r: CsvRecord) => boolean,
): { first: string; second: string | undefined } {
  const isSecond = file.records.map(second);
  const later = file.records.filter((_, i) => isSecond[i]);
  const earlier = file.records.filter((_, i) => !isSecond[i]);
  const text = (records: CsvRecord[]) => file.header + records.map((r) => r.raw).join('');
  return { first: text(earlier), second: later.length ? text(later) : undefined };
}

/** The records of a generated JSON array, one per line (`[`, `{…},`, …, `{…}`, `]`). */
function jsonArrayRecords(text: string): string[] {
  const lines = text.split('\n');
  while (lines.at(-1) === '') lines.pop();
  if (lines[0] !== '[' || lines.at(-1) !== ']')
    throw new Error('expected the generator to write one JSON record per line');
  return lines.slice(1, -1).map((l) => l.replace(/,$/, ''));
}

function splitJsonArray(
  records: string[],
  second: (line: string) => boolean,
): { first: string; second: string | undefined } {
  // Once per record, in order: a predicate may remember what it saw (customers seen before).
  const isSecond = records.map(second);
  const later = records.filter((_, i) => isSecond[i]);
  const earlier = records.filter((_, i) => !isSecond[i]);
  const text = (rs: string[]) => `[\n${rs.join(',\n')}\n]\n`;
  return { first: text(earlier), second: later.length ? text(later) : undefined };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function parsed(line: string): any {
  try {
    return JSON.parse(line);
  } catch {
    return undefined; // a defect the generator injected: it stays in the first delivery
  }
}

function integerOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : Number(value);
  return typeof value !== 'boolean' && value !== '' && Number.isInteger(n) ? n : undefined;
}
