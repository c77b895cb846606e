/**
 * The CLI's side of HTTPS: pinnedTlsOptions trusts exactly the certificate in a file, so a
 * client reaches the server that presents it, whether self-signed or issued by a CA the system
 * does not know, and refuses another certificate even when the same CA issued it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTlsFiles, pinnedTlsOptions } from '../../src/serve/index.js';
import { tempDir } from '../helpers.js';

let dir: string;
let server: Server;
let url: string;

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir });
  expect(r.status, String(r.stderr)).toBe(0);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A key and a certificate for localhost issued by the test CA. */
function issue(name: string): void {
  openssl([
    'req',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    '/CN=localhost',
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    'san.cnf',
  ]);
}

function get(options: ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, options, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = tempDir('trib-tls-');
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=test ca',
  ]);
  issue('served');
  issue('sibling');
  writeFileSync(
    join(dir, 'served-chain.crt'),
    readFileSync(join(dir, 'served.crt'), 'utf8') + readFileSync(join(dir, 'ca.crt'), 'utf8'),
  );
  writeFileSync(
    join(dir, 'sibling-chain.crt'),
    readFileSync(join(dir, 'sibling.crt'), 'utf8') + readFileSync(join(dir, 'ca.crt'), 'utf8'),
  );
  const tls = await loadTlsFiles(join(dir, 'served-chain.crt'), join(dir, 'served.key'), 'test');
  server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

describe('pinning the server certificate', () => {
  it('reaches the server that presents the certificate in the file, issued by an unknown CA', async () => {
    expect(await get(await pinnedTlsOptions(join(dir, 'served.crt')))).toBe('hello');
    expect(await get(await pinnedTlsOptions(join(dir, 'served-chain.crt')))).toBe('hello');
  });

  it('refuses a server presenting another certificate, even one the same CA issued', async () => {
    await expect(get(await pinnedTlsOptions(join(dir, 'sibling-chain.crt')))).rejects.toThrow(
      /the server presented certificate [0-9A-F:]+, not [0-9A-F:]+ from .*sibling-chain\.crt/,
    );
    await expect(get(await pinnedTlsOptions(join(dir, 'sibling.crt')))).rejects.toThrow();
  });

  it('leaves other connections to the default verification, which refuses the unknown CA', async () => {
    await expect(get({})).rejects.toThrow(/certificate/);
  });
});
