import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { DEFAULT_HTTP_LIMITS } from '../config.js';
import { beginAppDrain, closeApp } from './app-resources.js';
import type { DrainState } from './drain.js';

export interface RunningServer {
  server: Server;
  /** `http://host:port` as actually bound (port 0 resolved). */
  url: string;
  /** Drains: readiness false, no new connections, in-flight requests finish within the grace period. */
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** How long in-flight requests may finish after close() before their sockets are cut. */
  shutdownGraceMs?: number;
  /** The app's drain state (createApp's `drain`), so readiness turns false as close() begins. */
  drain?: DrainState;
  /** Request headers must arrive within this (slowloris); default 60 s. */
  headersTimeoutMs?: number;
  /** A whole request body must arrive within this; 0 for none. Default: the hour a part URL lives. */
  requestTimeoutMs?: number;
  /** Idle keep-alive sockets close after this; default 65 s, longer than common load balancers' 60 s. */
  keepAliveTimeoutMs?: number;
}

const { shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS, ...DEFAULT_SERVER_TIMEOUTS } = DEFAULT_HTTP_LIMITS;

export async function listen(app: Express, options: ListenOptions): Promise<RunningServer> {
  const timeouts = { ...DEFAULT_SERVER_TIMEOUTS, ...definedOnly(options) };
  // Node checks the header and request deadlines on this period (30 s by default), which would let
  // a slow client hold a socket up to that much longer than the deadline says.
  const checkEveryMs = Math.max(100, Math.min(5_000, Math.floor(timeouts.headersTimeoutMs / 4)));
  const server = createServer({ connectionsCheckingInterval: checkEveryMs }, app);
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => {
      options.drain?.begin();
      beginAppDrain(app);
      // The app's background work (the outbox's readers) stops once no request can need it.
      closing ??= closeGracefully(server, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS).then(() => closeApp(app));
      return closing;
    },
  };
}

/**
 * Stops accepting connections at once, lets in-flight requests (downloads included) finish, and
 * cuts whatever is still open when the grace period ends. Keep-alive sockets are closed as soon
 * as they fall idle, so a client cannot keep the process alive by holding one open.
 */
function closeGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    idleSweep.unref();
    deadline.unref();
    server.close(() => {
      clearInterval(idleSweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function definedOnly(options: ListenOptions): Partial<typeof DEFAULT_SERVER_TIMEOUTS> {
  const result: Partial<typeof DEFAULT_SERVER_TIMEOUTS> = {};
  if (options.headersTimeoutMs !== undefined) result.headersTimeoutMs = options.headersTimeoutMs;
  if (options.requestTimeoutMs !== undefined) result.requestTimeoutMs = options.requestTimeoutMs;
  if (options.keepAliveTimeoutMs !== undefined) result.keepAliveTimeoutMs = options.keepAliveTimeoutMs;
  return result;
}
