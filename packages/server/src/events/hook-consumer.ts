import type { Catalog } from '../catalog/catalog.js';
import type { Logger } from '../logger.js';
import type { AssetEvent } from './asset-event.js';

/** An embedding app's handler of events (createApp's `onAssetEvent`); a throw or rejection retries the event. */
export type AssetEventHook = (event: AssetEvent) => void | Promise<void>;

export interface HookConsumerOptions {
  logger: Logger;
  pollIntervalMs: number;
}

export interface HookConsumer {
  stop(): Promise<void>;
}

export function startHookConsumer(_catalog: Catalog, _hook: AssetEventHook, _options: HookConsumerOptions): HookConsumer {
  return { stop: async () => {} };
}
