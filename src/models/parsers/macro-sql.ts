/**
 * A macro's own text as dbt's manifest keeps it (`macro_sql`): the whole
 * `{% macro name(...) %}…{% endmacro %}` block (or `{% test %}…{% endtest %}`,
 * `{% materialization %}…{% endmaterialization %}`), found in its file from the line it starts on.
 */

const BLOCK_TAG = /\{%-?\s*(end)?(macro|test|materialization)\b[\s\S]*?-?%\}/g;

/** The block that opens on `line` (1-based) of `text`, nested blocks included; '' when none does. */
export function macroBlock(text: string, line: number): string {
  let offset = 0;
  for (let l = 1; l < line && offset !== -1; l++) {
    offset = text.indexOf('\n', offset);
    if (offset !== -1) offset++;
  }
  if (offset === -1) return '';
  BLOCK_TAG.lastIndex = offset;
  let start = -1;
  let depth = 0;
  for (let m = BLOCK_TAG.exec(text); m; m = BLOCK_TAG.exec(text)) {
    if (start === -1) {
      if (m[1]) continue;
      start = m.index;
    }
    depth += m[1] ? -1 : 1;
    if (depth === 0) return text.slice(start, m.index + m[0].length);
  }
  return '';
}
