/**
 * Opens the stream log a project's tributary.yml names (`stream.log`): the local segment log
 * (default) or NATS JetStream. The collector, the flusher and the CLI open it only through here.
 */
import { resolve } from 'node:path';
import type { StreamLogConfig } from '../project/index.js';
import type { StreamLog } from './log.js';
import { JetStreamLog } from './jetstream/index.js';
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
      return JetStreamLog.connect({ url: config.url, prefix: config.prefix });
  }
}
