import type { SqlDatabase } from './sql-catalog.js';

/** Named readers of the outbox (an embedding app's onAssetEvent) and where each has got to. */
export type EventConsumers = {};

export function createEventConsumers(_db: SqlDatabase): EventConsumers {
  return {};
}
