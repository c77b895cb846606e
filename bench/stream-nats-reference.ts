/**
 * The reference side of `npm run bench:stream`: a nats-server the bench starts itself (JetStream
 * on, a temporary store folder, a random port on 127.0.0.1, never the shared 4222 one) with a
 * file-storage stream, and the bench's fixed 1 KB events published to it from Node with
 * `@nats-io/jetstream`, a fixed number of publishes in flight, for a fixed time. Each publish
 * resolves on the server's PubAck (stored in the stream's files; nats-server 2.9 syncs them in
 * the background, not per write).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  ownCpuSeconds,
  pipelinedLoad,
  processCpuSeconds,
  type BenchEvent,
  type LoadResult,
} from './stream-common.js';

/** A nats-server started for the bench. */
export interface NatsServer {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** The nats-server binary: NATS_SERVER, then the PATH, then Debian's /usr/sbin/nats-server. */
function natsServerBinary(): string {
  if (process.env.NATS_SERVER) return process.env.NATS_SERVER;
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return found || '/usr/sbin/nats-server';
}

/** Starts nats-server with JetStream in a fresh temporary store on a random port. */
export async function startNatsServer(): Promise<NatsServer> {
  const storeDir = mkdtempSync(join(tmpdir(), 'bench-stream-nats-'));
  const binary = natsServerBinary();
  const child: ChildProcess = spawn(
    binary,
    ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', '-1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /Listening for client connections on ([\d.]+):(\d+)/.exec(log);
      if (m) resolve(`nats://${m[1]}:${m[2]}`);
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    child.once('error', (err) => reject(new Error(`cannot start ${binary}: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`${binary} exited ${code}:\n${log}`)));
    setTimeout(() => reject(new Error(`${binary} did not start within 10 s:\n${log}`)), 10_000);
  });
  const version = /Version:\s+(\S+)/.exec(log)?.[1] ?? 'unknown';
  return {
    url,
    pid: child.pid!,
    version,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** What the reference side measured. */
export interface JetStreamResult {
  version: string;
  load: LoadResult;
  /** CPU seconds of nats-server during the load, and of this (the publishing) process. */
  serverCpuSeconds: number;
  producerCpuSeconds: number;
}

/**
 * Publishes the events round-robin to a file-storage JetStream stream, `inFlight` at a time, for
 * `seconds`; each publish is one event and its latency is publish → PubAck.
 */
export async function runJetStreamSide(
  events: readonly BenchEvent[],
  seconds: number,
  inFlight: number,
): Promise<JetStreamResult> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: 'BENCH',
      subjects: ['bench.events.>'],
      storage: StorageType.File,
      max_bytes: 8 * 1024 ** 3,
    });
    const js = jetstream(nc);
    // Warm the connection and the stream's files, untimed.
    for (let i = 0; i < 200; i++)
      await js.publish('bench.events.warm', events[i % events.length]!.data);
    const serverCpu0 = processCpuSeconds(server.pid);
    const ownCpu0 = ownCpuSeconds();
    const load = await pipelinedLoad(seconds, inFlight, async (i) => {
      const event = events[i % events.length]!;
      await js.publish(`bench.events.${event.partitionKey}`, event.data);
      return { acked: 1, failed: 0 };
    });
    return {
      version: server.version,
      load,
      serverCpuSeconds: processCpuSeconds(server.pid) - serverCpu0,
      producerCpuSeconds: ownCpuSeconds() - ownCpu0,
    };
  } finally {
    await nc.close();
    await server.stop();
  }
}
