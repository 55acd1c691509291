import type { Config } from '../config.js';
import { createLocalStore } from './local/index.js';
import { createS3Store } from './s3/index.js';
import type { ObjectStore } from './store.js';

export interface CreateStoreOptions {
  /** Base URL of this server, for stores that sign URLs pointing back at it (local disk). */
  publicUrl: string | (() => string);
}

/** Builds the configured driver: the one place that knows which stores exist. */
export async function createStore(config: Config['storage'], options: CreateStoreOptions): Promise<ObjectStore> {
  if (config.kind === 's3') {
    const { kind: _kind, ...s3 } = config;
    return createS3Store(s3);
  }
  return createLocalStore({ dir: config.dir, signingSecret: config.signingSecret, publicUrl: options.publicUrl });
}

export type { ObjectStore } from './store.js';
