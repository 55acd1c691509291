import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createSignedUrlRoutes } from '../../src/http/transfer/signed-url-routes.js';
import { silentLogger } from '../../src/logger.js';
import { createLocalStore, type LocalStoreOptions } from '../../src/storage/local/index.js';
import type { StoreHarness } from '../store-conformance.js';

export interface LocalHarness extends StoreHarness {
  /** The data folder. */
  dir: string;
  /** Where the minimal app listens, e.g. http://127.0.0.1:41234. */
  baseUrl: string;
}

export type LocalHarnessOptions = Partial<Omit<LocalStoreOptions, 'publicUrl'>>;

/**
 * A local store on a temp folder (or `dir`, for tests that reopen one) served by a minimal Express
 * app on 127.0.0.1, port 0, with its signed URLs served exactly as the real app serves them.
 * `close` stops the server and removes the folder only if the harness created it.
 */
export async function startLocalHarness(options: LocalHarnessOptions = {}): Promise<LocalHarness> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'local-store-')));
  let baseUrl = '';
  const store = await createLocalStore({ ...options, dir, publicUrl: () => baseUrl });
  const app = express();
  app.use(createSignedUrlRoutes(store, { downloadIdleTimeoutMs: 60_000, logger: silentLogger }));
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    store,
    dir,
    baseUrl,
    async close() {
      await stopServer(server);
      await store.close?.();
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** fetch keeps connections alive; they are cut so `close` does not wait for their timeout. */
async function stopServer(server: Server): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
}
