/**
 * Finds the parameters a tile's SQL uses, with a small tokenizer rather than a regular
 * expression: a `$name` inside a string literal, a quoted identifier, a dollar-quoted string or
 * a comment is text, not a parameter, and must neither be bound nor refused.
 */

/** A named parameter (`$name`) and where it starts in the SQL text (0-based offset). */
export interface SqlParameter {
  name: string;
  offset: number;
}

export interface SqlScan {
  /** Named parameters in order of appearance (repeats included). */
  named: SqlParameter[];
  /** Offsets of positional parameters (`$1`, `?`), which dashboards do not accept. */
  positional: number[];
  /** Offsets of statement separators (`;`) outside literals and comments. */
  semicolons: number[];
  /** Offsets of comments (line and block). */
  comments: number[];
  /** A string, quoted identifier or comment that never ends (offset of its start), if any. */
  unterminated?: { what: string; offset: number };
}

const isIdentStart = (c: string | undefined) => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * Scans SQL for parameters and statement separators, skipping '…' and E'…' strings, "…"
 * identifiers, $tag$…$tag$ strings, -- line comments and (nested) block comments.
 */
export function scanSql(sql: string): SqlScan {
  const out: SqlScan = { named: [], positional: [], semicolons: [], comments: [] };
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      out.comments.push(i);
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      const start = i;
      out.comments.push(i);
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) out.unterminated ??= { what: 'block comment', offset: start };
    } else if (c === "'") {
      // E'…' (PostgreSQL, DuckDB) lets a backslash escape the quote.
      const escapes = (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !isIdentChar(sql[i - 2]);
      i = skipQuoted(sql, i, "'", escapes, out, 'string literal');
    } else if (c === '"') {
      i = skipQuoted(sql, i, '"', false, out, 'quoted identifier');
    } else if (c === '$') {
      i = scanDollar(sql, i, out);
    } else if (c === '?') {
      out.positional.push(i);
      i++;
    } else if (c === ';') {
      out.semicolons.push(i);
      i++;
    } else if (isIdentChar(c)) {
      // A whole word at once, so a `$` inside an identifier (PostgreSQL allows a$b) stays in it.
      while (i < n && (isIdentChar(sql[i]) || sql[i] === '$')) i++;
    } else i++;
  }
  return out;
}

function skipQuoted(
  sql: string,
  start: number,
  quote: string,
  backslashEscapes: boolean,
  out: SqlScan,
  what: string,
): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  out.unterminated ??= { what, offset: start };
  return sql.length;
}

/** `$$…$$` or `$tag$…$tag$` (a string), `$name` (a parameter), `$1` (positional). */
function scanDollar(sql: string, start: number, out: SqlScan): number {
  let j = start + 1;
  if (sql[j] === '$' || isIdentStart(sql[j])) {
    while (isIdentChar(sql[j])) j++;
    if (sql[j] === '$') {
      const tag = sql.slice(start, j + 1);
      const end = sql.indexOf(tag, j + 1);
      if (end < 0) {
        out.unterminated ??= { what: 'dollar-quoted string', offset: start };
        return sql.length;
      }
      return end + tag.length;
    }
    out.named.push({ name: sql.slice(start + 1, j), offset: start });
    return j;
  }
  if (isDigit(sql[j])) {
    while (isDigit(sql[j])) j++;
    out.positional.push(start);
    return j;
  }
  return j;
}

/** Parameter names by SQL text: a tile's SQL is scanned once, not on every request. */
const namesBySql = new Map<string, string[]>();

/** The distinct named parameters of a SQL text, in order of first use. */
export function sqlParameterNames(sql: string): string[] {
  let names = namesBySql.get(sql);
  if (!names) {
    names = [...new Set(scanSql(sql).named.map((p) => p.name))];
    if (namesBySql.size > 10_000) namesBySql.clear();
    namesBySql.set(sql, names);
  }
  return names;
}

/** 1-based line and column of an offset, for messages that point into a SQL block. */
export function lineColumnOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  return { line, column: offset - lineStart + 1 };
}

/** The SQL without a final `;` (and the blanks around it), which a single statement may carry. */
export function withoutTrailingSemicolon(sql: string): string {
  const { semicolons } = scanSql(sql);
  const last = semicolons[semicolons.length - 1];
  if (last !== undefined && sql.slice(last + 1).trim() === '') return sql.slice(0, last).trimEnd();
  return sql.trimEnd();
}
