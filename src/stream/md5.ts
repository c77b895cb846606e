/**
 * MD5 of a short ASCII partition key in plain JavaScript, for the append path: Kinesis places a
 * record by the MD5 of its key, and a native Hash call per record costs more than the hashing.
 * Keys of up to 55 ASCII characters fit one 64-byte block; the caller uses node:crypto for the
 * rest. Checked against node:crypto over thousands of keys (test/stream/records.test.ts).
 */

const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = Int32Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0,
);
const block = new Int32Array(16);
/** The four words of the last digest (a, b, c, d as MD5 defines them; little-endian bytes). */
export const md5Words = new Int32Array(4);

/** The longest key `md5Short` takes. */
export const MD5_SHORT_MAX = 55;

/**
 * Hashes `key` into `md5Words` and returns true, or returns false when the key is longer than
 * 55 characters or not ASCII (then nothing is computed).
 */
export function md5Short(key: string): boolean {
  const length = key.length;
  if (length > MD5_SHORT_MAX) return false;
  block.fill(0);
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i);
    if (code > 127) return false;
    block[i >> 2]! |= code << ((i & 3) * 8);
  }
  compressLastBlock(length);
  return true;
}

/**
 * Hashes the bytes `[start, end)` of `bytes` into `md5Words` and returns true, or returns false
 * when they are more than 55 bytes (then nothing is computed). Any bytes: a partition key's UTF-8.
 */
export function md5ShortBytes(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length > MD5_SHORT_MAX) return false;
  block.fill(0);
  for (let i = 0; i < length; i++) block[i >> 2]! |= bytes[start + i]! << ((i & 3) * 8);
  compressLastBlock(length);
  return true;
}

/** Pads the message of `length` bytes already in `block` and runs MD5 over that one block. */
function compressLastBlock(length: number): void {
  block[length >> 2]! |= 0x80 << ((length & 3) * 8);
  block[14] = length * 8;
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    f = (f + a + K[i]! + block[g]!) | 0;
    a = d;
    d = c;
    c = b;
    const s = SHIFTS[((i >> 4) << 2) | (i & 3)]!;
    b = (b + ((f << s) | (f >>> (32 - s)))) | 0;
  }
  md5Words[0] = (a + 0x67452301) | 0;
  md5Words[1] = (b + (0xefcdab89 | 0)) | 0;
  md5Words[2] = (c + (0x98badcfe | 0)) | 0;
  md5Words[3] = (d + 0x10325476) | 0;
}

/** A word's bytes reversed, unsigned: MD5's little-endian word as a big-endian number. */
export function byteSwap(word: number): number {
  return (
    (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0
  );
}
