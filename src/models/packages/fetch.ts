/**
 * Getting package files onto the disk: HTTP(S) downloads (the hub's API and tarballs), .tar.gz
 * extraction, and git checkouts with the machine's `git`, as dbt-core's clients/registry.py,
 * clients/system.py and clients/git.py do.
 *
 * Contract: every failure is a TributaryError saying what was fetched (URL, revision) and what
 * to do; `what` names the package entry that asked for it. No Node stack reaches the user.
 * Extraction uses the machine's `tar` (no tar reader ships in node_modules); GNU and BSD tar
 * both refuse members that climb out of the target (`..`, absolute paths).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError, backoffDelay } from '../../core/index.js';

/** How one network request is described in messages: the package entry that needed it. */
export interface FetchContext {
  /** e.g. `packages.yml:3 (dbt-labs/dbt_utils)`. */
  what: string;
  location?: { file: string; line?: number };
}

const ATTEMPTS = 3;
const TIMEOUT_MS = 60_000;

/** GETs a URL, retrying lost connections and 5xx as dbt's connection_exception_retry does. */
async function get(url: string, ctx: FetchContext): Promise<Response> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, backoffDelay(RETRY, attempt - 1)));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' });
      if (res.status < 500 || attempt === ATTEMPTS) return res;
      lastError = new Error(`HTTP ${res.status} ${res.statusText}`);
    } catch (err) {
      if (
        err instanceof TypeError &&
        /invalid url|unknown scheme|not implemented/i.test(String(err.cause ?? err.message))
      )
        throw new TributaryError(`${ctx.what}: ${url} is not an http(s) URL`, {
          code: 'CONFIG',
          ...(ctx.location ? { location: ctx.location } : {}),
          hint: 'write the full URL, e.g. https://example.com/pkg.tar.gz',
        });
      lastError = err;
      // A host that does not resolve will not resolve on the next try either.
      if ((err as { cause?: { code?: string } }).cause?.code === 'ENOTFOUND') break;
    }
  }
  const cause = (lastError as { cause?: { message?: string; code?: string } } | undefined)?.cause;
  const reason = cause?.code ?? cause?.message ?? (lastError as Error | undefined)?.message;
  throw new TributaryError(`${ctx.what}: could not reach ${url}: ${reason}`, {
    code: 'INPUT',
    ...(ctx.location ? { location: ctx.location } : {}),
    hint: 'check the URL and the network (a proxy, DBT_PACKAGE_HUB_URL), then run deps again',
    transient: true,
  });
}

const RETRY = { backoff: 200, max_backoff: 2000, jitter: true };

/** A URL's JSON body; a 404 or any other non-2xx is an error naming the URL and status. */
export async function getJson(
  url: string,
  ctx: FetchContext,
  notFoundHint: string,
): Promise<unknown> {
  const res = await get(url, ctx);
  if (!res.ok)
    throw new TributaryError(`${ctx.what}: ${url} answered ${res.status} ${res.statusText}`, {
      code: 'INPUT',
      ...(ctx.location ? { location: ctx.location } : {}),
      hint: res.status === 404 ? notFoundHint : 'try again later, or check the URL',
    });
  try {
    return await res.json();
  } catch {
    throw new TributaryError(`${ctx.what}: ${url} did not answer with JSON`, {
      code: 'INPUT',
      ...(ctx.location ? { location: ctx.location } : {}),
      hint: 'check that the URL is a dbt package hub (DBT_PACKAGE_HUB_URL)',
    });
  }
}

/** Downloads a .tar.gz and extracts it into `dir` (created); returns the folder extracted into. */
export async function downloadAndExtract(
  url: string,
  dir: string,
  ctx: FetchContext,
): Promise<string> {
  const res = await get(url, ctx);
  if (!res.ok)
    throw new TributaryError(`${ctx.what}: ${url} answered ${res.status} ${res.statusText}`, {
      code: 'INPUT',
      ...(ctx.location ? { location: ctx.location } : {}),
      hint:
        res.status === 404
          ? 'check the tarball URL (it must point at a .tar.gz of a dbt project)'
          : 'try again later, or check the URL',
    });
  await mkdir(dir, { recursive: true });
  const archive = `${dir}.tar.gz`;
  await writeFile(archive, new Uint8Array(await res.arrayBuffer()));
  try {
    await run('tar', ['-xzf', archive, '-C', dir, '--no-same-owner'], dir);
  } catch (err) {
    throw new TributaryError(`${ctx.what}: ${url} is not a readable .tar.gz: ${lastLine(err)}`, {
      code: 'INPUT',
      ...(ctx.location ? { location: ctx.location } : {}),
      hint: 'point the entry at a gzipped tar of a dbt project',
    });
  } finally {
    await rm(archive, { force: true });
  }
  return dir;
}

