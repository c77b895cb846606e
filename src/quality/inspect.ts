/**
 * What processing must know about a raw file before DuckDB reads it, learnt in one streaming pass
 * in Node: its longest line (DuckDB's CSV reader silently drops a record longer than its buffer
 * when it keeps rejects, so the buffer is sized to the file) and, for JSON, how deeply it nests
 * (DuckDB's JSON reader recurses and crashes the whole process, with no error, on documents nested
 * some tens of thousands of levels deep). A file nested deeper than the limit is refused before
 * anything parses it.
 */
import { createReadStream } from 'node:fs';
import { TributaryError } from '../core/index.js';

/**
 * The deepest nesting of objects and arrays a JSON file may have. Real records nest a few levels;
 * 1,000 is Jackson's default limit too, far below where DuckDB (or a recursive walk in Node) fails.
 */
const MAX_JSON_DEPTH = 1000;

export interface FileInspection {
  /** Bytes in the longest line, its line break excluded. */
  longestLine: number;
  /**
   * JSON only: the (1-based) lines that are empty or blank, which an NDJSON reader skips, so a
   * record's line is its number plus the blank lines before it.
   */
  blankLines: number[];
}

const NEWLINE = 0x0a;

/** Byte classes for the JSON depth scan: 0 nothing, 1 opens, 2 closes, 3 quote, 4 backslash, 5 newline. */
const JSON_CLASS = new Uint8Array(256);
JSON_CLASS[0x7b] = JSON_CLASS[0x5b] = 1; // { [
JSON_CLASS[0x7d] = JSON_CLASS[0x5d] = 2; // } ]
JSON_CLASS[0x22] = 3; // "
JSON_CLASS[0x5c] = 4; // \
JSON_CLASS[NEWLINE] = 5;

/** Where a JSON depth scan stands between chunks. */
interface JsonScanState {
  depth: number;
  inString: boolean;
  escaped: boolean;
  line: number;
}

/**
 * Advances the scan over one chunk; returns false at the first byte nesting deeper than
 * `maxDepth` (state.line is that byte's line). Kept small and monomorphic so V8 optimises it.
 */
function scanJsonChunk(chunk: Uint8Array, state: JsonScanState, maxDepth: number): boolean {
  let { depth, inString, escaped, line } = state;
  let ok = true;
  for (let i = 0; i < chunk.length; i++) {
    const c = JSON_CLASS[chunk[i]!]!;
    if (c === 0) {
      escaped = false;
      continue;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 4) escaped = true;
      else if (c === 3) inString = false;
      else if (c === 5) line++;
    } else if (c === 1) {
      if (++depth > maxDepth) {
        ok = false;
        break;
      }
    } else if (c === 2) {
      if (depth > 0) depth--;
    } else if (c === 3) inString = true;
    else if (c === 5) line++;
  }
  state.depth = depth;
  state.inString = inString;
  state.escaped = escaped;
  state.line = line;
  return ok;
}

/**
 * Reads a file once: its longest line, and for JSON its nesting depth, stopping with an INPUT
 * error at the first point deeper than `maxDepth` (naming the file's line).
 */
export async function inspectFile(
  path: string,
  options: { json: boolean; file: string; maxDepth?: number },
): Promise<FileInspection> {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  let longestLine = 0;
  let lineStart = 0; // absolute offset where the current line starts
  let offset = 0; // absolute offset of the chunk's first byte
  let lines = 0; // lines ended so far
  const blankLines: number[] = [];
  const json: JsonScanState = { depth: 0, inString: false, escaped: false, line: 1 };
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    if (options.json && !scanJsonChunk(chunk, json, maxDepth)) {
      throw new TributaryError(`JSON nests objects and arrays deeper than ${maxDepth} levels`, {
        code: 'INPUT',
        location: { file: options.file, line: json.line },
        hint: `no record may nest more than ${maxDepth} levels; fix the producer and drop the file again`,
      });
    }
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
      const end = offset + i;
      const length = end - lineStart;
      longestLine = Math.max(longestLine, length);
      lines++;
      // Blank lines are short; a line's start may lie in the previous chunk, then it is not.
      if (options.json && length <= 16 && lineStart >= offset && isBlank(chunk, i - length, i))
        blankLines.push(lines);
      lineStart = end + 1;
    }
    offset += chunk.length;
  }
  longestLine = Math.max(longestLine, offset - lineStart);
  return { longestLine, blankLines };
}

/** Whether bytes [from, to) are only spaces, tabs and carriage returns. */
function isBlank(chunk: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = chunk[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}
