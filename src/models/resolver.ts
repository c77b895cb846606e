/**
 * The small template resolver of the walking skeleton: `{{ ref('model') }}`,
 * `{{ source('source', 'table') }}` and `{{ config(materialized='view', tags=[…]) }}`, nothing
 * else. It sits behind this seam so the dbt-compatible Jinja layer can replace it whole; until
 * then any other template syntax is a compile error that says so, never silently passed through.
 */
import { TributaryError } from '../core/index.js';

export interface ModelConfig {
  materialized: 'table' | 'view';
  tags: string[];
}

export interface TemplateScan {
  refs: string[];
  sources: { source: string; table: string }[];
  config: ModelConfig;
}

export interface Resolver {
  ref(name: string): string;
  source(source: string, table: string): string;
}

const EXPRESSION = /\{\{-?\s*([\s\S]*?)\s*-?\}\}/g;
const STRING = String.raw`\s*(?:'([^']*)'|"([^"]*)")\s*`;
const REF = new RegExp(String.raw`^ref\(${STRING}\)$`);
const SOURCE = new RegExp(String.raw`^source\(${STRING},${STRING}\)$`);
const CONFIG = /^config\(([\s\S]*)\)$/;

/** Line number (1-based) of an offset in a text. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function unsupported(file: string, text: string, offset: number, what: string): TributaryError {
  return new TributaryError(
    `${what} is not supported yet: models may use ref(), source() and config() only`,
    {
      code: 'CONFIG',
      location: { file, line: lineAt(text, offset) },
      hint: 'rewrite the model in plain SQL with ref()/source(); full Jinja arrives with the dbt-compatible model layer',
    },
  );
}

/** Finds a model's dependencies and config without resolving anything. */
export function scanTemplate(file: string, text: string): TemplateScan {
  const scan: TemplateScan = { refs: [], sources: [], config: { materialized: 'table', tags: [] } };
  const block = /\{%|\{#/.exec(text);
  if (block)
    throw unsupported(
      file,
      text,
      block.index,
      `Jinja ${block[0] === '{#' ? 'comment' : 'statement'} ${block[0]}`,
    );
  for (const m of text.matchAll(EXPRESSION)) {
    const expr = m[1]!.trim();
    const ref = REF.exec(expr);
    const source = SOURCE.exec(expr);
    const config = CONFIG.exec(expr);
    if (ref) scan.refs.push(ref[1] ?? ref[2]!);
    else if (source)
      scan.sources.push({ source: source[1] ?? source[2]!, table: source[3] ?? source[4]! });
    else if (config) scan.config = parseConfig(file, text, m.index, config[1]!);
    else throw unsupported(file, text, m.index, `the expression {{ ${expr} }}`);
  }
  return scan;
}

function parseConfig(file: string, text: string, offset: number, args: string): ModelConfig {
  const config: ModelConfig = { materialized: 'table', tags: [] };
  for (const m of args.matchAll(/(\w+)\s*=\s*('[^']*'|"[^"]*"|\[[^\]]*\])/g)) {
    const key = m[1]!;
    const value = m[2]!;
    if (key === 'materialized') {
      const v = value.slice(1, -1);
      if (v !== 'table' && v !== 'view') {
        throw new TributaryError(
          `materialized='${v}' is not supported yet; use 'table' or 'view'`,
          {
            code: 'CONFIG',
            location: { file, line: lineAt(text, offset) },
          },
        );
      }
      config.materialized = v;
    } else if (key === 'tags') {
      config.tags = [...value.matchAll(/'([^']*)'|"([^"]*)"/g)].map((t) => t[1] ?? t[2]!);
    } else {
      throw unsupported(file, text, offset, `config option ${key}`);
    }
  }
  return config;
}

/** Replaces ref(), source() and config() with relation names (config renders as nothing). */
export function renderTemplate(text: string, resolver: Resolver): string {
  return text.replace(EXPRESSION, (_all, inner: string) => {
    const expr = inner.trim();
    const ref = REF.exec(expr);
    if (ref) return resolver.ref(ref[1] ?? ref[2]!);
    const source = SOURCE.exec(expr);
    if (source) return resolver.source(source[1] ?? source[2]!, source[3] ?? source[4]!);
    return '';
  });
}
