import { type TRPCRouterRecord, tracked } from '@trpc/server';
import { z } from 'zod';
import type { EventLog, EventPosition, StoredEvent } from '../catalog/event-log.js';
import { AppError } from '../errors.js';
import { comparePositions } from '../events/event-feed.js';
import { workspaceId } from '../schemas.js';
import { workspaceProcedure } from '../trpc.js';

/** Events read per backlog query when a client resumes. */
const BACKLOG_BATCH = 500;

const subscribeInput = z.object({
  workspaceId,
  /** The id of the last event the client got (`evt_…`); tRPC's client sends it back by itself when it reconnects. */
  lastEventId: z
    .string({ error: 'must be the id of an event' })
    .min(1)
    .max(64, { error: 'must be the id of an event' })
    .regex(/^[\x21-\x7e]+$/, { error: 'must be the id of an event' })
    .optional(),
});

/** The live stream of a workspace's events (SSE), resumable from the last event id. */
export const eventsRouter = {
  /**
   * A workspace's events as they commit, each under its own id (`tracked`), so a client that
   * reconnects says where it got to. With `lastEventId` it first gets every event after that one,
   * in order, then the live ones, with no gap and no event twice; without it, events from now on.
   * An id this workspace has no event of (never, or pruned after EVENT_RETENTION_DAYS) is refused
   * with INVALID_PARAMETER rather than quietly resumed from now: the client would miss events
   * without knowing, where it can reload what it shows and subscribe afresh.
   */
  subscribe: workspaceProcedure.input(subscribeInput).subscription(async function* ({ ctx, input, signal }) {
    const feed = ctx.events;
    if (!feed) throw new AppError('NOT_SUPPORTED', 'this server has no event feed');
    const log = ctx.catalog.events;
    let last: EventPosition | null = null;
    if (input.lastEventId !== undefined) {
      last = await log.positionOf(input.workspaceId, input.lastEventId);
      if (!last) {
        throw new AppError(
          'INVALID_PARAMETER',
          `lastEventId ${input.lastEventId} is not an event of this workspace (or it was pruned): subscribe without it and reload`,
        );
      }
    }
    // Live events buffer from here while the backlog is read, so none falls between the two.
    const live = feed.subscribe(input.workspaceId, { signal });
    try {
      await live.ready;
      if (last) {
        for await (const stored of backlog(log, input.workspaceId, last)) {
          yield tracked(stored.event.id, stored.event);
          last = stored.position;
        }
      }
      for await (const stored of live) {
        // Whatever the backlog already gave is in the buffer too.
        if (last && comparePositions(stored.position, last) <= 0) continue;
        yield tracked(stored.event.id, stored.event);
      }
    } finally {
      live.close();
    }
  }),
} satisfies TRPCRouterRecord;

/** The workspace's events after `after` that the log can give now, a page at a time. */
async function* backlog(log: EventLog, workspaceId: string, after: EventPosition): AsyncGenerator<StoredEvent> {
  let from = after;
  for (;;) {
    const page = await log.readAfter(from, { workspaceId, limit: BACKLOG_BATCH });
    yield* page;
    if (page.length < BACKLOG_BATCH) return;
    from = page.at(-1)!.position;
  }
}
