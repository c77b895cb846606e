/**
 * `deps` as dbt-core 1.8/1.9 installs packages. The dbt hub and remote tarballs cannot be
 * reached from here, so a local HTTP server plays both: it answers the hub's API
 * (`/api/v1/<namespace>/<name>.json`, through DBT_PACKAGE_HUB_URL as dbt reads it) and serves
 * .tar.gz archives made with the machine's tar. Git packages use the machine's real `git` on a
 * bare repository made in a temp folder. Local packages, including the dbt-utils
 * integration_tests project's `local: ../`, are installed from temp copies.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeError } from '../../src/core/index.js';
import { installDeps, openDbtProject, type DepsOptions } from '../../src/models/index.js';
import { specsHash } from '../../src/models/packages/index.js';
import { buildProgram, main } from '../../src/cli/main.js';
import { tempDir } from '../helpers.js';
import { sharedPath } from '../shared-material.js';

/** Writes files (path → text) under `dir`. */
function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

const project = (name: string, extra = '') =>
  `name: ${name}\nversion: '1.0.0'\nconfig-version: 2\nprofile: p\n${extra}`;

/** A package folder: a dbt project with one macro whose body says which copy it is. */
function makePackage(dir: string, name: string, marker: string, packagesYml?: string): void {
  write(dir, {
    'dbt_project.yml': project(name),
    [`macros/${name}.sql`]: `{% macro ${name}_marker() %}${marker}{% endmacro %}\n`,
    ...(packagesYml ? { 'packages.yml': packagesYml } : {}),
  });
}

const read = (path: string) => readFileSync(path, 'utf8');
const lockOf = (dir: string) =>
  parse(read(join(dir, 'package-lock.yml'))) as Record<string, unknown>;

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return describeError(err);
  }
  throw new Error('expected deps to fail');
}

// ---------------------------------------------------------------- the hub and tarball server

interface HubVersionDoc {
  name: string;
  packages: unknown[];
  tarball: string;
  require_dbt_version?: string[];
}

class FakeHub {
  server!: Server;
  url = '';
  /** `namespace/name` → version → metadata. */
  readonly packages = new Map<string, Map<string, HubVersionDoc>>();
  /** `/t/<file>` → archive bytes. */
  readonly files = new Map<string, Buffer>();
  readonly requests: string[] = [];

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '';
      this.requests.push(path);
      const api = /^\/api\/v1\/(.+)\.json$/.exec(path);
      if (api && this.packages.has(api[1]!)) {
        const versions = this.packages.get(api[1]!)!;
        const [namespace, name] = api[1]!.split('/');
        const body = {
          name,
          namespace,
          latest: [...versions.keys()].at(-1),
          versions: Object.fromEntries(
            [...versions].map(([v, d]) => [
              v,
              {
                id: `${api[1]}/${v}`,
                name: d.name,
                version: v,
                packages: d.packages,
                ...(d.require_dbt_version ? { require_dbt_version: d.require_dbt_version } : {}),
                downloads: { tarball: d.tarball, format: 'tgz' },
              },
            ]),
          ),
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return;
      }
      const file = this.files.get(path);
      if (file) res.writeHead(200, { 'content-type': 'application/gzip' }).end(file);
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Publishes a version: its files are tarred as `<repo>-<version>/` like GitHub's archives. */
  publish(
    pkg: string,
    version: string,
    name: string,
    deps: unknown[] = [],
    scratch: string,
    requireDbt?: string[],
  ): void {
    const folder = `${pkg.split('/')[1]}-${version}`;
    const src = join(scratch, `src-${name}-${version}`, folder);
    makePackage(src, name, `${name} ${version}`);
    const file = `/t/${folder}.tar.gz`;
    this.files.set(file, tarOf(dirname(src), folder));
    if (!this.packages.has(pkg)) this.packages.set(pkg, new Map());
    this.packages.get(pkg)!.set(version, {
      name,
      packages: deps,
      tarball: `${this.url}t/${folder}.tar.gz`,
      ...(requireDbt ? { require_dbt_version: requireDbt } : {}),
    });
  }
}

/** A .tar.gz of `parent/folder` made with the machine's tar. */
function tarOf(parent: string, folder: string): Buffer {
  return execFileSync('tar', ['-czf', '-', '-C', parent, folder]);
}

// ---------------------------------------------------------------- git

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();

/** A bare repo: commit 1 (tag 1.0.0) holds git_pkg v1; commit 2 (main) has v2 and sub/sub_pkg. */
function makeGitRepo(root: string): { url: string; first: string; second: string } {
  const work = join(root, 'work');
  mkdirSync(work, { recursive: true });
  git(work, '-c', 'init.defaultBranch=main', 'init', '--quiet');
  makePackage(work, 'git_pkg', 'git v1');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'v1');
  git(work, 'tag', '1.0.0');
  const first = git(work, 'rev-parse', 'HEAD');
  makePackage(work, 'git_pkg', 'git v2');
  makePackage(join(work, 'sub'), 'sub_pkg', 'sub v2');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'v2');
  const second = git(work, 'rev-parse', 'HEAD');
  const bare = join(root, 'pkg.git');
  git(root, 'clone', '--quiet', '--bare', work, bare);
  return { url: bare, first, second };
}

