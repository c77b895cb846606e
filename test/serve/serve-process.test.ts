/**
 * `tributary serve` as real processes, for what is about processes: the admin token a server
 * leaves in server.json is rotated by the next start after a SIGKILL and revoked by a clean
 * stop; a request whose server is killed while it runs keeps its audit entry, which the next
 * start marks interrupted, and the server's query processes exit with it; and HTTPS end to end
 * with a certificate made here, which the CLI's remote client pins.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeFiles } from '../helpers.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');

function tributary(dir: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, '-p', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', TRIBUTARY_FAULT: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(extra = ''): string {
  const dir = tempDir('trib-serve-proc-');
  writeFiles(dir, { 'tributary.yml': `name: served\n${extra}` });
  return dir;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Serving {
  proc: ChildProcess;
  url: string;
  log: () => string;
  exited: Promise<number | null>;
}

/** Starts `tributary serve` and resolves once it says where it listens. */
async function serve(dir: string, args: string[] = []): Promise<Serving> {
  const proc = spawn(process.execPath, [CLI, '-p', dir, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TRIBUTARY_FAULT: '' },
  });
  let log = '';
  const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /serving \S+ at (https?:\/\/\S+)/.exec(log);
      if (m) done(m[1]!);
    });
    void exited.then((code) => fail(new Error(`serve exited with ${code}:\n${log}`)));
  });
  return { proc, url, log: () => log, exited };
}

