import type { SqlDatabase } from './sql-catalog.js';

/** Webhook deliveries: claimed by dispatchers (events/webhook-dispatcher.ts), listed for admins. */
export type WebhookDeliveries = {};

export function createWebhookDeliveries(_db: SqlDatabase): WebhookDeliveries {
  return {};
}
