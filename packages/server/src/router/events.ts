import type { TRPCRouterRecord } from '@trpc/server';

/** The live stream of a workspace's events (SSE), resumable from the last event id. */
export const eventsRouter = {} satisfies TRPCRouterRecord;