interface ServerJson {
  url: string;
  pid: number;
  token: string;
  tlsCert?: string;
}
const serverJsonPath = (dir: string) => join(dir, '.tributary', 'server.json');
const serverJson = (dir: string) =>
  JSON.parse(readFileSync(serverJsonPath(dir), 'utf8')) as ServerJson;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP(S) request; `ca` is the certificate to trust (Node's defaults otherwise). */
function call(
  url: string,
  opts: { method?: string; token?: string; body?: unknown; ca?: Buffer; headers?: object } = {},
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((done, fail) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: opts.method ?? 'GET',
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}

async function stop(s: Serving): Promise<number | null> {
  s.proc.kill('SIGTERM');
  return s.exited;
}

describe('the server admin token', () => {
  it('is rotated by a restart after SIGKILL, so the one the killed server left gets 401', async () => {
    const dir = project();
    const first = await serve(dir);
    const before = serverJson(dir);
    expect(statSync(serverJsonPath(dir)).mode & 0o777).toBe(0o600);
    expect((await call(`${first.url}/api/me`, { token: before.token })).status).toBe(200);
    first.proc.kill('SIGKILL');
    await first.exited;
    // The killed server could neither revoke its token nor remove the file.
    expect(existsSync(serverJsonPath(dir))).toBe(true);

    const second = await serve(dir);
    try {
      const after = serverJson(dir);
      expect(after.token).not.toBe(before.token);
      expect(statSync(serverJsonPath(dir)).mode & 0o777).toBe(0o600);
      expect((await call(`${second.url}/api/me`, { token: before.token })).status).toBe(401);
      expect((await call(`${second.url}/api/me`, { token: after.token })).status).toBe(200);
      // The CLI still finds the server through server.json and asks it.
      const listed = tributary(dir, ['token', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const tokens = JSON.parse(listed.stdout) as { id: string; kind: string; revokedAt: string }[];
      const server = tokens.filter((t) => t.kind === 'server');
      expect(server).toHaveLength(2);
      expect(server.filter((t) => t.revokedAt === null)).toHaveLength(1);
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 60_000);

  it('is revoked, and server.json removed, when the server stops on SIGTERM', async () => {
    const dir = project();
    const s = await serve(dir);
    const { token } = serverJson(dir);
    const id = token.split('_')[1];
    expect(await stop(s)).toBe(0);
    expect(existsSync(serverJsonPath(dir))).toBe(false);
    const listed = tributary(dir, ['token', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const mine = (JSON.parse(listed.stdout) as { id: string; revokedAt: string | null }[]).find(
      (t) => t.id === id,
    );
    expect(mine?.revokedAt).not.toBeNull();
  }, 60_000);
});

describe('the audit log across a crash', () => {
  it('keeps the entry of a request whose server was killed mid-handler, marked interrupted', async () => {
    const dir = project();
    const first = await serve(dir);
    const { token } = serverJson(dir);
    // A query that runs until stopped: the server is killed while it runs.
    const pending = call(`${first.url}/api/query`, {
      method: 'POST',
      token,
      body: {
        sql: 'select count(*) from range(1000000000) a cross join range(1000000000) b',
        timeoutMs: 300_000,
      },
    }).catch((err: Error) => err);
    let started: { id: string } | undefined;
    await expect
      .poll(
        async () => {
          const res = await call(`${first.url}/api/audit?limit=5`, { token });
          const entries = JSON.parse(res.body) as { id: string; path: string; outcome: string }[];
          started = entries.find((e) => e.path === '/api/query' && e.outcome === 'started');
          return started;
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBeDefined();
    // The server's query processes (one runs the query): they must not outlive it.
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(first.proc.pid)], {
      encoding: 'utf8',
    })
      .stdout.split('\n')
      .filter((l) => l.trim())
      .map(Number);
    expect(children.length).toBeGreaterThan(0);
    first.proc.kill('SIGKILL');
    await first.exited;
    expect(await pending).toBeInstanceOf(Error);
    // A query process sees its IPC channel close and exits, even mid-query.
    await expect
      .poll(() => children.filter((pid) => isAlive(pid)), { timeout: 20_000, interval: 100 })
      .toEqual([]);

    const second = await serve(dir);
    try {
      expect(second.log()).toMatch(/1 audited request\(s\) were cut short.*marked interrupted/);
      const res = await call(`${second.url}/api/audit?limit=50`, { token: serverJson(dir).token });
      const entry = (JSON.parse(res.body) as { id: string }[]).find((e) => e.id === started!.id);
      expect(entry).toMatchObject({
        path: '/api/query',
        method: 'POST',
        status: null,
        outcome: 'interrupted',
        error: 'the server process ended before this request finished',
        summary: expect.stringMatching(/cross join/),
      });
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 90_000);
});

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl. */
function certificate(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const r = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  expect(r.status, String(r.stderr)).toBe(0);
  return { cert, key };
}

describe('HTTPS', () => {
  it('serves HTTPS with --tls-cert/--tls-key, and the CLI reaches it by pinning the certificate', async () => {
    const dir = project();
    const own = certificate(dir, 'own');
    const s = await serve(dir, ['--tls-cert', own.cert, '--tls-key', own.key]);
    try {
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const info = serverJson(dir);
      expect(info).toMatchObject({ url: s.url, tlsCert: own.cert });
      const ca = readFileSync(own.cert);
      const health = await call(`${s.url}/api/health`, { ca });
      expect(health.status).toBe(200);
      expect(health.headers['x-frame-options']).toBe('DENY');
      // Verification stays on: without the certificate, a client refuses the server.
      await expect(call(`${s.url}/api/health`)).rejects.toThrow(/self-signed/);
      // The session cookie is Secure over HTTPS.
      const login = await call(`${s.url}/api/session`, {
        method: 'POST',
        ca,
        body: { token: info.token },
        headers: { origin: s.url },
      });
      expect(login.status, login.body).toBe(200);
      expect(String(login.headers['set-cookie'])).toMatch(
        /HttpOnly; SameSite=Strict; Path=\/; Secure/,
      );
      // The CLI's commands go to the server over HTTPS.
      const listed = tributary(dir, ['token', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/"kind": "server"/);
      const q = tributary(dir, ['query', 'select 41 + 1 as answer', '--json']);
      expect(q.code, q.stderr).toBe(0);
      expect(q.stdout).toMatch(/"answer": 42/);
      // Pinned: a server.json naming another certificate makes the CLI refuse this server.
      const other = certificate(dir, 'other');
      writeFileSync(serverJsonPath(dir), JSON.stringify({ ...info, tlsCert: other.cert }));
      const refused = tributary(dir, ['token', 'list']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/as the holder of the certificate .*other\.crt/);
      writeFileSync(serverJsonPath(dir), JSON.stringify(info));
    } finally {
      expect(await stop(s)).toBe(0);
    }
  }, 90_000);

  it('serves HTTPS with serve.tls from tributary.yml, paths relative to the project', async () => {
    const dir = project('serve:\n  tls: { cert: tls/own.crt, key: tls/own.key }\n');
    writeFiles(dir, { 'tls/.keep': '' });
    const own = certificate(join(dir, 'tls'), 'own');
    const s = await serve(dir);
    try {
      expect(s.url).toMatch(/^https:/);
      expect(serverJson(dir).tlsCert).toBe(own.cert);
      const res = await call(`${s.url}/api/health`, { ca: readFileSync(own.cert) });
      expect(res.status).toBe(200);
    } finally {
      expect(await stop(s)).toBe(0);
    }
  }, 60_000);

  it('refuses to start with half a TLS setup or a key that is not the certificate one', () => {
    const dir = project();
    const a = certificate(dir, 'a');
    const b = certificate(dir, 'b');
    const half = tributary(dir, ['serve', '--port', '0', '--tls-cert', a.cert]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const mismatched = tributary(dir, [
      'serve',
      '--port',
      '0',
      '--tls-cert',
      a.cert,
      '--tls-key',
      b.key,
    ]);
    expect(mismatched.code).toBe(1);
    expect(mismatched.stderr).toContain(
      `the key ${b.key} does not belong to the certificate ${a.cert}`,
    );
    const missing = tributary(dir, [
      'serve',
      '--port',
      '0',
      '--tls-cert',
      join(dir, 'nope.crt'),
      '--tls-key',
      a.key,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /cannot read the TLS certificate .*nope\.crt \(--tls-cert\/--tls-key\)/,
    );
  });
});
