/** `tributary token`: API tokens created (shown once), listed and revoked, here or through the server. */
import { Option, type Command } from 'commander';
import {
  TokenStore,
  type ProducerKey,
  type TokenInfo,
  type TokenEntry,
  type TokenRole,
} from '../../serve/index.js';
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
        'viewer reads; operator also runs and replays; admin also manages tokens; producer only sends events (prints an access key id and secret for the Kinesis/Firehose SDKs)',
      )
        .choices(['viewer', 'operator', 'admin', 'producer'])
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'who or what it is for')
    .option('--json', 'print as JSON')
    .action(async (opts: { role: TokenRole; name?: string; json?: boolean }) => {
      if (opts.role === 'producer') return createProducer(cli, opts);
      const role = opts.role;
      const created = await withTokens(
        cli.project(),
        'token create',
        (tokens) => tokens.create(role, opts.name),
        async (api) => {
          const { token, ...info } = await api.post<TokenInfo & { token: string }>('/api/tokens', {
            role,
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
        (api) => api.get<TokenEntry[]>('/api/tokens'),
      );
      if (opts.json) return print(JSON.stringify(list, null, 2));
      print(
        formatTable(
          [
            col('id'),
            col('name'),
            col('role'),
            col('kind'),
            col('access_key_id'),
            col('created_at'),
            col('last_used_at'),
            col('revoked_at'),
          ],
          list.map((t) => ({
            id: t.id,
            name: t.name,
            role: t.role,
            kind: t.kind,
            access_key_id: t.accessKeyId ?? null,
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
        (api) => api.delete<TokenEntry>(`/api/tokens/${encodeURIComponent(id)}`),
      );
      print(`revoked ${revoked.id} (${revoked.name})`);
    });
}

/** `token create --role producer`: an access key id and secret (SigV4) and a bearer token. */
async function createProducer(cli: CliContext, opts: { name?: string; json?: boolean }) {
  const key = await withTokens<ProducerKey>(
    cli.project(),
    'token create',
    (tokens) => tokens.createProducer(opts.name),
    async (api) => {
      const { token, accessKeyId, secretAccessKey, ...info } = await api.post<
        TokenEntry & { token: string; accessKeyId: string; secretAccessKey: string }
      >('/api/tokens', { role: 'producer', ...(opts.name ? { name: opts.name } : {}) });
      return { info: { ...info, accessKeyId }, token, accessKeyId, secretAccessKey };
    },
  );
  if (opts.json)
    return print(
      JSON.stringify(
        {
          ...key.info,
          accessKeyId: key.accessKeyId,
          secretAccessKey: key.secretAccessKey,
          token: key.token,
        },
        null,
        2,
      ),
    );
  print(`AWS_ACCESS_KEY_ID=${key.accessKeyId}`);
  print(`AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`);
  print(`TRIBUTARY_PRODUCER_TOKEN=${key.token}`);
  process.stderr.write(
    `producer key ${key.info.id} (${key.info.name}): the access key id and secret sign Kinesis/Firehose SDK requests, the token is the bearer for POST /api/events; store them now: they are not shown again\n`,
  );
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
