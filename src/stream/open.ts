/**
 * Opens the stream log a project's tributary.yml names (`stream.log`): the local segment log
 * (default) or NATS JetStream. The collector, the flusher and the CLI open it only through here.
 */
import { resolve } from 'node:path';
import { TributaryError } from '../core/errors.js';
import type { StreamLogConfig } from '../project/index.js';
import type { StreamLog } from './log.js';
import { LocalSegmentLog, type LocalSegmentLogOptions } from './local/index.js';

/** Opens the configured stream log; a relative local path is taken from the project folder. */
export async function openStreamLog(
  config: StreamLogConfig,
  projectDir: string,
  localOptions: LocalSegmentLogOptions = {},
): Promise<StreamLog> {
  switch (config.type) {
    case 'local':
      return LocalSegmentLog.open(resolve(projectDir, config.path), localOptions);
    case 'jetstream':
      // The JetStream adapter (branch log-jetstream) replaces this refusal with its connect call.
      throw new TributaryError('the JetStream stream log is not in this build', {
        code: 'CONFIG',
        location: { path: 'stream.log.type' },
        hint: 'use stream.log.type: local until the JetStream adapter is merged',
      });
  }
}