/**
 * The one folder a package archive holds (dbt requires `<folder>/<project files>`): hub
 * tarballs from GitHub unpack to `<repo>-<version>/`.
 */
export async function singleTopFolder(
  dir: string,
  url: string,
  ctx: FetchContext,
): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter(
    (e) => e.name !== 'pax_global_header',
  );
  if (entries.length !== 1 || !entries[0]!.isDirectory())
    throw new TributaryError(
      `${ctx.what}: ${url} unpacks to ${entries.length} entries; a package archive holds one folder with the project in it`,
      {
        code: 'INPUT',
        ...(ctx.location ? { location: ctx.location } : {}),
        hint: 'make the archive with `tar -czf pkg.tar.gz <folder>` where <folder> holds dbt_project.yml',
      },
    );
  return join(dir, entries[0]!.name);
}

/** A checkout of `url` at `revision` (branch, tag, full sha, or the default branch) in `dir`. */
export async function gitCheckout(
  url: string,
  revision: string | undefined,
  dir: string,
  ctx: FetchContext,
): Promise<{ sha: string }> {
  const fail = (err: unknown, doing: string): never => {
    throw new TributaryError(`${ctx.what}: ${doing} ${url} failed: ${lastLine(err)}`, {
      code: 'INPUT',
      ...(ctx.location ? { location: ctx.location } : {}),
      hint: revision
        ? `check that ${url} is reachable (git ls-remote ${url}) and has revision ${revision} (a branch, tag or full commit sha)`
        : `check that ${url} is reachable: git ls-remote ${url}`,
    });
  };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const isSha = revision !== undefined && /^[0-9a-f]{40}$/.test(revision);
  if (url.startsWith('-'))
    throw new TributaryError(`${ctx.what}: ${url} is not a git URL`, {
      code: 'CONFIG',
      ...(ctx.location ? { location: ctx.location } : {}),
      hint: 'write the repository URL, e.g. https://github.com/dbt-labs/dbt-utils.git',
    });
  try {
    await run('git', ['version'], dir);
  } catch (err) {
    throw new TributaryError(`${ctx.what}: git is needed to install ${url}: ${lastLine(err)}`, {
      code: 'INPUT',
      ...(ctx.location ? { location: ctx.location } : {}),
      hint: 'install git (e.g. apt-get install git), or install the package from the hub or a tarball',
    });
  }
  if (!isSha) {
    const branch = revision && revision !== 'HEAD' ? ['--branch', revision] : [];
    await run(
      'git',
      ['clone', '--quiet', '--depth', '1', '--no-tags', ...branch, '--', url, dir],
      dir,
    ).catch((err: unknown) => fail(err, `git clone of`));
  } else {
    // A commit is fetched by its sha (dbt does the same); servers that refuse that get a full fetch.
    await run('git', ['init', '--quiet'], dir).catch((err: unknown) => fail(err, 'git init for'));
    await run('git', ['remote', 'add', 'origin', url], dir);
    try {
      await run('git', ['fetch', '--quiet', '--depth', '1', 'origin', revision], dir);
    } catch {
      await run('git', ['fetch', '--quiet', 'origin'], dir).catch((err: unknown) =>
        fail(err, 'git fetch of'),
      );
    }
    await run('git', ['checkout', '--quiet', '--detach', revision], dir).catch((err: unknown) =>
      fail(err, `checking out ${revision} of`),
    );
  }
  const sha = (await run('git', ['rev-parse', 'HEAD'], dir)).trim();
  await rm(join(dir, '.git'), { recursive: true, force: true });
  return { sha };
}

/** Runs a command without a shell; rejects with its stderr. Git never prompts for a password. */
function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        maxBuffer: 16 * 1024 * 1024,
        // A clone that hangs (a server that never answers) fails instead of blocking deps.
        timeout: 10 * 60_000,
      },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr: String(stderr) }));
        else resolve(String(stdout));
      },
    );
  });
}

/** The last meaningful line of a command's error output (git's `fatal: …`). */
function lastLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string; code?: string };
  if (e.code === 'ENOENT') return `${e.message ?? 'command not found'} (is it installed?)`;
  const lines = (e.stderr ?? e.message ?? String(err))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('warning:'));
  return lines.find((l) => l.startsWith('fatal:') || l.startsWith('error:')) ?? lines.at(-1) ?? '';
}