// ---------------------------------------------------------------- the suite

let hub: FakeHub;
let scratch: string;
let dir: string;
const warnings: string[] = [];
const opts = (o: DepsOptions = {}): DepsOptions => ({ warn: (m) => warnings.push(m), ...o });
const savedHubUrl = process.env.DBT_PACKAGE_HUB_URL;

beforeAll(async () => {
  scratch = tempDir('deps-hub-');
  hub = new FakeHub();
  await hub.start();
  process.env.DBT_PACKAGE_HUB_URL = hub.url;
  hub.publish(
    'acme/pkg_a',
    '1.0.0',
    'pkg_a',
    [{ package: 'acme/pkg_b', version: '>=0.5.0' }],
    scratch,
  );
  hub.publish(
    'acme/pkg_a',
    '1.2.0',
    'pkg_a',
    [{ package: 'acme/pkg_b', version: ['>=0.5.0', '<1.0.0'] }],
    scratch,
  );
  hub.publish('acme/pkg_a', '2.0.0', 'pkg_a', [], scratch);
  hub.publish(
    'acme/pkg_c',
    '1.0.0',
    'pkg_c',
    [{ package: 'acme/pkg_b', version: '<0.6.0' }],
    scratch,
  );
  hub.publish('acme/pkg_d', '1.0.0', 'pkg_d', [], scratch, ['>=1.3.0', '<2.0.0']);
  hub.publish('acme/pkg_d', '1.1.0', 'pkg_d', [], scratch, ['>=2.0.0']);
  hub.publish('acme/pkg_b', '0.5.0', 'pkg_b', [], scratch);
  hub.publish('acme/pkg_b', '0.6.0', 'pkg_b', [], scratch);
  hub.publish('acme/pkg_b', '0.7.0-rc1', 'pkg_b', [], scratch);
});

