/**
 * Physical line numbers for quarantined records. DuckDB numbers CSV records, not lines: a quoted
 * field with embedded newlines spans several lines, and a malformed record is dropped from the
 * rows but keeps its record position. Both are rare, so the lines are computed from the few
 * records that matter (quarantined, multi-line, malformed) instead of a window over the whole file.
 */
import type { Engine } from '../engines/index.js';
import type { FileFormat } from '../project/index.js';

/** A CSV record the reader could not parse (kept in temp table `_tb_malformed`). */
export interface MalformedRecord {
  /** 1-based record position among all records of the file, malformed ones included. */
  position: number;
  /** Line breaks inside the record's text, its final one excluded. */
  newlines: number;
}

/**
 * Creates temp table `_tb_lines(_record, _line, _position)` for the rejected rows of
 * `_tb_checked` (`_position`: the record's place among all the file's records, malformed ones
 * included), and sets `_line` on each row of `_tb_malformed` (when there are malformed
 * records). Lines are 1-based and count the header as line 1. `columns` name the columns of
 * `_tb_checked` that hold each field's original text.
 */
export async function lineNumbers(
  engine: Engine,
  format: FileFormat,
  columns: string[],
  malformed: MalformedRecord[],
  /** NDJSON: the file's blank lines, which its reader skips. */
  blankLines: readonly number[] = [],
): Promise<void> {
  await engine.exec(
    'CREATE OR REPLACE TEMP TABLE _tb_lines (_record BIGINT, _line BIGINT, _position BIGINT)',
  );
  if (format === 'json') return; // a JSON array's records have no reliable line of their own
  const rejected = await engine.query(
    `SELECT _record FROM _tb_checked WHERE _fail IS NOT NULL ORDER BY _record`,
  );
  const records = rejected.rows.map((r) => Number(r._record));
  let lines: number[];
  let positions = records;
  if (format === 'ndjson') {
    lines = ndjsonLines(records, blankLines); // one record per line, blank lines skipped
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
    positions = records.map((r) => calc.positionOf(r));
    lines = positions.map((p) => calc.lineOfPosition(p));
    if (malformed.length) {
      await engine.query(
        `UPDATE _tb_malformed AS m SET _line = n.line
           FROM (SELECT unnest(CAST(string_split($1, ',') AS BIGINT[])) AS position,
                        unnest(CAST(string_split($2, ',') AS BIGINT[])) AS line) AS n
          WHERE m.position = n.position`,
        [
          malformed.map((m) => m.position).join(','),
          malformed.map((m) => calc.lineOfPosition(m.position)).join(','),
        ],
      );
    }
  }
  if (records.length === 0) return;
  // One statement, whatever the count: the numbers travel as comma-separated strings.
  const list = (n: number) => `unnest(CAST(string_split($${n}, ',') AS BIGINT[]))`;
  await engine.query(`INSERT INTO _tb_lines SELECT ${list(1)}, ${list(2)}, ${list(3)}`, [
    records.join(','),
    lines.join(','),
    positions.join(','),
  ]);
}

/** The line of each NDJSON record (records sorted), counting the blank lines before it. */
export function ndjsonLines(records: readonly number[], blankLines: readonly number[]): number[] {
  let skipped = 0;
  return records.map((record) => {
    while (skipped < blankLines.length && blankLines[skipped]! <= record + skipped) skipped++;
    return record + skipped;
  });
}

/** Maps record numbers to physical lines given the multi-line and malformed records. */
export class CsvLineCalculator {
  /** For each malformed record (by position), how many accepted records precede it. */
  private readonly acceptedBefore: number[];
  private readonly malformedPositions: number[];
  private readonly malformedExtraPrefix: number[];
  private readonly multiPositions: number[];
  private readonly multiExtraPrefix: number[];

  constructor(multiLine: { record: number; extra: number }[], malformed: MalformedRecord[]) {
    const bad = malformed
      .map((m) => ({ position: m.position, extra: m.newlines }))
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
