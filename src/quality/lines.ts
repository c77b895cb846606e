/**
 * Physical line numbers for quarantined records. DuckDB numbers CSV records, not lines: a quoted
 * field with embedded newlines spans several lines, and a malformed record is dropped from the
 * rows but keeps its record position. Both are rare, so the lines are computed from the few
 * records that matter (quarantined, multi-line, malformed) instead of a window over the whole file.
 */
import type { Engine } from '../engines/index.js';
import type { FileFormat } from '../project/index.js';

export interface MalformedRecord {
  /** 1-based record position among all records of the file, malformed ones included. */
  position: number;
  text: string;
  message: string;
  /** Physical line, filled in by lineNumbers. */
  line?: number;
}

/**
 * Creates temp table `_tb_lines(_record, _line)` for the rejected rows of `_tb_checked`, and
 * sets `line` on each malformed record. Lines are 1-based and count the header as line 1.
 * `columns` name the columns of `_tb_checked` that hold each field's original text.
 */
export async function lineNumbers(
  engine: Engine,
  format: FileFormat,
  columns: string[],
  malformed: MalformedRecord[],
): Promise<void> {
  await engine.exec('CREATE OR REPLACE TEMP TABLE _tb_lines (_record BIGINT, _line BIGINT)');
  if (format === 'json') return; // a JSON array's records have no reliable line of their own
  const rejected = await engine.query(
    `SELECT _record FROM _tb_checked WHERE _fail IS NOT NULL ORDER BY _record`,
  );
  const records = rejected.rows.map((r) => Number(r._record));
  let lines: number[];
  if (format === 'ndjson') {
    lines = records; // one record per line
  } else {
    const q = engine.dialect.quoteIdentifier;
    const newlines = columns
      .map((c) => `coalesce(length(${q(c)}) - length(replace(${q(c)}, chr(10), '')), 0)`)
      .join(' + ');
    const multi = await engine.query(
      `SELECT _record, ${newlines} AS extra FROM _tb_checked WHERE ${columns.map((c) => `contains(${q(c)}, chr(10))`).join(' OR ')} ORDER BY _record`,
    );
    const calc = new CsvLineCalculator(
      multi.rows.map((r) => ({ record: Number(r._record), extra: Number(r.extra) })),
      malformed,
    );
    lines = records.map((r) => calc.lineOfRecord(r));
    for (const m of malformed) m.line = calc.lineOfPosition(m.position);
  }
  if (records.length === 0) return;
  // One statement, whatever the count: the numbers travel as two comma-separated strings.
  await engine.query(
    `INSERT INTO _tb_lines SELECT unnest(CAST(string_split($1, ',') AS BIGINT[])), unnest(CAST(string_split($2, ',') AS BIGINT[]))`,
    [records.join(','), lines.join(',')],
  );
}

/** Maps record numbers to physical lines given the multi-line and malformed records. */
export class CsvLineCalculator {
  /** For each malformed record (by position), how many accepted records precede it. */
  private readonly acceptedBefore: number[];
  private readonly malformedPositions: number[];
  private readonly malformedExtraPrefix: number[];
  private readonly multiPositions: number[];
  private readonly multiExtraPrefix: number[];

  constructor(
    multiLine: { record: number; extra: number }[],
    malformed: { position: number; text: string }[],
  ) {
    const bad = malformed
      .map((m) => ({ position: m.position, extra: countNewlines(m.text.replace(/\r?\n$/, '')) }))
      .sort((a, b) => a.position - b.position);
    this.malformedPositions = bad.map((m) => m.position);
    this.malformedExtraPrefix = prefixSums(bad.map((m) => m.extra));
    this.acceptedBefore = bad.map((m, i) => m.position - (i + 1));
    const multi = [...multiLine].sort((a, b) => a.record - b.record);
    this.multiPositions = multi.map((m) => this.positionOf(m.record));
    this.multiExtraPrefix = prefixSums(multi.map((m) => m.extra));
  }

  /** Position among all records of the accepted record numbered `record`. */
  positionOf(record: number): number {
    return record + countBelow(this.acceptedBefore, record);
  }

  lineOfRecord(record: number): number {
    return this.lineOfPosition(this.positionOf(record));
  }

  /** Line = header line + position + newlines inside every record before this one. */
  lineOfPosition(position: number): number {
    const extra =
      this.multiExtraPrefix[countBelow(this.multiPositions, position)]! +
      this.malformedExtraPrefix[countBelow(this.malformedPositions, position)]!;
    return 1 + position + extra;
  }
}

/** prefix[i] = sum of the first i values. */
function prefixSums(values: number[]): number[] {
  const out = [0];
  for (const v of values) out.push(out[out.length - 1]! + v);
  return out;
}

/** How many values of a sorted array are < limit (binary search). */
function countBelow(sorted: number[], limit: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
