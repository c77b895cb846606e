/**
 * A server for Fastify's `serverFactory` that speaks HTTP/1.1 and cleartext HTTP/2 on one port.
 * The Kinesis SDK for JavaScript sends every request over HTTP/2 (prior knowledge, no upgrade)
 * when its endpoint is `http://`, while curl, browsers and the Firehose SDK use HTTP/1.1; the
 * first bytes of a connection (HTTP/2's fixed preface) tell them apart. The caller starts it
 * (`app.listen`); closing it ends idle HTTP/1.1 connections and HTTP/2 sessions gracefully.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { collectorRoutes, type CollectorOptions } from './plugin.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** How long a new connection may take to send its first bytes. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Fastify `serverFactory`: one listening socket for HTTP/1.1 and h2c. */
export function dualProtocolServerFactory(handler: Handler): http.Server {
  const h1 = http.createServer(handler);
  const h2 = http2.createServer(
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const sessions = new Set<http2.Http2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const server = net.createServer((socket) => {
    // A connection that fails before it says which protocol it speaks must not crash the process.
    socket.on('error', () => socket.destroy());
    // One that connects and says nothing is closed, so it cannot hold the server open.
    const silent = () => socket.destroy();
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, silent);
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.off('timeout', silent);
      socket.pause();
      socket.unshift(chunk);
      const n = Math.min(chunk.length, PREFACE.length);
      if (chunk.subarray(0, n).equals(PREFACE.subarray(0, n))) {
        // The HTTP/2 session reads what is buffered itself; resuming here would drop it.
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    });
  });
  const endSessions = () => {
    h1.closeIdleConnections();
    for (const session of sessions) session.close();
  };
  return Object.assign(server, {
    closeIdleConnections: endSessions,
    closeAllConnections: () => {
      h1.closeAllConnections();
      for (const session of sessions) session.destroy();
    },
  }) as unknown as http.Server;
}

/**
 * A Fastify app with only the collector on it, on the HTTP/1.1 + h2c server: what
 * `tributary collect` (and `serve`, on the collector's own port) listen with. Not started.
 */
export async function buildCollectorApp(options: CollectorOptions): Promise<FastifyInstance> {
  const app = Fastify({ serverFactory: dualProtocolServerFactory });
  await app.register(collectorRoutes, options);
  return app;
}
