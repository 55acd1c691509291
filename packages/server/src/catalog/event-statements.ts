import { type SQL, sql } from 'drizzle-orm';
import type { AssetEventType } from '../events/asset-event.js';

/** Whether statements record events; off only for the bench's baseline of a catalogue without them. */
export type EventRecordingMode = 'record' | 'off';

export interface EventRecording {
  type: AssetEventType;
  /** A CTE of the statement: one event is recorded for each of its rows, none when it has none. */
  from: SQL;
  workspaceId: string;
  /** The asset's key, from `from`'s columns. */
  subject: SQL;
  /** The event's `data` as jsonb, from `from`'s columns and parameters. */
  data: SQL;
  occurredAt: Date;
}

/**
 * The CTEs `event` and `fanned` that record an event in the statement making the change it
 * describes, and a pending delivery to each of the workspace's enabled webhooks that takes its
 * type: an event exists exactly when its change does, and is delivered to the endpoints that were
 * listening when it happened. The statement selects `recordedEvents` to learn how many it made.
 */
export function recordEvent(mode: EventRecordingMode, recording: EventRecording): SQL {
  if (mode === 'off') return noEvent;
  const { type, from, workspaceId, subject, data, occurredAt } = recording;
  return sql`event as (
      insert into asset_events (id, type, workspace_id, subject, occurred_at, data)
      select 'evt_' || replace(gen_random_uuid()::text, '-', ''), ${type}, ${workspaceId}, ${subject}, ${occurredAt}::timestamptz, ${data}
      from ${from}
      returning seq, id, type, workspace_id, subject
    ), fanned as (
      insert into webhook_deliveries (endpoint_id, workspace_id, event_seq, event_id, subject, next_attempt_at, created_at)
      select endpoint.id, event.workspace_id, event.seq, event.id, event.subject, ${occurredAt}::timestamptz, ${occurredAt}::timestamptz
      from event join webhook_endpoints endpoint
        on endpoint.workspace_id = event.workspace_id and endpoint.enabled and event.type = any(endpoint.event_types)
      returning 1
    )`;
}

/** Selected by a statement with `recordEvent`'s CTEs: `events` and `deliveries` it recorded. */
export const recordedEvents = sql`(select count(*) from event) as events, (select count(*) from fanned) as deliveries`;

/** When the catalogue records no events (a baseline for the bench): CTEs of the same names, empty. */
const noEvent = sql`event as (select 1 where false), fanned as (select 1 where false)`;

/** An ISO 8601 text (`2026-12-02T06:18:49.123Z`) of a timestamptz column, as JavaScript writes one. */
export const isoTime = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
