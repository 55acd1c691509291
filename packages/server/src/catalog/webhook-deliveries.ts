import { type SQL, sql } from 'drizzle-orm';
import type { AssetEvent } from '../events/asset-event.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { EventsWritten } from './event-log.js';
import { type Row, rows } from './rows.js';
import type { deliveryStates, webhookDeliveries } from './schema.js';
import type { SqlDatabase } from './sql-catalog.js';
import { translateUnavailable } from './unavailable.js';

export type DeliveryState = (typeof deliveryStates)[number];

/** One attempt of a delivery, as `attempt_log` keeps it (oldest first). */
export interface DeliveryAttempt {
  /** When the attempt began (ISO 8601). */
  at: string;
  /** The receiver's HTTP status; null when it gave none (timeout, refused target, connection error). */
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** A delivery taken by one dispatcher: what it needs to send it, and the attempt this is. */
export interface ClaimedDelivery {
  id: number;
  /** The delivery's attempts counting this one: its outcome is recorded only while no one has claimed it since. */
  attempt: number;
  endpointId: string;
  url: string;
  secret: string;
  /** When the delivery was made (its event happened then), or last queued again: the retry window starts here. */
  queuedAt: Date;
  /** Null when the event was pruned meanwhile: nothing is left to send. */
  event: AssetEvent | null;
}

/** What became of one attempt: the row moves on only if it still holds the claim `attempt` made. */
export type DeliveryOutcome = { id: number; attempt: number; log: DeliveryAttempt } & (
  | { result: 'delivered' }
  | { result: 'retry'; nextAttemptAt: Date }
  | { result: 'failed' }
);

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** A delivery as an admin lists it. */
export type DeliveryRecord = Omit<DeliveryRow, 'eventSeq' | 'attemptLog' | 'nextAttemptAt'> & {
  /** Null when the event was pruned. */
  eventType: AssetEvent['type'] | null;
  /** When it is attempted next; null once it is delivered or failed. */
  nextAttemptAt: Date | null;
  attemptLog: DeliveryAttempt[];
};

export interface DeliveryPage {
  deliveries: DeliveryRecord[];
  nextCursor?: string;
}

export interface ListDeliveriesOptions {
  endpointId?: string;
  state?: DeliveryState;
  cursor?: string;
  limit: number;
}

/** Webhook deliveries: claimed by dispatchers (events/webhook-dispatcher.ts), listed for admins. */
export interface OutcomesRecorded {
  /**
   * Whether a delivery that ended (delivered or failed) has a later one of its asset to the same
   * endpoint waiting, which its end has just made due (order per asset).
   */
  unblocked: boolean;
}

export interface WebhookDeliveries {
  /**
   * Takes up to `limit` due deliveries for this dispatcher alone: pending, next_attempt_at
   * reached, and none earlier of the same endpoint and subject still pending (an asset's events
   * arrive in order). Each is leased until `now + leaseMs`: a dispatcher that dies mid-attempt
   * leaves it due again then, and it is sent again with the same event id (at least once).
   */
  claimDue(options: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]>;
  /** Records many attempts' outcomes in one statement; an outcome whose claim was overtaken (its lease ran out and another took it) is dropped. */
  recordOutcomes(outcomes: readonly DeliveryOutcome[]): Promise<OutcomesRecorded>;
  /** A workspace's deliveries, newest first. */
  list(workspaceId: string, options: ListDeliveriesOptions): Promise<DeliveryPage>;
  /**
   * Queues a failed (or delivered) delivery again, due at `now`, with a fresh retry window; a
   * pending one is left as it is. Null when the workspace has no delivery of that id.
   */
  redeliver(workspaceId: string, deliveryId: number, now: Date): Promise<DeliveryRecord | null>;
  /** Where one of a workspace's endpoints is and its secret, for a test send; null when it has none of that id. */
  endpointTarget(workspaceId: string, endpointId: string): Promise<{ url: string; secret: string } | null>;
}

/** node-postgres and PGlite both give timestamptz as a Date; text is accepted too, for safety. */
const toDate = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
const toDateOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : toDate(value));
const fromJson = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

