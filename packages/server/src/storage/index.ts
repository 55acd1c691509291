import type { Config } from '../config.js';
import { createLocalStore } from './local/index.js';
import { createS3Store } from './s3/index.js';
import type { ObjectStore } from './store.js';

export interface CreateStoreOptions {
  /** Base URL of this server, for stores that sign URLs pointing back at it (local disk). */
  publicUrl: string | (() => string);
  /** Whether a store that sweeps crash leftovers (local disk) does so as it opens; true by default. */
  sweepOrphansAtStart?: boolean;
}

/** Builds the configured driver: the one place that knows which stores exist. */
export async function createStore(config: Config['storage'], options: CreateStoreOptions): Promise<ObjectStore> {
  if (config.kind === 's3') {
    const { kind: _kind, ...s3 } = config;
    return createS3Store(s3);
  }
  const { kind: _kind, ...local } = config;
  return createLocalStore({ ...local, publicUrl: options.publicUrl, sweepAtStart: options.sweepOrphansAtStart });
}

export type { ObjectStore } from './store.js';
