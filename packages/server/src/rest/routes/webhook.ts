import { z } from 'zod';
import { assetEventTypes } from '../../catalog/schema.js';
import type { ErrorCode } from '../../errors.js';
import { webhookUrl } from '../../events/webhook-url.js';
import { type describeWebhookEndpoint, webhookDescription, webhookEndpointId, webhookEventTypes } from '../../router/webhook.js';
import { pathParameter } from '../params.js';
import { jsonRoute, type RestLink } from '../route.js';
import { anyRequestErrors, inputErrors } from '../route-errors.js';
import { successResponse } from '../wire.js';
import { workspaceParameter } from './parameters.js';

/*
 * /s3/webhooks: a workspace's webhook endpoints, the `webhook.*` procedures over REST. Every path
 * names the workspace in the query (`?workspaceId=`), as the listing does, and an endpoint in the
 * path; add and update take the endpoint's fields as a JSON body.
 */

/** Who may call (UNAUTHORIZED, FORBIDDEN) and what the catalogue can answer, around a route's own codes. */
function webhookRouteErrors(...specific: ErrorCode[]): ErrorCode[] {
  return ['UNAUTHORIZED', 'FORBIDDEN', ...inputErrors, ...specific, 'CATALOG_UNAVAILABLE', ...anyRequestErrors];
}

const webhookEndpointResponse = z.strictObject({
  endpointId: webhookEndpointId,
  url: z.string().meta({ format: 'uri' }).describe('Where events are POSTed, as the server normalized it.'),
  description: z.string().nullable(),
  eventTypes: z.array(z.enum(assetEventTypes)).describe('The event types delivered to it.'),
  enabled: z.boolean(),
  createdAt: z.iso.datetime().describe('When it was added (ISO 8601).'),
  createdBy: z.string().nullable().describe("The token's subject of the admin who added it; null without tokens."),
});

const webhookEndpointWithSecretResponse = webhookEndpointResponse.extend({
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{43}=$/)
    .describe(
      'The Standard Webhooks signing secret (`whsec_` and base64 of 32 bytes), as `new Webhook(secret)` of the ' +
        '`standardwebhooks` libraries takes it. Answered only here: keep it, it cannot be read again.',
    ),
});

/** The procedures answer a Date; JSON spells it ISO 8601. */
function onWire<E extends ReturnType<typeof describeWebhookEndpoint>>(endpoint: E): Omit<E, 'createdAt'> & { createdAt: string } {
  return { ...endpoint, createdAt: endpoint.createdAt.toISOString() };
}

const endpointIdParameter = pathParameter('endpointId', webhookEndpointId, 'The endpoint id that adding it returned (`whk_...`).');

const endpointFieldsBody = (required: 'url' | 'none') =>
  z.object({
    url: required === 'url' ? webhookUrl : webhookUrl.optional(),
    eventTypes: webhookEventTypes.optional().describe(`Event types to deliver; default all: ${assetEventTypes.join(', ')}.`),
    description: webhookDescription.optional(),
    enabled: z.boolean().optional().describe('Whether events are delivered to it; default true.'),
  });

const endpointFields = {
  url: (field: (name: string) => unknown) => field('url'),
  eventTypes: (field: (name: string) => unknown) => field('eventTypes'),
  description: (field: (name: string) => unknown) => field('description'),
  enabled: (field: (name: string) => unknown) => field('enabled'),
};

/** From an answer naming an endpoint to the operations on it. */
const endpointLinks: Record<string, RestLink> = Object.fromEntries(
  [
    ['UpdateWebhook', 'updateWebhook', 'Change this endpoint.'],
    ['RotateWebhookSecret', 'rotateWebhookSecret', "Replace this endpoint's signing secret."],
    ['RemoveWebhook', 'removeWebhook', 'Remove this endpoint.'],
  ].map(([name, operationId, description]) => [
    name,
    {
      operationId: operationId!,
      description: description!,
      parameters: { 'path.endpointId': '$response.body#/endpointId', 'query.workspaceId': '$request.query.workspaceId' },
    },
  ]),
);

const targetRules =
  'The URL must be absolute http: or https:, at most 2048 characters, without user name, password or fragment. Its host, ' +
  'and every address a name resolves to, must be a public address: loopback, private, link-local, unique local, ' +
  'carrier-grade NAT and unspecified ones are refused with WEBHOOK_TARGET_NOT_ALLOWED unless the operator allows them ' +
  '(WEBHOOK_ALLOWED_PRIVATE_TARGETS); a name that does not resolve is INVALID_PARAMETER.';

