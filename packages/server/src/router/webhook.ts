import type { TRPCRouterRecord } from '@trpc/server';

/** A workspace's webhook endpoints: add, list, update, rotate the secret, remove (workspace admins). */
export const webhookEndpointProcedures = {} satisfies TRPCRouterRecord;
