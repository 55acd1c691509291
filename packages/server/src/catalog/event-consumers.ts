import { sql } from 'drizzle-orm';
import type { EventPosition } from './event-log.js';
import { rows } from './rows.js';
import type { SqlDatabase } from './sql-catalog.js';
import { translateUnavailable } from './unavailable.js';

/** What holding a consumer's lease gives: where it has got to (null: before the first event). */
export interface ConsumerLease {
  position: EventPosition | null;
}

/**
 * Named readers of the outbox (an embedding app's onAssetEvent) and where each has got to. One
 * holder at a time reads for a name: the others wait for its lease, which passes on when it is
 * released or its holder stops renewing it (a crash). Lease times are the database's clock, so the
 * instances' clocks need not agree.
 */
export interface EventConsumers {
  /**
   * Takes or renews the lease of `name` for `leaseMs`, in one statement, when it is free, expired
   * or already `holder`'s; null when another holder has it. A name never seen before is made at
   * `startAfter` (the reader starts after that event; null: from the first).
   */
  acquire(name: string, holder: string, leaseMs: number, startAfter: EventPosition | null): Promise<ConsumerLease | null>;
  /** Records that `holder` has handled everything up to `position`; false when it no longer holds the lease. */
  advance(name: string, holder: string, position: EventPosition): Promise<boolean>;
  /** Lets the next holder take over at once (a stopping process); nothing when `holder` no longer has it. */
  release(name: string, holder: string): Promise<void>;
}

export function createEventConsumers(db: SqlDatabase): EventConsumers {
  const run = translateUnavailable;
  return {
    acquire: (name, holder, leaseMs, startAfter) =>
      run(async () => {
        const until = sql`now() + ${leaseMs} * interval '1 millisecond'`;
        // The conflict's WHERE decides who may take it: a row held by someone else until later is
        // left alone, and then nothing is returned.
        const [row] = await rows(
          db,
          sql`insert into event_consumers (name, after_txid, after_seq, leased_by, lease_until)
            values (${name}, ${startAfter?.txid ?? null}::xid8, ${startAfter?.seq ?? null}::bigint, ${holder}, ${until})
            on conflict (name) do update set leased_by = excluded.leased_by, lease_until = excluded.lease_until
              where event_consumers.leased_by is null
                or event_consumers.leased_by = excluded.leased_by
                or event_consumers.lease_until < now()
            returning after_txid::text as after_txid, after_seq`,
        );
        if (!row) return null;
        const position = row.after_txid === null ? null : { txid: String(row.after_txid), seq: Number(row.after_seq) };
        return { position };
      }),

    advance: (name, holder, position) =>
      run(async () => {
        const moved = await rows(
          db,
          sql`update event_consumers set after_txid = ${position.txid}::xid8, after_seq = ${position.seq}::bigint
            where name = ${name} and leased_by = ${holder}
            returning 1`,
        );
        return moved.length > 0;
      }),

    release: (name, holder) =>
      run(async () => {
        await db.execute(
          sql`update event_consumers set leased_by = null, lease_until = null where name = ${name} and leased_by = ${holder}`,
        );
      }),
  };
}
