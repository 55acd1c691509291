import { sql } from 'drizzle-orm';
import type { AssetEvent } from '../events/asset-event.js';
import { type Row, rows } from './rows.js';
import type { SqlDatabase } from './sql-catalog.js';
import { translateUnavailable } from './unavailable.js';

/**
 * Where an event stands in commit order: the transaction that wrote it, then its number. Every
 * event a reader has not seen yet sorts after the last one it has, because readers only read
 * below the oldest transaction still running (see readAfter).
 */
export interface EventPosition {
  txid: string;
  seq: number;
}

export interface StoredEvent {
  position: EventPosition;
  event: AssetEvent;
}

/** What a statement of this process recorded (events, or deliveries made due again): wakes the feed and the dispatcher before their next poll. */
export interface EventsWritten {
  events: number;
  deliveries: number;
}

/** The outbox as readers see it: events in commit order, and word of new ones written here. */
export interface EventLog {
  /**
   * Events after `after` (from the first when null), in commit order, at most `limit`, of one
   * workspace or of all. Only events no running transaction can precede are returned: an event
   * committing later always sorts after them, so a reader that continues from the last position
   * it got never skips one.
   */
  readAfter(after: EventPosition | null, options: { workspaceId?: string; limit: number }): Promise<StoredEvent[]>;
  /** The position of a workspace's event by its id; null when it has none of that id (or it was pruned). */
  positionOf(workspaceId: string, eventId: string): Promise<EventPosition | null>;
  /** The position of the newest event readAfter can return now; null when there is none: a reader starting "from now" continues from here. */
  head(): Promise<EventPosition | null>;
  /** Called after this process recorded events; returns the unsubscribe. */
  onWritten(listener: (written: EventsWritten) => void): () => void;
}

export interface EventLogWriter {
  log: EventLog;
  /** For the catalogue's statements: tells the listeners what one recorded. */
  noteWritten(written: EventsWritten): void;
}

/** Events a transaction still running may yet commit sort at or after this transaction id. */
const visibleHorizon = sql`pg_snapshot_xmin(pg_current_snapshot())`;

function toStored(row: Row): StoredEvent {
  return {
    position: { txid: String(row.txid), seq: Number(row.seq) },
    event: {
      id: String(row.id),
      type: row.type,
      timestamp: new Date(row.occurred_at as string | Date).toISOString(),
      workspaceId: String(row.workspace_id),
      data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
    } as AssetEvent,
  };
}

export function createEventLog(db: SqlDatabase): EventLogWriter {
  const listeners = new Set<(written: EventsWritten) => void>();
  const run = translateUnavailable;
  const log: EventLog = {
    readAfter: (after, { workspaceId, limit }) =>
      run(async () => {
        const found = await rows(
          db,
          sql`select seq, txid::text as txid, id, type, workspace_id, occurred_at, data from asset_events
            where txid < ${visibleHorizon}
              ${after ? sql`and (txid, seq) > (${after.txid}::xid8, ${after.seq}::bigint)` : sql``}
              ${workspaceId === undefined ? sql`` : sql`and workspace_id = ${workspaceId}`}
            order by txid, seq
            limit ${limit}`,
        );
        return found.map(toStored);
      }),

    positionOf: (workspaceId, eventId) =>
      run(async () => {
        const [row] = await rows(
          db,
          sql`select txid::text as txid, seq from asset_events where id = ${eventId} and workspace_id = ${workspaceId}`,
        );
        return row ? { txid: String(row.txid), seq: Number(row.seq) } : null;
      }),

    head: () =>
      run(async () => {
        const [row] = await rows(
          db,
          sql`select txid::text as txid, seq from asset_events where txid < ${visibleHorizon} order by txid desc, seq desc limit 1`,
        );
        return row ? { txid: String(row.txid), seq: Number(row.seq) } : null;
      }),

    onWritten(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    log,
    noteWritten(written) {
      if (written.events === 0 && written.deliveries === 0) return;
      for (const listener of listeners) listener(written);
    },
  };
}
