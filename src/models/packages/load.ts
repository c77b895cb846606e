/**
 * Installed packages (dbt's RuntimeConfig.load_dependencies): every folder under the project's
 * `packages-install-path` (dbt_packages/ by default; `tributary deps` fills it) is a dbt project,
 * loaded from its own dbt_project.yml (its paths, vars and configs) and parsed like the root
 * project. A package whose `require-dbt-version` leaves out the dbt version Tributary follows is
 * a warning naming the package and its range, never a failure.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { TributaryError, isErrno } from '../../core/index.js';
import { ProblemsError, type Problem } from '../../project/index.js';
import { isDbtProject, loadDbtProject, type DbtProject } from '../dbt-project.js';
import { DBT_VERSION, versionSatisfies } from '../dbt-version.js';
import type { DbtWarning } from '../warn-error.js';

/** The installed packages of a project, and what was wrong with any of them. */
export interface InstalledPackages {
  packages: DbtProject[];
  problems: Problem[];
}

/** The folders under the install path (links to folders too: a `local:` package may be one). */
async function packageFolders(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const folders: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('__') || name.startsWith('.')) continue;
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) folders.push(path);
  }
  return folders;
}

/** The problems of a package's dbt_project.yml, located in the root project's terms. */
function located(err: unknown, shown: string): Problem[] {
  if (err instanceof ProblemsError)
    return err.problems.map((p) => ({
      message: `package ${shown}: ${p.message}`,
      location: { ...p.location, file: `${shown}/dbt_project.yml` },
    }));
  if (err instanceof TributaryError)
    return [
      {
        message: `package ${shown}: ${err.message}`,
        location: { ...err.location, file: `${shown}/dbt_project.yml` },
      },
    ];
  throw err;
}

/** Loads every package installed for `root`; problems are collected, not thrown. */
export async function loadPackages(root: DbtProject): Promise<InstalledPackages> {
  const installRoot = join(root.dir, root.packagesInstallPath);
  const packages: DbtProject[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, string>([[root.name, 'the root project']]);
  for (const dir of await packageFolders(installRoot)) {
    const shown = relative(root.dir, dir).split(sep).join('/');
    if (!(await isDbtProject(dir))) {
      problems.push({
        message: `${shown} is in ${root.packagesInstallPath}/ but holds no dbt_project.yml`,
        location: { file: shown },
      });
      continue;
    }
    let pkg: DbtProject;
    try {
      pkg = await loadDbtProject(dir, root.cliVars);
    } catch (err) {
      problems.push(...located(err, shown));
      continue;
    }
    const other = seen.get(pkg.name);
    if (other) {
      problems.push({
        message: `dbt found more than one package with the name "${pkg.name}" (${shown} and ${other}); package names must be unique`,
        location: { file: `${shown}/dbt_project.yml` },
      });
      continue;
    }
    seen.set(pkg.name, shown);
    packages.push(pkg);
  }
  return { packages, problems };
}

/**
 * Warnings for each project (the root and its packages) whose `require-dbt-version` does not
 * include the dbt version Tributary follows, or cannot be read.
 */
export function versionWarnings(projects: DbtProject[], rootName: string): DbtWarning[] {
  const warnings: DbtWarning[] = [];
  // dbt stops on such a range (unless --no-version-check) and has no warning event for it; the
  // name is Tributary's, so --warn-error-options can still name it.
  const event = 'RequireDbtVersionMismatch';
  for (const p of projects) {
    if (!p.requireDbtVersion.length) continue;
    const range = p.requireDbtVersion.join(', ');
    const what = p.name === rootName ? `project ${p.name}` : `package ${p.name}`;
    const ok = versionSatisfies(DBT_VERSION, p.requireDbtVersion);
    if (ok === undefined)
      warnings.push({
        event,
        message: `${what} has a require-dbt-version Tributary cannot read (${range}); it is parsed anyway`,
      });
    else if (!ok)
      warnings.push({
        event,
        message: `${what} requires dbt ${range}, and Tributary follows dbt ${DBT_VERSION}; it is parsed anyway, but it may use dbt features of another version`,
      });
  }
  return warnings;
}
