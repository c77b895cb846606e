/**
 * Chromium for the UI tests: Debian's package driven by playwright-core, launched with the flags
 * this workplace requires and a fresh profile, and `tributary serve` started in a child process.
 * On a machine without Chromium the suites say they did not run; under CI=true they must run
 * (.ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.TRIBUTARY_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots the UI tests take, to be looked at. */
export const SHOTS = resolve(import.meta.dirname, '.artifacts/screenshots');
const BIN = resolve(import.meta.dirname, '../bin/tributary.js');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true')
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
if (!haveChromium) console.warn(`browser tests did not run: ${CHROMIUM} is not installed`);

/** A headless Chromium with a fresh profile; close the context when done. */
export function launchChromium(viewport: {
  width: number;
  height: number;
}): Promise<BrowserContext> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'trib-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
  });
}

/** `tributary serve --port 0` on a project, resolved with its URL once it listens. */
export async function startServe(dir: string): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [BIN, '-p', dir, 'serve', '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TRIBUTARY_FAULT: '' },
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), 60_000);
    server.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving \S+ at (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolveUrl(m[1]!);
      }
    });
  });
  return { server, url };
}