export const listWebhooks = jsonRoute({
  method: 'get',
  path: '/webhooks',
  operationId: 'listWebhooks',
  tag: 'webhook',
  summary: "List the workspace's webhook endpoints",
  description: 'Oldest first. Signing secrets are never listed: only adding an endpoint and rotating its secret answer one.',
  access: 'workspaceAdmin',
  procedure: (caller) => caller.webhook.list,
  parameters: [workspaceParameter],
  errors: webhookRouteErrors(),
  response: {
    description: "The workspace's endpoints.",
    schema: z.strictObject({ endpoints: z.array(webhookEndpointResponse) }),
  },
  handle: async ({ run }) => ({ endpoints: (await run()).endpoints.map(onWire) }),
});

export const addWebhook = jsonRoute({
  method: 'post',
  path: '/webhooks',
  operationId: 'addWebhook',
  tag: 'webhook',
  summary: 'Add a webhook endpoint',
  description:
    "Events of the workspace are POSTed to the URL, signed to the Standard Webhooks spec with the endpoint's own secret, " +
    `which this answer carries once. A workspace has at most 20 endpoints (INVALID_PARAMETER beyond). ${targetRules}`,
  access: 'workspaceAdmin',
  procedure: (caller) => caller.webhook.add,
  parameters: [workspaceParameter],
  body: {
    schema: endpointFieldsBody('url'),
    required: true,
    description: 'The endpoint: its URL, and optionally its event types, description and whether it is enabled.',
    fieldNames: {},
    fields: endpointFields,
  },
  errors: webhookRouteErrors('WEBHOOK_TARGET_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE'),
  response: { description: 'The endpoint, with its signing secret.', schema: webhookEndpointWithSecretResponse, links: endpointLinks },
  handle: async ({ run }) => onWire(await run()),
});

export const updateWebhook = jsonRoute({
  method: 'patch',
  path: '/webhooks/{endpointId}',
  operationId: 'updateWebhook',
  tag: 'webhook',
  summary: 'Change a webhook endpoint',
  description: `Changes the fields the body gives and keeps the others; \`"description": null\` clears it. ${targetRules}`,
  access: 'workspaceAdmin',
  procedure: (caller) => caller.webhook.update,
  parameters: [endpointIdParameter, workspaceParameter],
  body: {
    schema: endpointFieldsBody('none'),
    required: false,
    description: 'The fields to change.',
    fieldNames: {},
    fields: endpointFields,
  },
  errors: webhookRouteErrors('WEBHOOK_TARGET_NOT_ALLOWED', 'WEBHOOK_NOT_FOUND', 'PAYLOAD_TOO_LARGE'),
  response: { description: 'The endpoint as it is now.', schema: webhookEndpointResponse },
  handle: async ({ run }) => onWire(await run()),
});

export const rotateWebhookSecret = jsonRoute({
  method: 'post',
  path: '/webhooks/{endpointId}/rotate-secret',
  operationId: 'rotateWebhookSecret',
  tag: 'webhook',
  summary: "Replace a webhook endpoint's signing secret",
  description: 'Deliveries from now on are signed with the new secret, which this answer carries once; the old one stops working.',
  access: 'workspaceAdmin',
  procedure: (caller) => caller.webhook.rotateSecret,
  parameters: [endpointIdParameter, workspaceParameter],
  errors: webhookRouteErrors('WEBHOOK_NOT_FOUND'),
  response: { description: 'The endpoint, with its new signing secret.', schema: webhookEndpointWithSecretResponse },
  handle: async ({ run }) => onWire(await run()),
});

export const removeWebhook = jsonRoute({
  method: 'delete',
  path: '/webhooks/{endpointId}',
  operationId: 'removeWebhook',
  tag: 'webhook',
  summary: 'Remove a webhook endpoint',
  description: 'Its deliveries, pending ones included, are removed with it.',
  access: 'workspaceAdmin',
  procedure: (caller) => caller.webhook.remove,
  parameters: [endpointIdParameter, workspaceParameter],
  errors: webhookRouteErrors('WEBHOOK_NOT_FOUND'),
  response: { description: 'The endpoint is gone.', schema: successResponse },
  handle: async ({ run }) => {
    await run();
    return { success: true as const };
  },
});
