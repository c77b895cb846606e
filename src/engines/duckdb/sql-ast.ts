/** Reading DuckDB's `json_serialize_sql` output: the tables and views a SELECT names. */

/**
 * `schema.name` of every base table or view a serialized SELECT reads, in order of first
 * appearance; unqualified names are placed in `defaultSchema`. CTE names are not base tables.
 */
export function relationsInSerializedSql(json: unknown, defaultSchema = 'main'): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'BASE_TABLE' && typeof o.table_name === 'string') {
      const schema =
        typeof o.schema_name === 'string' && o.schema_name ? o.schema_name : defaultSchema;
      out.add(`${schema}.${o.table_name}`);
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(json);
  return [...out];
}
