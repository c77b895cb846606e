/**
 * Records as the REST connector handles them: dotted paths into JSON, the incremental cursor's
 * order, and child rows unnested from a list inside a record, linked to the parent's key.
 */

/** The value at a dotted path (`a.b.c`) of a JSON value, or undefined. */
export function getPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export type CursorValue = string | number;

/** A cursor field's value when it can order records (a number or a string), else undefined. */
export function cursorValue(value: unknown): CursorValue | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/** Orders cursor values: numbers numerically, anything else as text (ISO timestamps sort so). */
export function compareCursor(a: CursorValue, b: CursorValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The name a parent key field takes in a child row: `<parent table>_<field>` (dots as `_`). */
function parentKeyColumn(parentTable: string, field: string): string {
  return `${parentTable}_${field.replace(/\./g, '_')}`;
}

/**
 * The child rows of one record: each element of the list at `path`, with the parent's key fields
 * and the element's position (`_index`, from 0) first. An element that is not an object lands as
 * `{ value: element }`. Link fields win over element fields of the same name.
 */
export function childRows(
  record: unknown,
  path: string,
  parentTable: string,
  primaryKey: string[],
): Record<string, unknown>[] | undefined {
  const list = getPath(record, path);
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return undefined;
  const link: Record<string, unknown> = {};
  for (const k of primaryKey) link[parentKeyColumn(parentTable, k)] = getPath(record, k) ?? null;
  return list.map((element, i) => {
    const fields =
      element !== null && typeof element === 'object' && !Array.isArray(element)
        ? (element as Record<string, unknown>)
        : { value: element };
    return { ...link, _index: i, ...omit(fields, link) };
  });
}

function omit(
  fields: Record<string, unknown>,
  link: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (!(k in link) && k !== '_index') out[k] = v;
  return out;
}