/** The SQL of the next due deliveries, not yet run: claimDue runs it, and a test reads its plan. */
export function dueDeliveriesQuery(now: Date, limit: number): SQL {
  return sql`select d.id from webhook_deliveries d
    where d.state = 'pending' and d.next_attempt_at <= ${now}::timestamptz
      and not exists (
        select 1 from webhook_deliveries earlier
        where earlier.state = 'pending' and earlier.endpoint_id = d.endpoint_id and earlier.subject = d.subject and earlier.id < d.id
      )
      and exists (select 1 from webhook_endpoints endpoint where endpoint.id = d.endpoint_id and endpoint.enabled)
    order by d.next_attempt_at, d.id
    limit ${limit}`;
}

/**
 * Takes the due deliveries and leases them, in one statement. SKIP LOCKED: a row another
 * dispatcher is claiming right now is left to it. One it claimed and committed after this
 * statement's snapshot is judged again on its new version (READ COMMITTED's re-check), whose
 * next_attempt_at is past \`now\`: no row is ever taken twice.
 */
export function claimStatement(now: Date, limit: number, leaseMs: number): SQL {
  return sql`with due as (${dueDeliveriesQuery(now, limit)} for update of d skip locked),
    claimed as (
      update webhook_deliveries d
      set next_attempt_at = ${new Date(now.getTime() + leaseMs)}::timestamptz, attempts = d.attempts + 1,
        last_attempt_at = ${now}::timestamptz
      -- An array of the ids, not a join: the planner then looks each up by its key, whatever it guesses of the CTE.
      where d.id = any(array(select id from due))
      returning d.id, d.endpoint_id, d.event_seq, d.attempts, d.created_at
    )
    select claimed.id, claimed.attempts, claimed.created_at, claimed.endpoint_id, endpoint.url, endpoint.secret,
      event.id as event_id, event.type as event_type, event.occurred_at, event.workspace_id as event_workspace_id, event.data
    from claimed
      join webhook_endpoints endpoint on endpoint.id = claimed.endpoint_id
      left join asset_events event on event.seq = claimed.event_seq
    order by claimed.id`;
}

/**
 * The outcomes of many attempts in one statement: at a thousand deliveries a second, a statement
 * each would be the dispatcher's bottleneck. jsonb_to_recordset reads the same on PGlite and pg.
 * A row moves on only while it holds the claim the attempt was made under.
 */
export function recordOutcomesStatement(outcomes: readonly DeliveryOutcome[]): SQL {
  const records = outcomes.map((outcome) => ({
    id: outcome.id,
    attempts: outcome.attempt,
    state: outcome.result === 'retry' ? 'pending' : outcome.result,
    next_attempt_at: outcome.result === 'retry' ? outcome.nextAttemptAt.toISOString() : null,
    delivered_at: outcome.result === 'delivered' ? outcome.log.at : null,
    status: outcome.log.status,
    error: outcome.log.error,
    entry: outcome.log,
  }));
  return sql`with outcome as (
      select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
        as o(id bigint, attempts integer, state text, next_attempt_at timestamptz, delivered_at timestamptz, status integer, error text, entry jsonb)
    )
    update webhook_deliveries d set
      state = o.state,
      next_attempt_at = coalesce(o.next_attempt_at, d.next_attempt_at),
      delivered_at = o.delivered_at,
      last_status = o.status,
      last_error = o.error,
      attempt_log = d.attempt_log || jsonb_build_array(o.entry)
    from outcome o
    where d.id = any(array(select id from outcome)) and d.id = o.id and d.attempts = o.attempts and d.state = 'pending'
    returning o.state <> 'pending' and exists (
      select 1 from webhook_deliveries later
      where later.state = 'pending' and later.endpoint_id = d.endpoint_id and later.subject = d.subject and later.id > d.id
    ) as unblocked`;
}

function toClaimed(row: Row): ClaimedDelivery {
  const event =
    row.event_id === null || row.event_id === undefined
      ? null
      : ({
          id: String(row.event_id),
          type: row.event_type,
          timestamp: toDate(row.occurred_at).toISOString(),
          workspaceId: String(row.event_workspace_id),
          data: fromJson(row.data),
        } as AssetEvent);
  return {
    id: Number(row.id),
    attempt: Number(row.attempts),
    endpointId: String(row.endpoint_id),
    url: String(row.url),
    secret: String(row.secret),
    queuedAt: toDate(row.created_at),
    event,
  };
}

