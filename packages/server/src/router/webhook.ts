import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { assetEventTypes } from '../catalog/schema.js';
import type { WebhookEndpointRecord } from '../catalog/webhook-endpoints.js';
import type { AppContext } from '../context.js';
import { AppError } from '../errors.js';
import { newWebhookSecret } from '../events/webhook-secret.js';
import { PUBLIC_TARGETS_ONLY } from '../events/webhook-target.js';
import { assertAllowedWebhookTarget, webhookUrl } from '../events/webhook-url.js';
import { catalogText } from '../schemas.js';
import { workspaceAdminProcedure } from '../trpc.js';

/** Each endpoint is one more POST per event, so a workspace cannot multiply every event without bound. */
export const MAX_WEBHOOK_ENDPOINTS_PER_WORKSPACE = 20;

export const webhookEndpointId = z
  .string({ error: 'must be a string' })
  .regex(/^whk_[0-9a-f]{32}$/, { error: 'must be an endpoint id returned by webhook.add' });

export const webhookEventTypes = z
  .array(z.enum(assetEventTypes, { error: `must be one of ${assetEventTypes.join(', ')}` }), { error: 'must be a list of event types' })
  .min(1, { error: 'must list at least one event type' })
  .refine((types) => new Set(types).size === types.length, { error: 'must list each event type once' });

/** Without NUL, which PostgreSQL text cannot hold (the fuzzer found the 500 it was). */
export const webhookDescription = catalogText().max(500, { error: 'must be at most 500 characters' }).nullable();

const endpointRef = z.object({ endpointId: webhookEndpointId });

/** An endpoint as both /trpc and /s3/webhooks answer it; its secret only ever beside it, from add and rotateSecret. */
export function describeWebhookEndpoint(endpoint: WebhookEndpointRecord) {
  return {
    endpointId: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    createdAt: endpoint.createdAt,
    createdBy: endpoint.createdBy,
  };
}

/** Where the operator lets webhooks point (WEBHOOK_ALLOWED_PRIVATE_TARGETS); without settings, public addresses only. */
const targetRules = (ctx: AppContext) => ctx.webhooks ?? PUBLIC_TARGETS_ONLY;

const notFound = (workspaceId: string, endpointId: string) =>
  new AppError('WEBHOOK_NOT_FOUND', `no webhook endpoint ${endpointId} in workspace ${workspaceId}`);

export const webhookEndpointProcedures = {
  /** A new endpoint and its signing secret, which only this answer and rotateSecret's carry. */
  add: workspaceAdminProcedure
    .input(
      z.object({
        url: webhookUrl,
        eventTypes: webhookEventTypes.default(() => [...assetEventTypes]),
        description: webhookDescription.optional(),
        enabled: z.boolean({ error: 'must be true or false' }).default(true),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await assertAllowedWebhookTarget(input.url, targetRules(ctx));
      const added = await ctx.catalog.webhooks.add(
        {
          workspaceId: input.workspaceId,
          url: input.url,
          description: input.description ?? null,
          eventTypes: input.eventTypes,
          enabled: input.enabled,
          secret: newWebhookSecret(),
          createdBy: ctx.actor,
        },
        { maxPerWorkspace: MAX_WEBHOOK_ENDPOINTS_PER_WORKSPACE },
      );
      if (!added) {
        throw new AppError(
          'INVALID_PARAMETER',
          `workspace ${input.workspaceId} already has ${MAX_WEBHOOK_ENDPOINTS_PER_WORKSPACE} webhook endpoints, ` +
            'the most a workspace may have; remove one first',
        );
      }
      return { ...describeWebhookEndpoint(added), secret: added.secret };
    }),

  /** The workspace's endpoints, oldest first, without their secrets. */
  list: workspaceAdminProcedure.query(async ({ ctx, input }) => {
    const endpoints = await ctx.catalog.webhooks.list(input.workspaceId);
    return { endpoints: endpoints.map(describeWebhookEndpoint) };
  }),

  /** Changes the fields given; deliveries already made for the endpoint keep going to it. */
  update: workspaceAdminProcedure
    .input(
      endpointRef.extend({
        url: webhookUrl.optional(),
        eventTypes: webhookEventTypes.optional(),
        description: webhookDescription.optional(),
        enabled: z.boolean({ error: 'must be true or false' }).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { workspaceId, endpointId, ...changes } = input;
      if (changes.url !== undefined) await assertAllowedWebhookTarget(changes.url, targetRules(ctx));
      const updated = await ctx.catalog.webhooks.update(workspaceId, endpointId, changes);
      if (!updated) throw notFound(workspaceId, endpointId);
      return describeWebhookEndpoint(updated);
    }),

  /** A new signing secret, answered once; deliveries from now on are signed with it. */
  rotateSecret: workspaceAdminProcedure.input(endpointRef).mutation(async ({ ctx, input }) => {
    const rotated = await ctx.catalog.webhooks.rotateSecret(input.workspaceId, input.endpointId, newWebhookSecret());
    if (!rotated) throw notFound(input.workspaceId, input.endpointId);
    return { ...describeWebhookEndpoint(rotated), secret: rotated.secret };
  }),

  /** Removes the endpoint with its deliveries, pending ones included. */
  remove: workspaceAdminProcedure.input(endpointRef).mutation(async ({ ctx, input }) => {
    if (!(await ctx.catalog.webhooks.remove(input.workspaceId, input.endpointId))) throw notFound(input.workspaceId, input.endpointId);
    return { success: true as const };
  }),
} satisfies TRPCRouterRecord;
