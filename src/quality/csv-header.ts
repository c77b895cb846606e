/**
 * Reads the header row of a CSV file. The header decides which columns DuckDB reads (all as
 * strings, no sniffing), so it is parsed exactly: BOM stripped, quotes and escaped quotes honoured.
 */
import { open } from 'node:fs/promises';
import type { CsvOptions } from '../project/index.js';

const HEADER_LIMIT = 1 << 16;

/** The header's field names, or undefined when no complete first line fits in 64 KiB. */
export async function readCsvHeader(path: string, csv: CsvOptions): Promise<string[] | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_LIMIT);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    let text = buffer.subarray(0, bytesRead).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return parseFirstRecord(text, csv, bytesRead < HEADER_LIMIT);
  } finally {
    await handle.close();
  }
}

/**
 * Splits the first record of `text` into fields. Without a line break the record is complete
 * only when `atEnd` says the text is the whole file.
 */
export function parseFirstRecord(
  text: string,
  csv: CsvOptions,
  atEnd: boolean,
): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === csv.escape && text[i + 1] === csv.quote) {
        field += csv.quote;
        i++;
      } else if (ch === csv.quote) {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === csv.quote && field === '') {
      quoted = true;
    } else if (ch === csv.delimiter) {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      fields.push(field);
      return fields;
    } else {
      field += ch;
    }
  }
  if (quoted || !atEnd || text.length === 0) return undefined;
  fields.push(field);
  return fields;
}
