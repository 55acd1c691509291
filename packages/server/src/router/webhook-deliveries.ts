import { randomBytes } from 'node:crypto';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { deliveryStates } from '../catalog/schema.js';
import type { DeliveryRecord } from '../catalog/webhook-deliveries.js';
import { DEFAULT_WEBHOOK_SETTINGS } from '../config.js';
import { AppError } from '../errors.js';
import { createWebhookSender } from '../events/webhook-sender.js';
import { workspaceAdminProcedure } from '../trpc.js';
import { webhookEndpointId } from './webhook.js';

const deliveryId = z
  .number({ error: 'must be a delivery id from webhook.deliveries' })
  .int({ error: 'must be a delivery id from webhook.deliveries' })
  .min(1, { error: 'must be a delivery id from webhook.deliveries' });

/** What an admin sees of a delivery, on /trpc as on any other surface that lists them. */
export function describeWebhookDelivery(delivery: DeliveryRecord) {
  return {
    deliveryId: delivery.id,
    endpointId: delivery.endpointId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    subject: delivery.subject,
    state: delivery.state,
    attempts: delivery.attempts,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    lastAttemptAt: delivery.lastAttemptAt,
    nextAttemptAt: delivery.nextAttemptAt,
    deliveredAt: delivery.deliveredAt,
    createdAt: delivery.createdAt,
    attemptLog: delivery.attemptLog,
  };
}

/** What was sent to a workspace's webhooks: test an endpoint, list deliveries and their attempts. */
export const webhookDeliveryProcedures = {
  /**
   * Sends a signed `webhook.test` event (data `{}`) to the endpoint now, with the same signing,
   * target rules and timeout as deliveries, and answers how the attempt went. Nothing is recorded.
   */
  test: workspaceAdminProcedure.input(z.object({ endpointId: webhookEndpointId })).mutation(async ({ ctx, input }) => {
    const target = await ctx.catalog.deliveries.endpointTarget(input.workspaceId, input.endpointId);
    if (!target) throw new AppError('WEBHOOK_NOT_FOUND', `no webhook endpoint ${input.endpointId} in workspace ${input.workspaceId}`);
    const settings = ctx.webhooks ?? { ...DEFAULT_WEBHOOK_SETTINGS, allowedPrivateTargets: [] };
    const sender = createWebhookSender({ timeoutMs: settings.timeoutMs, allowedPrivateTargets: settings.allowedPrivateTargets });
    try {
      const result = await sender.send(target, {
        id: `evt_${randomBytes(16).toString('hex')}`,
        type: 'webhook.test',
        timestamp: new Date().toISOString(),
        workspaceId: input.workspaceId,
        data: {},
      });
      return { delivered: result.delivered, status: result.status, durationMs: result.durationMs, error: result.error };
    } finally {
      await sender.close();
    }
  }),

  /** The workspace's deliveries, newest first, each with its attempts; of one endpoint or state when asked. */
  deliveries: workspaceAdminProcedure
    .input(
      z.object({
        endpointId: webhookEndpointId.optional(),
        state: z.enum(deliveryStates, { error: `must be one of ${deliveryStates.join(', ')}` }).optional(),
        cursor: z.string({ error: 'must be a cursor returned by the previous page' }).optional(),
        limit: z
          .number({ error: 'must be a whole number from 1 to 100' })
          .int({ error: 'must be a whole number from 1 to 100' })
          .min(1, { error: 'must be a whole number from 1 to 100' })
          .max(100, { error: 'must be a whole number from 1 to 100' })
          .default(50),
      }),
    )
    .query(async ({ ctx, input }) => {
      const page = await ctx.catalog.deliveries.list(input.workspaceId, input);
      return { deliveries: page.deliveries.map(describeWebhookDelivery), nextCursor: page.nextCursor };
    }),

  /** Queues a failed (or delivered) delivery again, due now, with a fresh retry window; a pending one is left as it is. */
  redeliver: workspaceAdminProcedure.input(z.object({ deliveryId })).mutation(async ({ ctx, input }) => {
    const delivery = await ctx.catalog.deliveries.redeliver(input.workspaceId, input.deliveryId, new Date());
    if (!delivery) throw new AppError('NOT_FOUND', `no webhook delivery ${input.deliveryId} in workspace ${input.workspaceId}`);
    return describeWebhookDelivery(delivery);
  }),
} satisfies TRPCRouterRecord;
