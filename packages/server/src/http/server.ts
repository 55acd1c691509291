import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  server: Server;
  /** `http://host:port` as actually bound (port 0 resolved). */
  url: string;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** How long in-flight requests may finish after close() before their sockets are cut. */
  shutdownGraceMs?: number;
}

export async function listen(app: Express, options: ListenOptions): Promise<RunningServer> {
  const server = createServer(app);
  // Bounds on slow clients (slowloris): headers within 60 s, a whole request within the hour a
  // part URL lives, idle keep-alive sockets closed after 65 s (longer than common LB idle).
  server.headersTimeout = 60_000;
  server.requestTimeout = 3_600_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => closeGracefully(server, options.shutdownGraceMs ?? 10_000),
  };
}

function closeGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
