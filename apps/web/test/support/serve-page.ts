import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createWebAppRouter } from '../../../../packages/server/src/http/web-app.js';

export interface PageServer {
  /** e.g. http://127.0.0.1:41234; the page is at `${url}/app/`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The built page, served by the same router `pnpm start` mounts, but on a port of its own: the
 * API and the store's signed URLs are then other origins, so every call the page makes is a
 * real cross-origin request that CORS must allow.
 */
export function servePage(webRoot: string): Promise<PageServer> {
  return serveOnLoopback(createWebAppRouter(webRoot));
}

/** Any page's handler on a loopback port of its own: its origin differs from the API's. */
export async function serveOnLoopback(handler: express.RequestHandler): Promise<PageServer> {
  const app = express();
  app.use(handler);
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
