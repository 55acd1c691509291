import { randomBytes } from 'node:crypto';
import { and, asc, count, eq, getTableColumns, sql } from 'drizzle-orm';
import type { AssetEventType } from '../events/asset-event.js';
import { webhookEndpoints } from './schema.js';
import type { SqlDatabase } from './sql-catalog.js';
import { translateUnavailable } from './unavailable.js';

type EndpointRow = typeof webhookEndpoints.$inferSelect;

/** An endpoint with its signing secret: only what adding it and rotating its secret return. */
export type WebhookEndpointWithSecret = Omit<EndpointRow, 'eventTypes'> & { eventTypes: AssetEventType[] };

/** An endpoint as it is listed: the secret is never read for a listing, so it cannot leak into one. */
export type WebhookEndpointRecord = Omit<WebhookEndpointWithSecret, 'secret'>;

export type NewWebhookEndpoint = Pick<
  WebhookEndpointWithSecret,
  'workspaceId' | 'url' | 'description' | 'eventTypes' | 'enabled' | 'secret' | 'createdBy'
>;

export type WebhookEndpointChanges = Partial<Pick<WebhookEndpointRecord, 'url' | 'description' | 'eventTypes' | 'enabled'>>;

/**
 * A workspace's webhook endpoints (the admin procedures in router/webhook.ts). Every call names the
 * workspace with the endpoint, so an id of another workspace reads as unknown (null / false).
 */
export interface WebhookEndpoints {
  /** Adds it, unless the workspace already has `maxPerWorkspace`: then null, and nothing is added. */
  add(endpoint: NewWebhookEndpoint, limits: { maxPerWorkspace: number }): Promise<WebhookEndpointWithSecret | null>;
  /** Oldest first. */
  list(workspaceId: string): Promise<WebhookEndpointRecord[]>;
  find(workspaceId: string, endpointId: string): Promise<WebhookEndpointRecord | null>;
  /** The changed endpoint; null when the workspace has none of that id. */
  update(workspaceId: string, endpointId: string, changes: WebhookEndpointChanges): Promise<WebhookEndpointRecord | null>;
  /** Replaces the signing secret; null when the workspace has no endpoint of that id. */
  rotateSecret(workspaceId: string, endpointId: string, secret: string): Promise<WebhookEndpointWithSecret | null>;
  /** Removes it and, by the foreign key's cascade, its deliveries; false when the workspace has none of that id. */
  remove(workspaceId: string, endpointId: string): Promise<boolean>;
}

/** `whk_` and 32 hex digits, as the schema says. */
export function newWebhookEndpointId(): string {
  return `whk_${randomBytes(16).toString('hex')}`;
}

/**
 * The first key of the advisory lock that serializes adds to one workspace (the second is a hash of
 * its id): a count and an insert are two statements, and two adds racing for the last place
 * would otherwise both see room.
 */
const ADD_LOCK = 1_919_250_000;

const { secret: _secret, ...listedColumns } = getTableColumns(webhookEndpoints);

/** The column holds any text; only the procedures write it, from the event type enum. */
function typed<T extends { eventTypes: string[] }>(row: T): Omit<T, 'eventTypes'> & { eventTypes: AssetEventType[] } {
  return { ...row, eventTypes: row.eventTypes as AssetEventType[] };
}

export function createWebhookEndpoints(db: SqlDatabase): WebhookEndpoints {
  const run = translateUnavailable;
  const ofWorkspace = (workspaceId: string, endpointId: string) =>
    and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, endpointId));

  const find = async (workspaceId: string, endpointId: string) => {
    const [row] = await db.select(listedColumns).from(webhookEndpoints).where(ofWorkspace(workspaceId, endpointId));
    return row ? typed(row) : null;
  };

  return {
    add: (endpoint, { maxPerWorkspace }) =>
      run(() =>
        db.transaction(async (tx) => {
          await tx.execute(sql`select pg_advisory_xact_lock(${ADD_LOCK}, hashtext(${endpoint.workspaceId}))`);
          const [held] = await tx
            .select({ endpoints: count() })
            .from(webhookEndpoints)
            .where(eq(webhookEndpoints.workspaceId, endpoint.workspaceId));
          if ((held?.endpoints ?? 0) >= maxPerWorkspace) return null;
          const [row] = await tx
            .insert(webhookEndpoints)
            .values({ ...endpoint, id: newWebhookEndpointId(), createdAt: new Date() })
            .returning();
          return row ? typed(row) : null;
        }),
      ),

    list: (workspaceId) =>
      run(async () => {
        const rows = await db
          .select(listedColumns)
          .from(webhookEndpoints)
          .where(eq(webhookEndpoints.workspaceId, workspaceId))
          .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
        return rows.map(typed);
      }),

    find: (workspaceId, endpointId) => run(() => find(workspaceId, endpointId)),

    update: (workspaceId, endpointId, changes) =>
      run(async () => {
        const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
        // Nothing to change is no UPDATE (Drizzle refuses an empty SET), but the endpoint must still exist.
        if (Object.keys(set).length === 0) return find(workspaceId, endpointId);
        const [row] = await db.update(webhookEndpoints).set(set).where(ofWorkspace(workspaceId, endpointId)).returning(listedColumns);
        return row ? typed(row) : null;
      }),

    rotateSecret: (workspaceId, endpointId, secret) =>
      run(async () => {
        const [row] = await db.update(webhookEndpoints).set({ secret }).where(ofWorkspace(workspaceId, endpointId)).returning();
        return row ? typed(row) : null;
      }),

    remove: (workspaceId, endpointId) =>
      run(async () => {
        const removed = await db
          .delete(webhookEndpoints)
          .where(ofWorkspace(workspaceId, endpointId))
          .returning({ id: webhookEndpoints.id });
        return removed.length > 0;
      }),
  };
}
