import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Catalog } from '../../src/catalog/catalog.js';
import { openPgliteCatalog } from '../../src/catalog/pglite.js';
import { type CreateAppOptions, createApp } from '../../src/http/app.js';
import { listen } from '../../src/http/server.js';
import { createLocalStore } from '../../src/storage/local/index.js';
import type { ObjectStore } from '../../src/storage/store.js';

export interface TestServer {
  url: string;
  store: ObjectStore;
  catalog: Catalog;
  close(): Promise<void>;
}

/**
 * The real HTTP server on 127.0.0.1, port 0. `createStore` gets the server's URL lazily because
 * the local store signs URLs pointing back at a server that is not listening yet.
 */
export async function startServer(
  createStore: (publicUrl: () => string) => Promise<{ store: ObjectStore; close?: () => Promise<void> }>,
  appOptions: TestAppOptions = {},
): Promise<TestServer> {
  let url = '';
  const { store, close: closeStore } = await createStore(() => url);
  // A catalogue of the server's own unless the test shares one (two instances on one database).
  const catalog = appOptions.catalog ?? (await openPgliteCatalog());
  const running = await listen(createApp({ ...appOptions, store, catalog }), { host: '127.0.0.1', port: 0, shutdownGraceMs: 1000 });
  url = running.url;
  return {
    url,
    store,
    catalog,
    close: async () => {
      await running.close();
      await store.close?.();
      await closeStore?.();
      if (!appOptions.catalog) await catalog.close();
    },
  };
}

/** The app's options; without a catalogue each server gets an in-memory PGlite one. */
export type TestAppOptions = Omit<CreateAppOptions, 'store' | 'catalog'> & { catalog?: Catalog };

/** The embedded default: a local-disk store in a fresh temporary folder. */
export function startLocalServer(options: { now?: () => number } & TestAppOptions = {}): Promise<TestServer> {
  const { now, ...appOptions } = options;
  return startServer(async (publicUrl) => {
    const dir = await mkdtemp(join(tmpdir(), 's3-service-test-'));
    const store = await createLocalStore({ dir, publicUrl, now });
    return { store, close: () => rm(dir, { recursive: true, force: true }) };
  }, appOptions);
}
