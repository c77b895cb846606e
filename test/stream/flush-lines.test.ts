/**
 * The flusher's fast line rendering (renderLine: a validating scan, no JSON.parse) must give the
 * same bytes as the general path (lineOf) for every record: plain objects, every JSON edge the
 * scan has to get right, things that are not JSON or not objects, and many random mutations of
 * valid events (flipped, cut and inserted bytes), so a yes from the scan is never wrong.
 */
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/stream/log.js';
import { lineOf, releaseLine, renderLine } from '../../src/stream/flush/lines.js';
import { scanObject } from '../../src/stream/flush/object-scan.js';
import { seededRandom } from '../../src/core/index.js';

function recordOf(data: Buffer | string, partitionKey = 'pk-1'): LogRecord {
  return {
    shardId: 'shardId-000000000001',
    sequenceNumber: '176500000000000000000000000000042',
    partitionKey,
    data: Buffer.isBuffer(data) ? data : Buffer.from(data),
    arrivalMs: Date.UTC(2026, 11, 3, 14, 0, 0, 123),
  };
}

/** Both paths agree on the bytes and the reject reason. */
function expectSame(data: Buffer | string, partitionKey?: string): void {
  const record = recordOf(data, partitionKey);
  const general = lineOf(record);
  const fast = renderLine(record);
  expect(fast.bytes.toString('utf8')).toBe(general.text);
  expect(Buffer.compare(fast.bytes, Buffer.from(general.text))).toBe(0);
  expect(fast.rejected).toBe(general.rejected);
}

function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 5 : 7));
  const strings = ['', 'a', 'é', 'x\ny', 'quote " and \\ back', '\u2028', '😀', '\u0001', 'a/b'];
  switch (pick) {
    case 0:
      return strings[Math.floor(rand() * strings.length)];
    case 1:
      return [0, -1, 1.5, -0.25e-7, 2 ** 60, 3e100][Math.floor(rand() * 6)];
    case 2:
      return [true, false, null][Math.floor(rand() * 3)];
    case 3:
      return Math.floor(rand() * 1e6);
    case 4:
      return `s${Math.floor(rand() * 1e9)}`;
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--)
        o[`k${Math.floor(rand() * 20)}`] = randomValue(rand, depth + 1);
      return o;
    }
  }
}

