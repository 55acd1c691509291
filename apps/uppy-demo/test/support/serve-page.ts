import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface PageServer {
  /** The page's origin, e.g. http://127.0.0.1:41234; the page is at `${url}/`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The built page as any static host would serve it, on a port of its own: the API and the
 * store are other origins, so every call Uppy makes is a cross-origin request CORS must allow.
 */
export async function servePage(pageRoot: string): Promise<PageServer> {
  const app = express();
  app.use(express.static(pageRoot));
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
