/** `tributary token`: API tokens created (shown once), listed and revoked, here or through the server. */
import { Option, type Command } from 'commander';
import { TokenStore, type Role, type TokenInfo } from '../../serve/index.js';
import { column as col, print, type CliContext } from '../context.js';
import { formatTable } from '../output.js';
import { withProject, type RemoteApi } from '../remote.js';

export function registerToken(program: Command, cli: CliContext): void {
  const token = program
    .command('token')
    .description('API tokens: create (shown once), list, revoke');
  token
    .command('create')
    .description(
      'create a token for the API and the web UI; it is printed once, only its hash is kept',
    )
    .addOption(
      new Option(
        '--role <role>',
        'viewer reads; operator also runs and replays; admin also manages tokens',
      )
        .choices(['viewer', 'operator', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'who or what it is for')
    .option('--json', 'print as JSON')
    .action(async (opts: { role: Role; name?: string; json?: boolean }) => {
      const created = await withTokens(
        cli.project(),
        'token create',
        (tokens) => tokens.create(opts.role, opts.name),
        async (api) => {
          const { token, ...info } = await api.post<TokenInfo & { token: string }>('/api/tokens', {
            role: opts.role,
            ...(opts.name ? { name: opts.name } : {}),
          });
          return { info, token };
        },
      );
      if (opts.json)
        return print(JSON.stringify({ ...created.info, token: created.token }, null, 2));
      print(created.token);
      process.stderr.write(
        `token ${created.info.id} (${created.info.name}, role ${created.info.role}); store it now: it is not shown again\n`,
      );
    });
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withTokens(
        cli.project(),
        'token list',
        (tokens) => tokens.list(),
        (api) => api.get<TokenInfo[]>('/api/tokens'),
      );
      if (opts.json) return print(JSON.stringify(list, null, 2));
      print(
        formatTable(
          [
            col('id'),
            col('name'),
            col('role'),
            col('kind'),
            col('created_at'),
            col('last_used_at'),
            col('revoked_at'),
          ],
          list.map((t) => ({
            id: t.id,
            name: t.name,
            role: t.role,
            kind: t.kind,
            created_at: t.createdAt,
            last_used_at: t.lastUsedAt,
            revoked_at: t.revokedAt,
          })),
        ),
      );
    });
  token
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<id>')
    .action(async (id: string) => {
      const revoked = await withTokens(
        cli.project(),
        'token revoke',
        (tokens) => tokens.revoke(id),
        (api) => api.delete<TokenInfo>(`/api/tokens/${encodeURIComponent(id)}`),
      );
      print(`revoked ${revoked.id} (${revoked.name})`);
    });
}

/** Runs a token command on the project's token store, or through its running server. */
function withTokens<T>(
  projectDir: string,
  command: string,
  local: (tokens: TokenStore) => Promise<T>,
  remote: (api: RemoteApi) => Promise<T>,
): Promise<T> {
  return withProject(
    projectDir,
    command,
    async (ws) => local(await TokenStore.open(ws.state.engine)),
    remote,
  );
}