describe('renderLine gives the same line as lineOf', () => {
  it('for plain and edge-case objects', () => {
    const cases = [
      '{"event_id":"e-1","user_id":7,"url":"/p/1"}',
      '{}',
      '  { }  ',
      '{\n  "a": 1,\n  "b": [1, 2, {"c": null}]\n}\n',
      '\r\n{"a":"b"}\r\n',
      '{"a":[],"b":{},"c":[[]],"d":[{}],"e":[1,[2,[3]]]}',
      '{"n":-0,"m":0.5,"e":1e10,"E":-2.5E-3,"big":123456789012345678901234567890}',
      '{"s":"\\u00e9\\n\\t\\"\\\\\\/\\b\\f\\r","u":"\\uD83D\\uDE00","lone":"\\ud800"}',
      '{"é":"ü","emoji":"😀","cjk":"漢字"}',
      '{"a":true,"b":false,"c":null}',
      '{"dup":1,"dup":2}',
      '{"_other":1,"_sequence_numberx":2,"x_shard_id":3}',
      '{"nested":{"_sequence_number":"kept: not top level"}}',
    ];
    for (const c of cases) {
      // These take the fast path (otherwise the comparison would be lineOf against itself).
      expect(scanObject(Buffer.from(c), 900, [])).toBeDefined();
      expectSame(c);
    }
    expectSame('{"a":1}', 'key with "quotes", \\ and é 😀');
  });

  it('for every kind of partition key, written as bytes or as JSON text', () => {
    // Printable ASCII without a quote or backslash is written byte by byte; anything else
    // (a quote, a backslash, a control character, DEL, non-ASCII) goes through JSON.stringify.
    const keys = ['', ' ', '~', 'user-42', 'a b!#$%&()*+,-./:;<=>?@[]^_`{|}', '"', '\\', '\t'];
    keys.push('\u007f', '\u0001', 'é', '😀', 'x'.repeat(256), `end${String.fromCharCode(0x7e)}`);
    for (const key of keys)
      for (const data of ['{"a":1}', '{}', '{ }', '{\n"a" : [1,\n2]\n}\n', '  {"b":"c"}  '])
        expectSame(data, key);
  });

  it('for events that clash with the metadata names', () => {
    expectSame('{"_sequence_number":"mine","a":1}');
    expectSame('{"a":1,"_arrival_ts":"2020-01-01"}');
    expectSame('{"\\u005fshard_id":"escaped name"}');
    expectSame('{"_partition_key":null}');
  });

  it('for records that are not JSON objects', () => {
    const cases: (string | Buffer)[] = [
      '',
      '   ',
      'not json',
      '[1,2]',
      '"a string"',
      '42',
      'null',
      '{"a":1',
      '{"a":1}}',
      '{"a":1} {"b":2}',
      '{"a":1,}',
      '{,"a":1}',
      '{"a" 1}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":1e}',
      '{"a":-}',
      '{"a":tru}',
      '{"a":nul}',
      '{"a":"\\x"}',
      '{"a":"\\u12G4"}',
      '{"a":"tab\tinside"}',
      '{"a":"line\nbreak"}',
      '{a:1}',
      "{'a':1}",
      '{"a":[1,]}',
      '{"a":[,1]}',
      '{"a":[}',
      '{"a":{]}',
      '{"a":[{},]}',
      '{"a":NaN}',
      '\ufeff{"bom":true}',
      '{"a":1}\u00a0',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]),
      Buffer.from([0x7b, 0x7d, 0x00]),
    ];
    for (const c of cases) expectSame(c);
  });

  it('for long strings with a control byte or an escape at every place and alignment', () => {
    // Long strings are checked four bytes at a time over the buffer's memory: the bad byte at
    // each offset of the string, the event at each offset of its buffer modulo 4.
    const bad = ['\t', '\n', '\u0001', '\u001f'];
    for (let length = 14; length <= 41; length += 9)
      for (let at = 0; at < length; at++)
        for (let shift = 0; shift < 4; shift++) {
          const clean = 'x'.repeat(length);
          const events = [
            `{"s":"${clean}"}`,
            `{"s":"${clean.slice(0, at)}${bad[at % bad.length]}${clean.slice(at + 1)}"}`,
            `{"s":"${clean.slice(0, at)}\\n${clean.slice(at + 1)}"}`,
            `{"s":"${clean.slice(0, at)}\\u00e9${clean.slice(at + 1)}","t":1}`,
            `{"s":"${clean.slice(0, at)}\\q${clean.slice(at + 1)}"}`,
            `{"s":"${clean.slice(0, at)}\x7f\u00e9${clean.slice(at + 1)}"}`,
          ];
          for (const event of events) {
            const bytes = Buffer.from(event);
            const memory = Buffer.alloc(bytes.length + 8);
            bytes.copy(memory, shift);
            expectSame(memory.subarray(shift, shift + bytes.length));
          }
        }
  });

  it('at the depth limit and beyond it', () => {
    const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
    const arrays = (levels: number) => `{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
    for (const levels of [899, 900, 901, 1500]) {
      expectSame(nested(levels));
      expectSame(arrays(levels));
    }
    expect(scanObject(Buffer.from(nested(900)), 900, [])).toBeDefined();
    expect(scanObject(Buffer.from(nested(901)), 900, [])).toBeUndefined();
  });

  it('for random objects and random mutations of them', () => {
    const rand = seededRandom(15); // seeded, so a failure reproduces
    for (let n = 0; n < 1500; n++) {
      const value = randomValue(rand, 0);
      const event = value && typeof value === 'object' && !Array.isArray(value) ? value : { value };
      const text = rand() < 0.3 ? JSON.stringify(event, null, 2) : JSON.stringify(event);
      const bytes = Buffer.from(text);
      expect(scanObject(bytes, 900, [])).toBeDefined();
      expectSame(bytes);
      // Mutations: a changed byte, a cut, an inserted byte from JSON's own alphabet.
      const alphabet = Buffer.from('{}[]",:\\ \n0123456789-+.eEtrufalsn\u00e9');
      for (let m = 0; m < 3; m++) {
        const at = Math.floor(rand() * bytes.length);
        const byte = alphabet[Math.floor(rand() * alphabet.length)]!;
        const kind = Math.floor(rand() * 3);
        const mutated =
          kind === 0
            ? Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at + 1)])
            : kind === 1
              ? bytes.subarray(0, at)
              : Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at)]);
        expectSame(mutated);
      }
    }
  });
});

describe('line slabs', () => {
  it('reuses a slab once all its lines are released, and never one with a line still held', () => {
    const event = (i: number) => JSON.stringify({ i, pad: 'p'.repeat(900) });
    // Enough lines to fill several 64 KB slabs.
    const first = Array.from({ length: 300 }, (_, i) => renderLine(recordOf(event(i))));
    const slabs = [...new Set(first.map((l) => l.slab!))];
    expect(slabs.length).toBeGreaterThan(3);
    // slabs[0] may hold earlier tests' lines (never released): slabs[1] is wholly this test's.
    const held = slabs[2]!;
    // Every line written except one of the second slab.
    const keep = first.find((l) => l.slab === held)!;
    for (const line of first) if (line !== keep) releaseLine(line.slab!);
    const keptText = keep.bytes.toString();
    const later = Array.from({ length: 600 }, (_, i) => renderLine(recordOf(event(1000 + i))));
    const reused = new Set(later.map((l) => l.bytes.buffer));
    // The fully released slabs' memory took new lines; the held slab's did not.
    expect(reused.has(slabs[1]!.buffer.buffer)).toBe(true);
    expect(reused.has(held.buffer.buffer)).toBe(false);
    expect(keep.bytes.toString()).toBe(keptText);
    for (const [i, line] of later.entries())
      expect(line.bytes.toString()).toBe(lineOf(recordOf(event(1000 + i))).text);
    for (const line of later) releaseLine(line.slab!);
    releaseLine(keep.slab!);
  });
});
