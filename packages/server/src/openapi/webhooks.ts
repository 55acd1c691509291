import { z } from 'zod';
import { type AssetEventType, assetEvent } from '../events/asset-event.js';
import { toJsonSchema } from './json-schema.js';
import type { OperationObject, ParameterObject, ResponseObject } from './types.js';

/** The tag of the webhook operations; the document lists it beside the paths' tags. */
export const WEBHOOK_TAG = { name: 'event', description: 'What webhook endpoints receive: one signed POST per event.' };

/*
 * The three headers of the Standard Webhooks spec (standardwebhooks.com), which its libraries
 * verify: the signature covers `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret.
 */
const signatureHeaders: Array<{ name: string; description: string; schema: z.ZodType; example: string }> = [
  {
    name: 'webhook-id',
    description: "The event's id: the same on every attempt of a delivery, so a receiver that keeps the ids it handled can drop a repeat.",
    schema: z.string().regex(/^evt_[0-9a-f]{32}$/),
    example: 'evt_0f3c5e1a9b8d4c7e6f5a4b3c2d1e0f9a',
  },
  {
    name: 'webhook-timestamp',
    description: 'When this attempt was signed, in seconds since the Unix epoch; verifiers refuse one far from their clock (a replay).',
    schema: z.string().regex(/^\d+$/),
    example: '1767225600',
  },
  {
    name: 'webhook-signature',
    description:
      "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the endpoint's secret " +
      '(`whsec_…`, shown when the endpoint is added); several, space-separated, while a secret is being rotated.',
    schema: z.string().regex(/^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$/),
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  },
];

const parameters: ParameterObject[] = signatureHeaders.map(({ name, description, schema, example }) => ({
  name,
  in: 'header',
  required: true,
  description,
  schema: toJsonSchema(schema, 'input'),
  example,
}));

const responses: Record<string, ResponseObject> = {
  '2XX': {
    description:
      'Any 2xx answer accepts the delivery. Anything else (another status, a redirect, which is not followed, or no answer ' +
      'within WEBHOOK_TIMEOUT_MS) is retried with exponential backoff and jitter, the same `webhook-id` each time, until ' +
      'WEBHOOK_RETRY_WINDOW_SECONDS after the event; then the delivery is marked failed. Events of one asset arrive in order.',
  },
};

function operationId(type: AssetEventType): string {
  return `${type.replace(/\.(\w)/g, (_dot, letter: string) => letter.toUpperCase())}Webhook`;
}

/**
 * OpenAPI 3.1's `webhooks`: one POST per event type that a workspace's endpoints receive, its
 * body the event's schema as the server writes it (events/asset-event.ts, the same payload as the
 * live subscription and onAssetEvent), so no event can be added without being documented.
 */
export function buildWebhooks(): Record<string, { post: OperationObject }> {
  return Object.fromEntries(
    assetEvent.options.map((schema) => {
      const type = schema.shape.type.value;
      const post: OperationObject = {
        operationId: operationId(type),
        summary: `${type}: ${schema.description ?? ''}`.trim(),
        description:
          `POSTed to every enabled endpoint of the workspace that lists \`${type}\` among its event types. ` +
          'Verify the signature with a Standard Webhooks library before trusting the body.',
        tags: [WEBHOOK_TAG.name],
        security: [],
        parameters,
        requestBody: {
          description: `The \`${type}\` event.`,
          required: true,
          content: { 'application/json': { schema: toJsonSchema(schema, 'output') } },
        },
        responses,
      };
      return [type, { post }];
    }),
  );
}
