import type { Catalog } from '../catalog/catalog.js';
import { DEFAULT_EVENT_SETTINGS, DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../config.js';
import type { Logger } from '../logger.js';
import { createEventFeed, type EventFeed } from './event-feed.js';
import type { Foreground } from './foreground.js';
import { type AssetEventHook, startHookConsumer } from './hook-consumer.js';
import { startWebhookDispatcher } from './webhook-dispatcher.js';

export interface EventServicesOptions {
  logger: Logger;
  /** How webhooks are delivered from this process; false: not from here (a separate dispatcher does). */
  webhooks?: Partial<WebhookSettings> | false;
  /** An embedding app's handler, called once for each event, in order, from the outbox. */
  onAssetEvent?: AssetEventHook;
  /** The consumer name the hook reads under (hook-consumer.ts); default `app-hooks`. */
  onAssetEventConsumer?: string;
  /** How often the readers look for what other instances wrote; default 500 ms. */
  pollIntervalMs?: number;
  /** This process's API requests, which webhook deliveries make way for (foreground.ts). */
  yieldTo?: Foreground;
}

/** What reads the outbox in one API process: the live feed, the webhook dispatcher and the app's hook. */
export interface EventServices {
  readonly feed: EventFeed;
  /** Stops every reader, waiting for what is in flight; before the catalogue is closed. */
  stop(): Promise<void>;
}

export function startEventServices(catalog: Catalog, options: EventServicesOptions): EventServices {
  const { logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_EVENT_SETTINGS.pollIntervalMs;
  const feed = createEventFeed(catalog.events, { logger, pollIntervalMs });
  const dispatcher =
    options.webhooks === false
      ? undefined
      : startWebhookDispatcher(catalog, {
          ...DEFAULT_WEBHOOK_SETTINGS,
          allowedPrivateTargets: [],
          ...options.webhooks,
          logger,
          pollIntervalMs,
          yieldTo: options.yieldTo,
        });
  const hooks = options.onAssetEvent
    ? startHookConsumer(catalog, options.onAssetEvent, { logger, pollIntervalMs, name: options.onAssetEventConsumer })
    : undefined;
  let stopping: Promise<void> | undefined;
  return {
    feed,
    stop() {
      stopping ??= Promise.all([feed.close(), dispatcher?.stop(), hooks?.stop()]).then(() => {});
      return stopping;
    },
  };
}
