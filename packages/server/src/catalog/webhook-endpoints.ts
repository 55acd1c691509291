import type { SqlDatabase } from './sql-catalog.js';

/** A workspace's webhook endpoints (the admin procedures in router/webhook.ts). */
export type WebhookEndpoints = {};

export function createWebhookEndpoints(_db: SqlDatabase): WebhookEndpoints {
  return {};
}