const listedColumns = sql`d.id, d.endpoint_id, d.workspace_id, d.event_id, event.type as event_type, d.subject, d.state, d.attempts,
  d.next_attempt_at, d.created_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at, d.attempt_log`;

function toRecord(row: Row): DeliveryRecord {
  const state = row.state as DeliveryState;
  return {
    id: Number(row.id),
    endpointId: String(row.endpoint_id),
    workspaceId: String(row.workspace_id),
    eventId: String(row.event_id),
    eventType: (row.event_type ?? null) as DeliveryRecord['eventType'],
    subject: String(row.subject),
    state,
    attempts: Number(row.attempts),
    nextAttemptAt: state === 'pending' ? toDate(row.next_attempt_at) : null,
    createdAt: toDate(row.created_at),
    lastAttemptAt: toDateOrNull(row.last_attempt_at),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: (row.last_error ?? null) as string | null,
    deliveredAt: toDateOrNull(row.delivered_at),
    attemptLog: fromJson<DeliveryAttempt[]>(row.attempt_log),
  };
}

/** `noteWritten`: a redelivery is made due now, so this process's dispatcher is woken for it rather than left to its next poll. */
export function createWebhookDeliveries(db: SqlDatabase, noteWritten: (written: EventsWritten) => void): WebhookDeliveries {
  const run = translateUnavailable;
  return {
    claimDue: ({ now, limit, leaseMs }) =>
      run(async () => {
        const claimed = await rows(db, claimStatement(now, limit, leaseMs));
        return claimed.map(toClaimed);
      }),

    recordOutcomes: (outcomes) =>
      run(async () => {
        if (outcomes.length === 0) return { unblocked: false };
        const updated = await rows(db, recordOutcomesStatement(outcomes));
        return { unblocked: updated.some((row) => row.unblocked === true) };
      }),

    list: (workspaceId, { endpointId, state, cursor, limit }) =>
      run(async (): Promise<DeliveryPage> => {
        const before = cursor === undefined ? undefined : decodeCursor(cursor, ['number'] as const)[0];
        const found = await rows(
          db,
          sql`select ${listedColumns}
            from webhook_deliveries d left join asset_events event on event.seq = d.event_seq
            where d.workspace_id = ${workspaceId}
              ${endpointId === undefined ? sql`` : sql`and d.endpoint_id = ${endpointId}`}
              ${state === undefined ? sql`` : sql`and d.state = ${state}`}
              ${before === undefined ? sql`` : sql`and d.id < ${before}`}
            order by d.id desc
            limit ${limit + 1}`,
        );
        const page = found.slice(0, limit).map(toRecord);
        const last = page.at(-1);
        return { deliveries: page, nextCursor: found.length > limit && last ? encodeCursor([last.id]) : undefined };
      }),

    redeliver: (workspaceId, deliveryId, now) =>
      run(async () => {
        const requeued = await rows(
          db,
          sql`update webhook_deliveries set state = 'pending', next_attempt_at = ${now}::timestamptz, created_at = ${now}::timestamptz,
              delivered_at = null
            where id = ${deliveryId} and workspace_id = ${workspaceId} and state <> 'pending'
            returning id`,
        );
        noteWritten({ events: 0, deliveries: requeued.length });
        const [row] = await rows(
          db,
          sql`select ${listedColumns} from webhook_deliveries d left join asset_events event on event.seq = d.event_seq
            where d.id = ${deliveryId} and d.workspace_id = ${workspaceId}`,
        );
        return row ? toRecord(row) : null;
      }),

    endpointTarget: (workspaceId, endpointId) =>
      run(async () => {
        const [row] = await rows(
          db,
          sql`select url, secret from webhook_endpoints where id = ${endpointId} and workspace_id = ${workspaceId}`,
        );
        return row ? { url: String(row.url), secret: String(row.secret) } : null;
      }),
  };
}
