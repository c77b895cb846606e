/**
 * The PutRecords fast path reads exactly what JSON.parse plus the general path would, and gives
 * up (undefined) on every body it cannot read that way, so the general path answers those.
 */
import { describe, expect, it } from 'vitest';
import { scanPutRecords } from '../../src/stream/collector/put-records-scan.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const scan = (body: string) => scanPutRecords(Buffer.from(body), 500);

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

  it('leaves more records than the limit to the general path', () => {
    const entry = `{"PartitionKey":"k","Data":"${b64('x')}"}`;
    const body = (n: number) =>
      Buffer.from(`{"StreamName":"s","Records":[${Array(n).fill(entry).join(',')}]}`);
    expect(scanPutRecords(body(3), 3)?.records).toHaveLength(3);
    expect(scanPutRecords(body(4), 3)).toBeUndefined();
  });
});