afterAll(async () => {
  if (savedHubUrl === undefined) delete process.env.DBT_PACKAGE_HUB_URL;
  else process.env.DBT_PACKAGE_HUB_URL = savedHubUrl;
  await new Promise((r) => hub.server.close(r));
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  dir = tempDir('deps-');
  warnings.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A root project `shop` in dir/shop with the given packages.yml. */
function root(packagesYml: string, extra = ''): string {
  const p = join(dir, 'shop');
  write(p, { 'dbt_project.yml': project('shop', extra), 'packages.yml': packagesYml });
  return p;
}

const marker = (p: string, name: string) =>
  read(join(p, 'dbt_packages', name, 'macros', `${name}.sql`));

describe('deps: local packages', () => {
  it('links a local package under its own project name and locks it', async () => {
    makePackage(join(dir, 'shared', 'utils_src'), 'my_utils', 'local');
    const p = root('packages:\n  - local: ../shared/utils_src\n');
    const result = await installDeps(p, opts());
    const installed = join(p, 'dbt_packages', 'my_utils');
    expect(lstatSync(installed).isSymbolicLink()).toBe(true);
    expect(realpathSync(installed)).toBe(realpathSync(join(dir, 'shared', 'utils_src')));
    expect(marker(p, 'my_utils')).toContain('local');
    expect(result.packages).toEqual([
      expect.objectContaining({ name: 'my_utils', kind: 'local', linked: true }),
    ]);
    expect(lockOf(p).packages).toEqual([{ local: '../shared/utils_src', name: 'my_utils' }]);
    // A second install replaces the link, never the folder it points to; a killed run's
    // staging folder is cleared.
    mkdirSync(join(p, '.dbt_packages.abc123.tmp'));
    await installDeps(p, opts());
    expect(existsSync(join(dir, 'shared', 'utils_src', 'macros', 'my_utils.sql'))).toBe(true);
    expect(marker(p, 'my_utils')).toContain('local');
    expect(readdirSync(p).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it("installs a local package's own dependencies (a hub package it declares)", async () => {
    makePackage(
      join(dir, 'with_deps'),
      'wrapper',
      'wraps pkg_b',
      'packages:\n  - package: acme/pkg_b\n    version: "0.5.0"\n',
    );
    const p = root('packages:\n  - local: ../with_deps\n');
    const r = await installDeps(p, opts());
    expect(r.packages.map((x) => `${x.kind}:${x.name}`)).toEqual(['local:wrapper', 'hub:pkg_b']);
    expect(marker(p, 'pkg_b')).toContain('pkg_b 0.5.0');
  });

  it('renders env_var() in packages.yml, as dbt does', async () => {
    makePackage(join(dir, 'elsewhere'), 'env_pkg', 'env');
    process.env.TRIBUTARY_TEST_PKG_DIR = join(dir, 'elsewhere');
    try {
      const p = root(`packages:\n  - local: "{{ env_var('TRIBUTARY_TEST_PKG_DIR') }}"\n`);
      await installDeps(p, opts());
      expect(marker(p, 'env_pkg')).toContain('env');
    } finally {
      delete process.env.TRIBUTARY_TEST_PKG_DIR;
    }
  });

  it('installs into packages-install-path and replaces what was there', async () => {
    makePackage(join(dir, 'one'), 'one_pkg', 'one');
    const p = root('packages:\n  - local: ../one\n', 'packages-install-path: vendor/pkgs\n');
    write(p, { 'vendor/pkgs/stale/dbt_project.yml': project('stale') });
    await installDeps(p, opts());
    expect(readdirSync(join(p, 'vendor', 'pkgs'))).toEqual(['one_pkg']);
    expect(existsSync(join(p, 'dbt_packages'))).toBe(false);
  });

  it('refuses a packages-install-path that would replace the project itself', async () => {
    makePackage(join(dir, 'one'), 'one_pkg', 'one');
    for (const path of ['.', '..']) {
      const p = root('packages:\n  - local: ../one\n', `packages-install-path: "${path}"\n`);
      expect(await failure(installDeps(p, opts()))).toContain('is the project folder or holds it');
      expect(existsSync(join(p, 'dbt_project.yml'))).toBe(true);
    }
  });

  it('reads dependencies.yml, and refuses packages declared in both files', async () => {
    makePackage(join(dir, 'one'), 'one_pkg', 'one');
    const p = join(dir, 'shop');
    write(p, {
      'dbt_project.yml': project('shop'),
      'dependencies.yml': 'packages:\n  - local: ../one\nprojects:\n  - name: upstream\n',
    });
    const r = await installDeps(p, opts());
    expect(r.specFile).toBe('dependencies.yml');
    expect(r.packages.map((x) => x.name)).toEqual(['one_pkg']);
    write(p, { 'packages.yml': 'packages:\n  - local: ../one\n' });
    const msg = await failure(installDeps(p, opts()));
    expect(msg).toContain('both packages.yml and dependencies.yml declare packages');
  });

  const sharedUtils = sharedPath('dbt-utils');
  it.runIf(existsSync(sharedUtils) || process.env.CI)(
    "installs the dbt-utils integration_tests project's `local: ../` (a temp copy of ../shared/dbt-utils), which then parses with dbt_utils loaded",
    async () => {
      const copy = join(dir, 'dbt-utils');
      cpSync(sharedUtils, copy, {
        recursive: true,
        filter: (src) => !/[/\\](dbt_packages|target|logs|\.git)$/.test(src),
      });
      const tests = join(copy, 'integration_tests');
      const result = await installDeps(tests, opts());
      expect(result.packages).toEqual([
        expect.objectContaining({ name: 'dbt_utils', kind: 'local', linked: true }),
      ]);
      const installed = join(tests, 'dbt_packages', 'dbt_utils');
      expect(realpathSync(installed)).toBe(realpathSync(copy));
      expect(existsSync(join(installed, 'macros', 'sql', 'star.sql'))).toBe(true);
      expect(lockOf(tests).packages).toEqual([{ local: '../', name: 'dbt_utils' }]);
      // What deps installed loads: the project parses with dbt_utils' macros in its namespace.
      write(tests, {
        'profiles.yml': `integration_tests:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n      path: ${JSON.stringify(join(dir, 'w.duckdb'))}\n`,
      });
      const opened = await openDbtProject(tests, { profilesDir: tests });
      try {
        expect([...opened.parsed.packages.keys()]).toEqual(['dbt_utils']);
        expect(opened.parsed.manifest.macros.has('macro.dbt_utils.star')).toBe(true);
      } finally {
        await opened.close();
      }
    },
  );
});

describe('deps: git packages (a bare repository made here, the real git)', () => {
  let repo: { url: string; first: string; second: string };
  beforeAll(() => {
    repo = makeGitRepo(join(scratch, 'git'));
  });

  it('checks out a tag and writes it to the lock as declared, as dbt does', async () => {
    const p = root(`packages:\n  - git: ${repo.url}\n    revision: 1.0.0\n`);
    const r = await installDeps(p, opts());
    expect(marker(p, 'git_pkg')).toContain('git v1');
    expect(r.packages[0]).toMatchObject({
      name: 'git_pkg',
      kind: 'git',
      revision: '1.0.0',
      sha: repo.first,
    });
    expect(lockOf(p).packages).toEqual([{ git: repo.url, name: 'git_pkg', revision: '1.0.0' }]);
    expect(existsSync(join(p, 'dbt_packages', 'git_pkg', '.git'))).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('checks out a commit sha', async () => {
    const p = root(`packages:\n  - git: ${repo.url}\n    revision: ${repo.first}\n`);
    await installDeps(p, opts());
    expect(marker(p, 'git_pkg')).toContain('git v1');
  });

  it('installs a subdirectory, and warns that a branch is not a pin', async () => {
    const p = root(`packages:\n  - git: ${repo.url}\n    revision: main\n    subdirectory: sub\n`);
    const r = await installDeps(p, opts());
    expect(r.packages.map((x) => x.name)).toEqual(['sub_pkg']);
    expect(marker(p, 'sub_pkg')).toContain('sub v2');
    // The branch name, not the commit it is at: dbt's lock keeps the declared revision.
    expect(lockOf(p).packages).toEqual([
      { git: repo.url, name: 'sub_pkg', revision: 'main', subdirectory: 'sub' },
    ]);
    expect(warnings.join('\n')).toMatch(/pinned to the "main" branch/);
    warnings.length = 0;
    write(p, {
      'packages.yml': `packages:\n  - git: ${repo.url}\n    subdirectory: sub\n    warn-unpinned: false\n`,
    });
    await installDeps(p, opts());
    expect(warnings).toEqual([]);
    // No revision: dbt pins HEAD, the default branch.
    expect(lockOf(p).packages).toEqual([
      { git: repo.url, name: 'sub_pkg', revision: 'HEAD', subdirectory: 'sub' },
    ]);
    // Installing again from the lock (same specs, same hash) checks out HEAD again.
    const again = await installDeps(p, opts());
    expect(again.packages.map((x) => x.name)).toEqual(['sub_pkg']);
    expect(marker(p, 'sub_pkg')).toContain('sub v2');
  });

  it('names the package and URL when the revision is missing or the repository unreachable', async () => {
    const p = root(`packages:\n  - git: ${repo.url}\n    revision: 9.9.9\n`);
    const missing = await failure(installDeps(p, opts()));
    expect(missing).toContain(`packages.yml:2: packages entry 1 (${repo.url}): git clone of`);
    expect(missing).toContain('9.9.9');
    expect(missing).toContain('hint:');
    const escape = root(`packages:\n  - git: ${repo.url}\n    subdirectory: ../..\n`);
    expect(await failure(installDeps(escape, opts()))).toContain(
      'subdirectory ../.. leaves the repository',
    );
    const gone = join(dir, 'nowhere.git');
    const q = root(`packages:\n  - git: ${gone}\n    revision: 1.0.0\n`);
    const unreachable = await failure(installDeps(q, opts()));
    expect(unreachable).toContain(gone);
    expect(unreachable).toMatch(/fatal:|does not exist/);
  });
});

describe('deps: hub packages (a local HTTP server plays the hub)', () => {
  it("resolves ranges and each package's own dependencies, and locks the versions", async () => {
    const p = root('packages:\n  - package: acme/pkg_a\n    version: [">=1.0.0", "<2.0.0"]\n');
    const r = await installDeps(p, opts());
    expect(r.packages.map((x) => [x.name, x.version])).toEqual([
      ['pkg_a', '1.2.0'],
      ['pkg_b', '0.6.0'],
    ]);
    expect(r.packages[0]!.latest).toBe('2.0.0');
    expect(marker(p, 'pkg_a')).toContain('pkg_a 1.2.0');
    expect(marker(p, 'pkg_b')).toContain('pkg_b 0.6.0');
    const lock = lockOf(p);
    expect(lock.packages).toEqual([
      { name: 'pkg_a', package: 'acme/pkg_a', version: '1.2.0' },
      { name: 'pkg_b', package: 'acme/pkg_b', version: '0.6.0' },
    ]);
    expect(lock.sha1_hash).toMatch(/^[0-9a-f]{40}$/);
    // dbt's layout: keys sorted, list items indented under packages:.
    expect(read(join(p, 'package-lock.yml'))).toMatch(
      /^packages:\n {2}- name: pkg_a\n {4}package: acme\/pkg_a\n/,
    );
  });

  it('intersects the ranges of every requirer of the same package', async () => {
    const p = root(
      'packages:\n  - package: acme/pkg_a\n    version: ">=1.0.0"\n  - package: acme/pkg_a\n    version: "<2.0.0"\n  - package: acme/pkg_b\n    version: "<0.6.0"\n',
    );
    const r = await installDeps(p, opts());
    expect(r.packages.map((x) => `${x.name}@${x.version}`)).toEqual(['pkg_a@1.2.0', 'pkg_b@0.5.0']);
  });

  it('names both requirers when their ranges conflict', async () => {
    const p = root(
      'packages:\n  - package: acme/pkg_b\n    version: ">=0.6.0"\n  - package: acme/pkg_c\n    version: 1.0.0\n',
    );
    const msg = await failure(installDeps(p, opts()));
    expect(msg).toContain('version conflict for acme/pkg_b');
    expect(msg).toContain('packages.yml requires >=0.6.0 (packages.yml:2 (acme/pkg_b))');
    expect(msg).toContain('pkg_c requires <0.6.0 (hub:acme/pkg_c@1.0.0 (acme/pkg_b))');
    expect(msg).toContain('hint: widen one of the ranges');
    expect(existsSync(join(p, 'dbt_packages'))).toBe(false);
  });

  it('installs a pre-release only with install-prerelease', async () => {
    const p = root(
      'packages:\n  - package: acme/pkg_b\n    version: ">=0.6.0"\n    install-prerelease: true\n',
    );
    const r = await installDeps(p, opts());
    expect(r.packages[0]!.version).toBe('0.7.0-rc1');
    const q = root('packages:\n  - package: acme/pkg_b\n    version: ">0.6.0"\n');
    expect(await failure(installDeps(q, opts()))).toMatch(
      /no version of acme\/pkg_b on the hub satisfies >0\.6\.0/,
    );
  });

  it("skips hub versions whose require_dbt_version excludes dbt 1.9, as dbt's version check does", async () => {
    const p = root('packages:\n  - package: acme/pkg_d\n    version: ">=1.0.0"\n');
    expect((await installDeps(p, opts())).packages[0]!.version).toBe('1.0.0');
    const unchecked = await installDeps(p, opts({ versionCheck: false, upgrade: true }));
    expect(unchecked.packages[0]!.version).toBe('1.1.0');
    const q = root('packages:\n  - package: acme/pkg_d\n    version: ">=1.1.0"\n');
    expect(await failure(installDeps(q, opts()))).toMatch(
      /no version of acme\/pkg_d on the hub satisfies >=1\.1\.0 .*1 more require a dbt other than 1\.9\.0/s,
    );
  });

  it('installs from package-lock.yml while the specs are unchanged; --upgrade resolves again', async () => {
    const p = root('packages:\n  - package: acme/pkg_b\n    version: [">=0.5.0", "<1.0.0"]\n');
    expect((await installDeps(p, opts())).packages[0]!.version).toBe('0.6.0');
    hub.publish('acme/pkg_b', '0.8.0', 'pkg_b', [], scratch);
    try {
      const again = await installDeps(p, opts());
      expect(again.lock).toBe('reused');
      expect(again.packages[0]!.version).toBe('0.6.0');
      expect(marker(p, 'pkg_b')).toContain('pkg_b 0.6.0');
      const upgraded = await installDeps(p, opts({ upgrade: true }));
      expect(upgraded.lock).toBe('written');
      expect(upgraded.packages[0]!.version).toBe('0.8.0');
      // A changed spec no longer matches the lock's hash: it is resolved again.
      write(p, { 'packages.yml': 'packages:\n  - package: acme/pkg_b\n    version: "0.5.0"\n' });
      const changed = await installDeps(p, opts());
      expect([changed.lock, changed.packages[0]!.version]).toEqual(['written', '0.5.0']);
    } finally {
      hub.packages.get('acme/pkg_b')!.delete('0.8.0');
    }
  });

  it('--lock writes the lock without installing', async () => {
    const p = root('packages:\n  - package: acme/pkg_b\n    version: "0.5.0"\n');
    const r = await installDeps(p, opts({ lockOnly: true }));
    expect(r.packages.map((x) => x.version)).toEqual(['0.5.0']);
    expect(existsSync(join(p, 'package-lock.yml'))).toBe(true);
    expect(existsSync(join(p, 'dbt_packages'))).toBe(false);
  });

  it('a package the hub does not know (404) is an error naming the file, entry and URL', async () => {
    const p = root(
      'packages:\n  - package: acme/pkg_b\n    version: "0.5.0"\n  - package: acme/nope\n    version: "1.0.0"\n',
    );
    const msg = await failure(installDeps(p, opts()));
    expect(msg).toContain('packages.yml:4');
    expect(msg).toContain(`${hub.url}api/v1/acme/nope.json answered 404`);
    expect(msg).toContain('is not on the hub');
  });

  it('an unreachable hub is an error naming the entry, the URL and what to check', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const p = root('packages:\n  - package: acme/pkg_b\n    version: "0.5.0"\n');
    const msg = await failure(installDeps(p, opts({ hubUrl: `http://127.0.0.1:${port}` })));
    expect(msg).toContain(
      `packages.yml:2: packages entry 1 (acme/pkg_b): could not reach http://127.0.0.1:${port}/api/v1/acme/pkg_b.json: ECONNREFUSED`,
    );
    expect(msg).toContain('DBT_PACKAGE_HUB_URL');
  });

  it('keeps the previous install when a later fetch fails', async () => {
    const p = root('packages:\n  - package: acme/pkg_b\n    version: "0.5.0"\n');
    await installDeps(p, opts());
    write(p, {
      'packages.yml':
        'packages:\n  - package: acme/pkg_b\n    version: "0.6.0"\n  - package: acme/gone\n    version: "1.0.0"\n',
    });
    await failure(installDeps(p, opts()));
    expect(marker(p, 'pkg_b')).toContain('pkg_b 0.5.0');
    expect(readdirSync(p).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it("hashes the specs exactly as dbt's sha1_hash (a lock dbt wrote is reused)", async () => {
    // dependencies.yml and the sha1_hash dbt-core wrote for it in a public project.
    const p = join(dir, 'shop');
    write(p, {
      'dbt_project.yml': project('shop'),
      'dependencies.yml':
        'packages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.3.0", "<2.0.0"]\n  - package: metaplane/dbt_expectations\n    version: ["0.10.9", "<0.11.0"]\n',
    });
    const { readProjectSpecs } = await import('../../src/models/packages/spec.js');
    expect(specsHash((await readProjectSpecs(p)).specs)).toBe(
      '99b5dbc472f0e7c9354857bc8019f84738f6faab',
    );
  });
});

describe('deps: tarball packages (served by the local HTTP server)', () => {
  it('downloads, unpacks and installs under the entry name', async () => {
    const src = join(scratch, 'tarsrc', 'anything-1.0');
    makePackage(src, 'tar_project', 'from tarball');
    hub.files.set('/t/tar_pkg.tar.gz', tarOf(dirname(src), 'anything-1.0'));
    const p = root(`packages:\n  - tarball: ${hub.url}t/tar_pkg.tar.gz\n    name: tar_pkg\n`);
    const r = await installDeps(p, opts());
    expect(r.packages).toEqual([expect.objectContaining({ name: 'tar_pkg', kind: 'tarball' })]);
    expect(read(join(p, 'dbt_packages', 'tar_pkg', 'macros', 'tar_project.sql'))).toContain(
      'from tarball',
    );
    expect(lockOf(p).packages).toEqual([
      { name: 'tar_pkg', tarball: `${hub.url}t/tar_pkg.tar.gz` },
    ]);
  });

  it('a 404 names the file, the entry and the URL', async () => {
    const p = root(`packages:\n  - tarball: ${hub.url}t/missing.tar.gz\n    name: missing\n`);
    const msg = await failure(installDeps(p, opts()));
    expect(msg).toContain('packages.yml:2');
    expect(msg).toContain(`${hub.url}t/missing.tar.gz answered 404`);
  });
});

describe('deps: bad packages.yml', () => {
  it('reports YAML errors, unknown keys, missing fields and missing local paths with file and line', async () => {
    const cases: [string, RegExp][] = [
      ['packages:\n  - local: [unclosed\n', /packages\.yml:\d+:\d+: invalid YAML/],
      [
        'packages:\n  - package: acme/pkg_b\n    versoin: "1.0.0"\n',
        /packages\.yml:2: packages entry 1: unknown key versoin in a package: entry\n {2}hint: did you mean version\?/,
      ],
      [
        'packages:\n  - package: acme/pkg_b\n',
        /packages entry 1: acme\/pkg_b is missing its version/,
      ],
      [
        'packages:\n  - package: dbt_utils\n    version: 1.0.0\n',
        /dbt_utils is not a hub package name/,
      ],
      [
        'packages:\n  - local: ../none\n',
        /packages\.yml:2: packages entry 1: local path \.\.\/none .* holds no dbt_project\.yml/,
      ],
      ['packages:\n  - local: ../x\n    git: y\n', /takes one of local: and git:, not both/],
      ['pakages:\n  - local: ../x\n', /packages\.yml:1: unknown key pakages/],
      [
        'packages:\n  - package: acme/pkg_b\n    version: "not a range"\n',
        /version "not a range" of acme\/pkg_b is not a version or range/,
      ],
    ];
    for (const [yml, expected] of cases) {
      const p = root(yml);
      expect(await failure(installDeps(p, opts()))).toMatch(expected);
    }
  });

  it("names a dependency's own packages.yml when it is the one at fault", async () => {
    makePackage(
      join(dir, 'inner'),
      'inner',
      'x',
      'packages:\n  - package: acme/pkg_b\n    verison: 1\n',
    );
    const msg = await failure(installDeps(root('packages:\n  - local: ../inner\n'), opts()));
    expect(msg).toMatch(/^\.\.\/inner\/packages\.yml:2: packages entry 1: unknown key verison/);
  });

  it('refuses a package named like the project, and two packages with one name', async () => {
    makePackage(join(dir, 'a'), 'shop', 'same name');
    expect(await failure(installDeps(root('packages:\n  - local: ../a\n'), opts()))).toContain(
      'like the project itself',
    );
    makePackage(join(dir, 'b'), 'twin', 'b');
    makePackage(join(dir, 'c'), 'twin', 'c');
    expect(
      await failure(installDeps(root('packages:\n  - local: ../b\n  - local: ../c\n'), opts())),
    ).toContain('two packages are named twin');
  });
});

describe('deps on the command line', () => {
  /** Runs the CLI in-process; returns exit code and output. */
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    const stderr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (
      out.push(String(s)),
      true
    )) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => (
      err.push(String(s)),
      true
    )) as typeof process.stderr.write;
    process.exitCode = undefined;
    try {
      await main(['node', 'tributary', '--no-color', ...args]);
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    }
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  it('exits 0, prints one line per package, and --json reports them', async () => {
    makePackage(join(dir, 'one'), 'one_pkg', 'one');
    const p = root('packages:\n  - local: ../one\n  - package: acme/pkg_b\n    version: "0.5.0"\n');
    const plain = await cli(['deps', '--project-dir', p]);
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout.split('\n').map((l) => l.replace(/ +/g, ' '))).toEqual([
      'one_pkg linked local ../one',
      'pkg_b version 0.5.0 (update available: 0.6.0) acme/pkg_b@0.5.0',
      '2 packages in dbt_packages/; wrote package-lock.yml',
      '',
    ]);
    const json = await cli(['deps', '--project-dir', p, '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { lock: string; packages: { name: string }[] };
    expect(doc.lock).toBe('reused');
    expect(doc.packages.map((x) => x.name)).toEqual(['one_pkg', 'pkg_b']);
    expect((await cli(['--quiet', 'deps', '--project-dir', p])).stdout).toBe('');
    const lockOnly = await cli(['deps', '--project-dir', p, '--lock', '--upgrade']);
    expect(lockOnly.stdout).toContain(
      '2 packages resolved; wrote package-lock.yml (--lock: nothing installed)',
    );
  });

  it('exits 1 with one clear message (no stack) on a bad packages.yml', async () => {
    const p = root('packages:\n  - local: ../none\n');
    const bad = await cli(['deps', '--project-dir', p]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: packages\.yml:2: packages entry 1: local path/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("installs into a Tributary pipeline's dbt project (tributary.yml's models.project)", async () => {
    makePackage(join(dir, 'one'), 'one_pkg', 'one');
    const p = join(dir, 'pipeline');
    write(p, {
      'tributary.yml': 'name: pipe\nmodels:\n  project: transform\n',
      'transform/dbt_project.yml': project('pipe'),
      'transform/packages.yml': 'packages:\n  - local: ../../one\n',
    });
    const out = await cli(['deps', '--project-dir', p, '--json']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const installed = join(p, 'transform', 'dbt_packages', 'one_pkg', 'macros', 'one_pkg.sql');
    expect(read(installed)).toContain('one');
  });

  it('--vars renders var() in packages.yml', async () => {
    const p = root(`packages:\n  - package: acme/pkg_b\n    version: "{{ var('b_version') }}"\n`);
    const out = await cli(['deps', '--project-dir', p, '--json', '--vars', '{b_version: 0.5.0}']);
    expect(out.code).toBe(0);
    expect(
      (JSON.parse(out.stdout) as { packages: { version: string }[] }).packages[0]!.version,
    ).toBe('0.5.0');
    const missing = await cli(['deps', '--project-dir', p]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("var('b_version') is not defined");
  });

  it('--help lists the options', async () => {
    const deps = (await buildProgram()).commands.find((c) => c.name() === 'deps')!;
    const help = deps.helpInformation();
    for (const option of ['--lock', '--upgrade', '--json']) expect(help).toContain(option);
  });
});
