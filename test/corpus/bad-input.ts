/**
 * The bad-input corpus: files people really drop into a landing folder, each with what must
 * happen to it. Every case is a table of its own in one project, so one run shows that each is
 * handled and that every other table still loads. Outcomes:
 * - `loaded`: the keys (`id`) that reach the processed table, in order;
 * - `quarantined`: each refused row's physical line, reason and column (`malformed` rows have no
 *   column), in line order; a row is quarantined once;
 * - `refused`: a pattern the refusal message of the whole file must match (nothing from the file
 *   is committed, the step and the run go on).
 * Large inputs (a 50 MB field, JSON nested 100,000 deep) are made here, not stored.
 */

export interface CorpusCase {
  /** Table name (and file prefix). */
  name: string;
  format: 'csv' | 'json' | 'ndjson';
  /** The file's content. */
  content: () => string | Buffer;
  why: string;
  loaded: string[];
  quarantined?: { line: number | null; reason: string; column?: string }[];
  refused?: RegExp;
}

/** Every CSV case's contract: a key, text, money, a date. */
export const CSV_CONTRACT = `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: name, type: string }
  - { name: amount, type: "decimal(10,2)" }
  - { name: day, type: date }
`;

/** Every JSON case's contract: a key, text and a nested field. */
export const JSON_CONTRACT = `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: name, type: string }
  - { name: city, type: string, from: address.city }
`;

const HEADER = 'id,name,amount,day\n';
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

