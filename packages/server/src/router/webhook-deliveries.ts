import type { TRPCRouterRecord } from '@trpc/server';

/** What was sent to a workspace's webhooks: test an endpoint, list deliveries and their attempts. */
export const webhookDeliveryProcedures = {} satisfies TRPCRouterRecord;
