/** SQL text helpers shared by engine adapters: standard quoting that every SQL dialect here accepts. */

/** Double-quotes an identifier, doubling embedded quotes (SQL standard). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Single-quotes a string literal, doubling embedded quotes (SQL standard). */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `"schema"."name"`, or just `"name"` when no schema is given. */
export function qualified(schema: string | undefined, name: string): string {
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(name)}` : quoteIdentifier(name);
}