export const CORPUS: CorpusCase[] = [
  {
    name: 'bom',
    format: 'csv',
    why: 'a UTF-8 byte-order mark before the header (Excel) is not part of the first column name',
    content: () => `\uFEFF${HEADER}1,a,1.00,2024-01-01\n`,
    loaded: ['1'],
  },
  {
    name: 'latin1',
    format: 'csv',
    why: 'a Latin-1 export is refused whole, naming the line and column of the first bad byte',
    content: () =>
      Buffer.concat([Buffer.from(`${HEADER}1,a,1.00,2024-01-01\n2,Caf`), Buffer.from([0xe9])]),
    loaded: [],
    refused: /^latin1\.csv:3:6: file is not valid UTF-8/,
  },
  {
    name: 'crlf',
    format: 'csv',
    why: 'Windows line endings read like Unix ones, and lines are still counted right',
    content: () =>
      `${HEADER}1,a,1.00,2024-01-01\r\n2,b,oops,2024-01-02\r\n3,"two\r\nlines",3.00,2024-01-03\r\n4,d,4.00,2024-01-04\r\n`.replace(
        HEADER,
        HEADER.replace('\n', '\r\n'),
      ),
    loaded: ['1', '3', '4'],
    quarantined: [{ line: 3, reason: 'type', column: 'amount' }],
  },
  {
    name: 'header_only',
    format: 'csv',
    why: 'a header without rows is an empty batch, not an error',
    content: () => HEADER,
    loaded: [],
  },
  {
    name: 'empty',
    format: 'csv',
    why: 'a zero-byte file (a failed export) is refused whole',
    content: () => '',
    loaded: [],
    refused: /^empty\.csv: file is empty/,
  },
  {
    name: 'binary',
    format: 'csv',
    why: 'a binary file under a .csv name (a PNG) is refused whole',
    content: () =>
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]),
    loaded: [],
    refused: /^binary\.csv:1:1: file is not valid UTF-8/,
  },
  {
    name: 'quote_at_end',
    format: 'csv',
    why: 'an unterminated quote in the last record: that record alone is malformed',
    content: () => `${HEADER}1,a,1.00,2024-01-01\n2,"b,2.00,2024-01-02\n`,
    loaded: ['1'],
    quarantined: [{ line: 3, reason: 'malformed' }],
  },
  {
    name: 'quote_mid_file',
    format: 'csv',
    why: 'an unterminated quote swallows the records after it into one malformed record, quarantined once with all their text',
    content: () =>
      `${HEADER}1,a,1.00,2024-01-01\n2,"b,2.00,2024-01-02\n3,c,3.00,2024-01-03\n4,d,4.00,2024-01-04\n`,
    loaded: ['1'],
    quarantined: [{ line: 3, reason: 'malformed' }],
  },
  {
    name: 'nul_in_malformed',
    format: 'csv',
    why: 'a NUL byte inside a malformed record (it broke the statement that quarantined it)',
    content: () => `${HEADER}1,a,1.00,2024-01-01\n3,"x\0y,3\n`,
    loaded: ['1'],
    quarantined: [{ line: 3, reason: 'malformed' }],
  },
  {
    name: 'nul_in_field',
    format: 'csv',
    why: 'a NUL byte inside an ordinary field is text like any other',
    content: () => `${HEADER}1,a\0b,1.00,2024-01-01\n2,b,2.00,2024-01-02\n`,
    loaded: ['1', '2'],
  },
  {
    name: 'short_row',
    format: 'csv',
    why: 'a record with too few fields is quarantined once (DuckDB reports it once per missing column)',
    content: () => `${HEADER}1,a,1.00,2024-01-01\n2,b\n3,c,3.00,2024-01-03\n`,
    loaded: ['1', '3'],
    quarantined: [{ line: 3, reason: 'malformed' }],
  },
  {
    name: 'long_row',
    format: 'csv',
    why: 'a record with too many fields is quarantined once',
    content: () => `${HEADER}1,a,1.00,2024-01-01\n2,b,2.00,2024-01-02,extra,more\n`,
    loaded: ['1'],
    quarantined: [{ line: 3, reason: 'malformed' }],
  },
  {
    name: 'big_field',
    format: 'csv',
    why: 'a 50 MB field is data: it loads (DuckDB dropped a line longer than its buffer silently)',
    content: () =>
      `${HEADER}1,a,1.00,2024-01-01\n2,${'x'.repeat(50_000_000)},2.00,2024-01-02\n3,c,3.00,2024-01-03\n`,
    loaded: ['1', '2', '3'],
  },
  {
    name: 'thousands',
    format: 'csv',
    why: 'thousands separators: quoted, the value is not a decimal; unquoted, the row has a field too many',
    content: () =>
      `${HEADER}1,a,"1,234.00",2024-01-01\n2,b,1,234.00,2024-01-02\n3,c,1234.00,2024-01-03\n`,
    loaded: ['3'],
    quarantined: [
      { line: 2, reason: 'type', column: 'amount' },
      { line: 3, reason: 'malformed' },
    ],
  },
  {
    name: 'odd_dates',
    format: 'csv',
    why: 'dates that do not exist or are not ISO are type failures, never guessed',
    content: () =>
      `${HEADER}1,a,1.00,2024-02-30\n2,b,2.00,02/01/2024\n3,c,3.00,2024-13-01\n4,d,4.00,2024-02-29\n5,e,5.00,20240105\n`,
    loaded: ['4'],
    quarantined: [
      { line: 2, reason: 'type', column: 'day' },
      { line: 3, reason: 'type', column: 'day' },
      { line: 4, reason: 'type', column: 'day' },
      { line: 6, reason: 'type', column: 'day' },
    ],
  },
  {
    name: 'truncated_json',
    format: 'json',
    why: 'a JSON array cut short is refused whole, naming the record',
    content: () => '[\n{"id": 1, "name": "a"},\n{"id": 2, "na',
    loaded: [],
    refused: /^truncated_json\.json record 2: malformed JSON/,
  },
  {
    name: 'bad_ndjson_line',
    format: 'ndjson',
    why: 'NDJSON with a broken line is refused whole, naming that line (not the next)',
    content: () => '{"id": 1, "name": "a"}\n{"id": 2, "name": x}\n{"id": 3, "name": "c"}\n',
    loaded: [],
    refused: /^bad_ndjson_line\.ndjson:2: malformed JSON/,
  },
  {
    name: 'deep_json',
    format: 'json',
    why: 'JSON nested 10,000 deep is refused before anything parses it (it overflowed the stack)',
    content: () =>
      `[\n{"id": 1, "name": "a"},\n{"id": 2, "name": "b", "x": ${deepArray(10_000)}}\n]\n`,
    loaded: [],
    refused: /^deep_json\.json:3: JSON nests objects and arrays deeper than 1000 levels/,
  },
  {
    name: 'deeper_ndjson',
    format: 'ndjson',
    why: 'NDJSON nested 100,000 deep is refused (DuckDB crashed the process on it, exit 139)',
    content: () => `{"id": 1, "name": "a"}\n{"id": 2, "x": ${deepObject(100_000)}}\n`,
    loaded: [],
    refused: /^deeper_ndjson\.ndjson:2: JSON nests objects and arrays deeper than 1000 levels/,
  },
  {
    name: 'nested_ok',
    format: 'ndjson',
    why: 'nesting up to the limit is fine',
    content: () =>
      `{"id": 1, "name": "a", "address": {"city": "Oslo"}, "x": ${deepArray(998)}}\r\n{"id": 2, "name": "b"}\r\n`,
    loaded: ['1', '2'],
  },
  {
    name: 'ndjson_blank_lines',
    format: 'ndjson',
    why: 'blank lines in NDJSON are skipped, and a bad record keeps its own line number',
    content: () => '{"id": 1}\n\n{"id": 2}\n   \r\n{"id": "x"}\n',
    loaded: ['1', '2'],
    quarantined: [{ line: 5, reason: 'type', column: 'id' }],
  },
  {
    name: 'json_bom',
    format: 'json',
    why: 'a byte-order mark before a JSON document',
    content: () => `\uFEFF[{"id": 1, "name": "a", "address": {"city": "Oslo"}}]`,
    loaded: ['1'],
  },
  {
    name: 'empty_json_array',
    format: 'json',
    why: 'an empty array is an empty batch',
    content: () => '[]',
    loaded: [],
  },
  {
    name: 'json_wrong_shape',
    format: 'json',
    why: 'a record whose address is a string where the contract reads address.city: the file is refused',
    content: () => '[{"id": 1, "name": "a", "address": "Oslo"}]',
    loaded: [],
    refused: /^json_wrong_shape\.json/,
  },
];
