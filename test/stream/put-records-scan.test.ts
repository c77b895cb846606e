/**
 * The PutRecords fast path reads exactly what JSON.parse plus the general path would, and gives
 * up (undefined) on every body it cannot read that way, so the general path answers those.
 */
import { describe, expect, it } from 'vitest';
import {
  recordInputsOf,
  scanPutRecords,
  type ScannedPutRecords,
} from '../../src/stream/collector/put-records-scan.js';
import type { RecordInput } from '../../src/stream/log.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
type Scanned = ScannedPutRecords & { records: RecordInput[] };
/** Scans the body: the records as views and as copies alike, and the body as sent when refused. */
function scan(body: string): Scanned | undefined {
  const raw = Buffer.from(body);
  const scanned = scanPutRecords(raw, 500);
  if (!scanned) {
    expect(raw.toString()).toBe(body);
    return undefined;
  }
  const views = recordInputsOf(scanned.columns, false);
  const copies = recordInputsOf(scanned.columns, true);
  const hex = (records: RecordInput[]) =>
    records.map((r) => [r.partitionKey, Buffer.from(r.data).toString('hex')]);
  const before = hex(views);
  expect(hex(copies)).toEqual(before);
  // Copies keep their bytes when the body's memory is reused; views do not.
  const views2 = recordInputsOf(scanned.columns, false);
  raw.fill(0x21);
  expect(hex(copies)).toEqual(before);
  if (views2.some((r) => r.data.length > 0)) expect(hex(views2)).not.toEqual(before);
  return { ...scanned, records: copies };
}

describe('scanPutRecords', () => {
  it('reads the SDK shape and the documented shape, in any member order and with whitespace', () => {
    const bodies = [
      `{"Records":[{"Data":"${b64('{"a":1}')}","PartitionKey":"k1"},{"Data":"${b64('xy')}","PartitionKey":"ключ"}],"StreamName":"s-1"}`,
      ` {\n "StreamName" : "s-1",\t"Records" : [ { "PartitionKey" : "k1" , "Data" : "${b64('{"a":1}')}" } ,{"PartitionKey":"ключ","Data":"${b64('xy')}"}] }\r\n`,
    ];
    for (const body of bodies) {
      const scanned = scan(body)!;
      expect(scanned.streamName).toBe('s-1');
      expect(scanned.records.map((r) => [r.partitionKey, r.data.toString()])).toEqual([
        ['k1', '{"a":1}'],
        ['ключ', 'xy'],
      ]);
      expect(scanned.total).toBe(7 + 2 + 2 + Buffer.byteLength('ключ'));
      const parsed = JSON.parse(body) as { Records: { PartitionKey: string }[] };
      expect(scanned.records.map((r) => r.partitionKey)).toEqual(
        parsed.Records.map((r) => r.PartitionKey),
      );
    }
  });

  it('leaves every other body to the general path', () => {
    const data = b64('hello');
    const refused = [
      '',
      '{}',
      '[]',
      `{"StreamName":"s","Records":[]}`,
      `{"StreamName":"s"}`,
      `{"Records":[{"PartitionKey":"k","Data":"${data}"}]}`,
      `{"StreamARN":"arn:aws:kinesis:us-east-1:1:stream/s","Records":[{"PartitionKey":"k","Data":"${data}"}]}`,
      `{"StreamName":"s","StreamName":"t","Records":[{"PartitionKey":"k","Data":"${data}"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"${data}","ExplicitHashKey":"1"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"${data}"}],"Extra":1}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"${data}"}]} x`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"${data}"},]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"${data}"}`,
      `{"StreamName":"s\\u0041","Records":[{"PartitionKey":"k","Data":"${data}"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k\\n","Data":"${data}"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"","Data":"${data}"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"${'k'.repeat(257)}","Data":"${data}"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"aGVsbG8\\/"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"not base64!"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":null}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k"}]}`,
      `{"StreamName":"s","Records":[{"PartitionKey":"k","PartitionKey":"j","Data":"${data}"}]}`,
    ];
    for (const body of refused) expect(scan(body), body).toBeUndefined();
  });

  it('decodes in place over the body, and writes back what it decoded when it gives up', () => {
    const texts = ['{"a":1}', 'xy', 'z'.repeat(1000)];
    const entries = texts.map((t, i) => `{"PartitionKey":"k${i}","Data":"${b64(t)}"}`);
    const good = Buffer.from(`{"StreamName":"s","Records":[${entries.join(',')}]}`);
    const scanned = scanPutRecords(good, 500)!;
    const records = recordInputsOf(scanned.columns, false);
    expect(records.map((r) => Buffer.from(r.data).toString())).toEqual(texts);
    // Ranges of the body: the data was decoded over its own base64 text.
    expect(scanned.columns.bytes).toBe(good);
    for (const r of records) expect((r.data as Buffer).buffer).toBe(good.buffer);
    // A bad record after good ones: refused, with the good ones' texts back as they were sent.
    const badText = `{"StreamName":"s","Records":[${entries.join(',')},{"PartitionKey":"k","Data":"bad!"}]}`;
    const bad = Buffer.from(badText);
    expect(scanPutRecords(bad, 500)).toBeUndefined();
    expect(bad.toString()).toBe(badText);
    // Non-canonical padding bits decode the same; giving up still restores the exact text.
    const odd = `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"QR=="}],"X":1}`;
    const oddRaw = Buffer.from(odd);
    expect(scanPutRecords(oddRaw, 500)).toBeUndefined();
    expect(oddRaw.toString()).toBe(odd);
  });

  it('writes back a refused body exactly after refusing larger and smaller ones before it', () => {
    // The bytes to write back are kept in one buffer shared by every scan: each refusal must
    // restore its own body whatever size of body the buffer held before.
    const entry = (t: string) => `{"PartitionKey":"k","Data":"${b64(t)}"}`;
    const refused = (n: number, size: number) =>
      `{"StreamName":"s","Records":[${Array.from({ length: n }, (_, i) => entry(String(i).repeat(size))).join(',')},{"PartitionKey":"k","Data":"bad!"}]}`;
    for (const [n, size] of [
      [200, 900],
      [2, 10],
      [50, 3000],
      [1, 1],
    ] as const) {
      const text = refused(n, size);
      const raw = Buffer.from(text);
      expect(scanPutRecords(raw, 500)).toBeUndefined();
      expect(raw.toString()).toBe(text);
      const good = scanPutRecords(Buffer.from(text.replace('"bad!"', `"${b64('ok')}"`)), 500);
      expect(good?.columns.count).toBe(n + 1);
    }
  });

  it('leaves more records than the limit to the general path', () => {
    const entry = `{"PartitionKey":"k","Data":"${b64('x')}"}`;
    const body = (n: number) =>
      Buffer.from(`{"StreamName":"s","Records":[${Array(n).fill(entry).join(',')}]}`);
    expect(scanPutRecords(body(3), 3)?.columns.count).toBe(3);
    expect(scanPutRecords(body(4), 3)).toBeUndefined();
  });
});
