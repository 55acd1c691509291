import type { EventLog } from '../catalog/event-log.js';
import type { Logger } from '../logger.js';

export interface EventFeedOptions {
  logger: Logger;
  /** How often it looks for events other instances wrote. */
  pollIntervalMs: number;
}

/** One reader of the outbox per process, fanning events out to live subscriptions (router/events.ts). */
export interface EventFeed {
  close(): Promise<void>;
}

export function createEventFeed(_log: EventLog, _options: EventFeedOptions): EventFeed {
  return { close: async () => {} };
}
