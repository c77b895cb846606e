/**
 * Schema evolution for connector tables (REST APIs, databases), whose data may gain columns or
 * change types between extracts. The table's effective schema is its contract plus what earlier
 * batches evolved (kept in the processed manifest); a batch then adds new columns (always: a new
 * column is a compatible change, recorded as a new schema version), widens a column when its
 * values fit a wider type, and treats any other change by the table's policy: `evolve` makes the
 * column a string, `freeze` refuses the batch with a message naming the column, `discard_row`
 * sends the rows that do not fit to quarantine. A column the contract declares is the user's
 * word: it only widens losslessly (integer → bigint, date → timestamp) when every value that
 * does not fit does fit the wider type; values fitting neither are data defects, quarantined by
 * the contract as for files. Columns evolution added widen further (→ double) and follow the policy.
 * File tables keep their contract as written: extra columns in a file are ignored.
 */
import { TributaryError } from '../core/index.js';
import type { Engine, LogicalType } from '../engines/index.js';
import { LOADED_AT, type ColumnSchema, type TableManifest } from '../lake/index.js';
import type { ColumnContract, Contract, SourceTable } from '../project/index.js';

/** Does the table's schema evolve with its data (connector tables), or stay as contracted (files)? */
export function evolves(table: SourceTable): boolean {
  return table.kind !== 'files';
}

/** Contract columns with the types and extra columns earlier batches evolved. */
export function effectiveContract(table: SourceTable, manifest: TableManifest): Contract {
  const contract = table.contract;
  if (!evolves(table)) return contract;
  const known = new Map(manifest.columns.map((c) => [c.name, c]));
  const columns: ColumnContract[] = contract.columns.map((c) => {
    const evolved = known.get(c.name);
    return evolved && evolved.type !== c.type ? { ...c, type: evolved.type } : c;
  });
  for (const c of manifest.columns)
    if (c.name !== LOADED_AT && !columns.some((x) => x.name === c.name))
      columns.push({
        name: c.name,
        type: c.type,
        ...(c.from ? { from: c.from } : {}),
      } as ColumnContract);
  return { ...contract, columns };
}

/** The crawler's type of a raw column as a logical type (strings when unsure). */
function logicalOf(crawlerType: string): LogicalType {
  const t = crawlerType.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UBIGINT|UINTEGER)$/.test(t)) return 'bigint';
  if (/^(DOUBLE|FLOAT|REAL)$/.test(t) || t.startsWith('DECIMAL')) return 'double';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  return 'string';
}

/** Adds the raw batch's columns that the schema does not have yet. */
export function withNewColumns(
  contract: Contract,
  rawColumns: { name: string; type: string }[],
): { contract: Contract; added: string[] } {
  const fields = new Set(contract.columns.map((c) => c.from ?? c.name));
  const names = new Set(contract.columns.map((c) => c.name));
  const added: ColumnContract[] = [];
  for (const raw of rawColumns) {
    if (fields.has(raw.name) || raw.type.startsWith('LIST(') || raw.name === '') continue;
    // The name Tributary stamps on every processed row is not the data's to take.
    if (raw.name === LOADED_AT) continue;
    const name = raw.name.replaceAll('.', '_');
    if (names.has(name)) continue;
    names.add(name);
    added.push({
      name,
      type: logicalOf(raw.type),
      ...(name !== raw.name ? { from: raw.name } : {}),
    } as ColumnContract);
  }
  return {
    contract: { ...contract, columns: [...contract.columns, ...added] },
    added: added.map((c) => c.name),
  };
}

/** Wider types a column added by evolution may take, narrowest first. */
const WIDER: Partial<Record<string, LogicalType[]>> = {
  integer: ['bigint', 'double'],
  bigint: ['double'],
  date: ['timestamp'],
};

/** Lossless widenings of a declared column. */
const WIDER_DECLARED: Partial<Record<string, LogicalType[]>> = {
  integer: ['bigint'],
  date: ['timestamp'],
};

export interface TypeChange {
  column: string;
  from: string;
  to: string;
  /** A value that did not fit the old type, for messages. */
  example: string;
}

/**
 * Checks each typed column's text against its type and the wider ones, over `rawSelect` (one
 * row per record, every field as text), and returns the evolved contract with what changed.
 */
export async function evolveTypes(
  engine: Engine,
  table: SourceTable,
  contract: Contract,
  rawSelect: string,
  file: string,
): Promise<{ contract: Contract; changes: TypeChange[] }> {
  const policy = table.schemaEvolution;
  if (!evolves(table)) return { contract, changes: [] };
  const { quoteIdentifier: q, tryCast } = engine.dialect;
  const declared = new Set(table.contract.columns.map((c) => c.name));
  const widerOf = (c: ColumnContract) =>
    (declared.has(c.name) ? WIDER_DECLARED : WIDER)[c.type] ?? [];
  const checked = contract.columns.filter((c) => c.type !== 'string');
  if (!checked.length) return { contract, changes: [] };
  const misfit = (c: ColumnContract, type: LogicalType) => {
    const col = `raw.${q(c.name)}`;
    // A DATE cast drops a time of day without complaint; a value carrying one does not fit a date.
    const lost = type === 'date' ? ` OR length(trim(${col})) > 10` : '';
    return `${col} IS NOT NULL AND ${col} <> '' AND (${tryCast(col, type)} IS NULL${lost})`;
  };
  const selects: string[] = [];
  for (const [i, c] of checked.entries()) {
    selects.push(
      `max(CASE WHEN ${misfit(c, c.type as LogicalType)} THEN raw.${q(c.name)} END) AS bad_${i}`,
    );
    for (const [j, w] of widerOf(c).entries())
      selects.push(`bool_or(${misfit(c, w)}) AS over_${i}_${j}`);
  }
  const row =
    (await engine.query(`SELECT ${selects.join(', ')} FROM (${rawSelect}) AS raw`)).rows[0] ?? {};
  const changes: TypeChange[] = [];
  const columns = contract.columns.map((c) => {
    const i = checked.indexOf(c);
    if (i < 0 || row[`bad_${i}`] === null || row[`bad_${i}`] === undefined) return c;
    const example = String(row[`bad_${i}`]);
    const wider = widerOf(c).find((_, j) => row[`over_${i}_${j}`] !== true);
    // A declared column's misfits are data defects: the contract quarantines them.
    if (!wider && declared.has(c.name)) return c;
    if (!wider && policy === 'freeze')
      throw new TributaryError(
        `column ${c.name} changed type: '${example}' is not ${c.type}, and the table's schema_evolution is freeze`,
        {
          location: { file },
          hint: `fix the source, widen ${c.name} in ${table.contractFile}, or set schema_evolution: evolve (or discard_row) for the table`,
        },
      );
    // discard_row: the column keeps its type and the rows that do not fit go to quarantine.
    if (!wider && policy === 'discard_row') return c;
    const to = wider ?? 'string';
    changes.push({ column: c.name, from: c.type, to, example });
    return { ...c, type: to } as ColumnContract;
  });
  return { contract: { ...contract, columns }, changes };
}

/** The processed schema a batch commits: its effective contract's columns (with their source fields). */
export function schemaOf(contract: Contract): ColumnSchema[] {
  return [
    ...contract.columns.map((c) => ({
      name: c.name,
      type: c.type,
      ...(c.from ? { from: c.from } : {}),
    })),
    { name: LOADED_AT, type: 'timestamp' },
  ];
}
