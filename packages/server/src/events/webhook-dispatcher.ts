import type { Catalog } from '../catalog/catalog.js';
import type { WebhookSettings } from '../config.js';
import type { Logger } from '../logger.js';

export interface WebhookDispatcherOptions extends WebhookSettings {
  logger: Logger;
  /** How often it looks for deliveries other instances recorded, or retries that fell due. */
  pollIntervalMs: number;
}

export interface WebhookDispatcher {
  /** Stops claiming; waits for the attempts in flight. */
  stop(): Promise<void>;
}

export function startWebhookDispatcher(_catalog: Catalog, _options: WebhookDispatcherOptions): WebhookDispatcher {
  return { stop: async () => {} };
}
