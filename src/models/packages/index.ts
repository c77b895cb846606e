/**
 * dbt packages: `deps` resolves and installs what packages.yml/dependencies.yml declare into
 * packages-install-path, writing package-lock.yml (install.ts is the entry point; spec.ts reads
 * the declarations, resolve.ts pins them, fetch.ts and hub.ts reach the network and git, lock.ts
 * is the lock file). load.ts reads what is installed, for the parser (parse.ts), which loads
 * each installed package as a dbt project.
 */
export {
  installDeps,
  lockEntryOf,
  type DepsOptions,
  type DepsResult,
  type InstalledPackage,
} from './install.js';
export { LOCK_FILE, specsHash } from './lock.js';
export { DEFAULT_HUB_URL } from './hub.js';
