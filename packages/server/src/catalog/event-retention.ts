import { sql } from 'drizzle-orm';
import { rows } from './rows.js';
import type { SqlDatabase } from './sql-catalog.js';
import { translateUnavailable } from './unavailable.js';

export interface RetentionReport {
  /** Delivered or failed deliveries removed. */
  deliveries: number;
  events: number;
}

export interface PruneOptions {
  /** What finished, or happened, before this goes. */
  before: Date;
  /** Rows removed per statement, so that a long backlog never holds one huge delete's locks; default 5,000. */
  batchSize?: number;
  /** Stops between batches (shutdown); what was removed so far is reported. */
  signal?: AbortSignal;
}

/**
 * How long the outbox remembers (EVENT_RETENTION_DAYS): finished deliveries, then events, older
 * than the cut-off are removed. A pending delivery keeps its event however old, so a retry never
 * finds its event gone; readers (the live stream's resume, an app's hook) cannot go back further
 * than the retention.
 */
export interface EventRetention {
  prune(options: PruneOptions): Promise<RetentionReport>;
}

const DEFAULT_BATCH_SIZE = 5_000;

async function removed(db: SqlDatabase, statement: ReturnType<typeof sql>): Promise<number> {
  return (await rows(db, statement)).length;
}

export function createEventRetention(db: SqlDatabase): EventRetention {
  /** Runs one batch statement until a batch comes back short. */
  const inBatches = async (batch: () => ReturnType<typeof sql>, batchSize: number, signal?: AbortSignal): Promise<number> => {
    let total = 0;
    for (;;) {
      const count = await removed(db, batch());
      total += count;
      if (count < batchSize || signal?.aborted) return total;
    }
  };

  return {
    prune: ({ before, batchSize = DEFAULT_BATCH_SIZE, signal }) =>
      translateUnavailable(async () => {
        // A finished delivery is kept for the retention after its last attempt, so the log an admin
        // reads of a delivery that took its whole retry window still shows it for that long.
        const deliveries = await inBatches(
          () => sql`delete from webhook_deliveries where id in (
              select id from webhook_deliveries
              where state in ('delivered', 'failed') and coalesce(last_attempt_at, created_at) < ${before}
              limit ${batchSize})
            returning 1`,
          batchSize,
          signal,
        );
        if (signal?.aborted) return { deliveries, events: 0 };
        const events = await inBatches(
          () => sql`delete from asset_events where seq in (
              select event.seq from asset_events event
              where event.occurred_at < ${before}
                and not exists (
                  select 1 from webhook_deliveries delivery where delivery.event_seq = event.seq and delivery.state = 'pending')
              limit ${batchSize})
            returning 1`,
          batchSize,
          signal,
        );
        return { deliveries, events };
      }),
  };
}
