/**
 * The login roles queries on a PostgreSQL warehouse run as: the read-only role (`read_role`, or
 * the user of `read_url`), which reads the schemas the pipeline builds, and its masked twin
 * (`<role>_masked`), which reads only their masked mirrors (engines/postgres/masked-mirror.ts),
 * for roles that may not see personal data. Publishing creates them and sets their passwords;
 * queries log in with those passwords.
 *
 * Where the passwords are kept: one process owning the project keeps them in
 * `.tributary/warehouse-reader.json` (mode 600). In shared mode they are kept in state
 * (`warehouse_reader`, src/state/serving-pointer.ts): every replica, on any machine, logs in with
 * the password the first one recorded, so a replica publishing never renews it under the others.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError, describeError, isErrno, writeFileAtomic } from '../core/index.js';
import { ensureReadRole } from '../engines/index.js';
import { readSecret } from '../project/index.js';
import { ServingPointerStore } from '../state/index.js';
import type { Workspace } from './workspace.js';

export interface ReaderCredentials {
  role: string;
  password: string;
}

/** What `.tributary/warehouse-reader.json` holds (`masked` since masking on PostgreSQL). */
interface ReaderFile extends ReaderCredentials {
  masked?: ReaderCredentials;
}

/** The read-only role's credentials on this machine, when the project is not shared. */
export const readerCredentialsFile = (ws: Workspace) =>
  join(ws.project.paths.work, 'warehouse-reader.json');

/** The longest statement_timeout of the roles' sessions (queries set a shorter one). */
const MAX_TIMEOUT_MS = 300_000;

/** The masked role's name: the read-only role's with `_masked` (cut to PostgreSQL's 63 bytes). */
export function maskedRoleOf(role: string): string {
  return `${Buffer.from(role)
    .subarray(0, 56)
    .toString('utf8')
    .replace(/\uFFFD+$/, '')}_masked`;
}

/** The read-only role's name, and the URL it was given as (read_url), if it was. */
export function readerRole(ws: Workspace): { role: string; given?: URL } {
  const config = ws.project.config.warehouse;
  if (!config.read_url) return { role: config.read_role };
  const given = new URL(
    readSecret(config.read_url, 'tributary.yml: warehouse.read_url', ws.project.dir),
  );
  return { role: decodeURIComponent(given.username), given };
}

async function readReaderFile(ws: Workspace): Promise<ReaderFile | undefined> {
  try {
    return JSON.parse(await readFile(readerCredentialsFile(ws), 'utf8')) as ReaderFile;
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !(err instanceof SyntaxError)) throw err;
    return undefined;
  }
}

const newPassword = () => randomBytes(18).toString('base64url');

/**
 * Creates (or fixes) the read-only role, granted `schemas`, and its masked twin, granted nothing
 * here (the mirrors grant it theirs), with the passwords kept as the module says. Returns the
 * two roles' names; `maskedRole` is undefined (and `maskedError` says why) when the twin cannot
 * be set up, e.g. the warehouse user may not create roles and read_url names the read-only one.
 */
export async function setUpWarehouseReaders(
  ws: Workspace,
  schemas: string[],
): Promise<{ role: string; readUrl: boolean; maskedRole?: string; maskedError?: string }> {
  const { role, given } = readerRole(ws);
  const maskedRole = maskedRoleOf(role);
  const pointers = ws.shared ? await ServingPointerStore.open(ws.state.engine) : undefined;
  const file = pointers ? undefined : await readReaderFile(ws);
  const settle = async (name: string, known: string | undefined, grant: string[]) => {
    const options = { role: name, schemas: grant, maxTimeoutMs: MAX_TIMEOUT_MS };
    if (!pointers)
      return ensureReadRole(ws.warehouse, {
        ...options,
        ...(known !== undefined ? { password: known } : {}),
      });
    const agreed = await pointers.agreeReaderPassword(name, newPassword());
    return ensureReadRole(ws.warehouse, { ...options, password: agreed, setPassword: true });
  };
  // With read_url the role is the user's own: granted to, never created or altered.
  const password = given
    ? await ensureReadRole(ws.warehouse, {
        role,
        password: decodeURIComponent(given.password),
        schemas,
        maxTimeoutMs: MAX_TIMEOUT_MS,
      })
    : await settle(role, file?.role === role ? file.password : undefined, schemas);
  let masked: ReaderCredentials | undefined;
  let maskedError: string | undefined;
  try {
    const known = file?.masked?.role === maskedRole ? file.masked.password : undefined;
    masked = { role: maskedRole, password: await settle(maskedRole, known, []) };
  } catch (err) {
    if (!given) throw err;
    maskedError = describeError(err);
  }
  // A read_url role's password stays in read_url alone.
  const record: ReaderFile = {
    role,
    password: given ? '' : password,
    ...(masked ? { masked } : {}),
  };
  if (!pointers && JSON.stringify(record) !== JSON.stringify(file))
    await writeFileAtomic(readerCredentialsFile(ws), JSON.stringify(record), { mode: 0o600 });
  return { role, readUrl: !!given, ...(masked ? { maskedRole } : { maskedError: maskedError! }) };
}

/**
 * The URL queries log in with: as the read-only role, or (`masked`) as its masked twin. Fails
 * saying what to do when publishing has not set the role up yet.
 */
export async function warehouseReaderUrl(ws: Workspace, masked: boolean): Promise<string> {
  const config = ws.project.config.warehouse;
  const { role, given } = readerRole(ws);
  if (given && !masked) return given.toString();
  const name = masked ? maskedRoleOf(role) : role;
  let password: string | undefined;
  if (ws.shared)
    password = await (await ServingPointerStore.open(ws.state.engine)).readerPassword(name);
  else {
    const file = await readReaderFile(ws);
    const entry = masked ? file?.masked : file;
    if (entry?.role === name) password = entry.password;
  }
  if (password === undefined)
    throw new TributaryError(
      `the ${masked ? 'masked ' : ''}read-only role of the PostgreSQL warehouse is not set up yet`,
      { code: 'USAGE', hint: 'run the pipeline first (`tributary run`): publishing creates it' },
    );
  const url = new URL(readSecret(config.url!, 'tributary.yml: warehouse.url', ws.project.dir));
  url.username = encodeURIComponent(name);
  url.password = encodeURIComponent(password);
  return url.toString();
}
