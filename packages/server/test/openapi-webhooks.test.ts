import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AssetEvent, assetEvent } from '../src/events/asset-event.js';
import type { OpenApiDocument, OperationObject } from '../src/openapi/types.js';
import { randomData } from './support/bytes.js';
import { completeUpload, rest, uploadParts } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

type JsonObjectSchema = { type?: string; properties?: Record<string, JsonObjectSchema>; required?: string[]; anyOf?: JsonObjectSchema[] };

/** The zod object schema of one event type, from the union the server writes events with. */
function zodSchemaOf(type: string) {
  const schema = assetEvent.options.find((option) => option.shape.type.value === type);
  if (!schema) throw new Error(`no event type ${type}`);
  return schema;
}

/**
 * The JSON Schema's properties and required fields, level by level, against the zod object's
 * shape: every field of the zod schema is there and required (none is optional), and no other.
 */
function expectSameFields(json: JsonObjectSchema, shape: Record<string, z.ZodType>, path: string): void {
  expect(Object.keys(json.properties ?? {}).sort(), `${path} properties`).toEqual(Object.keys(shape).sort());
  expect([...(json.required ?? [])].sort(), `${path} required`).toEqual(Object.keys(shape).sort());
  for (const [field, fieldSchema] of Object.entries(shape)) {
    if (fieldSchema instanceof z.ZodObject) expectSameFields(json.properties![field]!, fieldSchema.shape, `${path}.${field}`);
  }
}

describe('the webhooks section of the served OpenAPI document', () => {
  let server: TestServer;
  let document: OpenApiDocument;
  const recorded = new Map<string, AssetEvent>();

  beforeAll(async () => {
    server = await startLocalServer();
    const answer = await rest(server.url, 'GET', '/s3/openapi.json');
    expect(answer.status).toBe(200);
    document = answer.body as OpenApiDocument;

    // One event of each type, recorded by the catalogue as the API (and the cleanup job) records them.
    const workspaceId = 'webhook-docs';
    const stored = await uploadParts(server.url, workspaceId, [randomData(2_048)]);
    expect((await completeUpload(server.url, stored)).status).toBe(200);
    expect((await rest(server.url, 'DELETE', '/s3/delete', { query: { workspaceId, key: stored.key } })).status).toBe(200);
    const aborted = await uploadParts(server.url, workspaceId, [randomData(10)]);
    const abortQuery = { workspaceId, assetId: aborted.assetId, UploadId: aborted.uploadId };
    expect((await rest(server.url, 'DELETE', '/s3/abort-upload', { query: abortQuery })).status).toBe(200);
    const expired = await uploadParts(server.url, workspaceId, [randomData(10)]);
    await server.catalog.finishUpload(workspaceId, expired.uploadId, 'expired');
    for (const { event } of await server.catalog.events.readAfter(null, { limit: 10 })) recorded.set(event.type, event);
  });

  afterAll(() => server.close());

  const webhook = (type: string): OperationObject => {
    const found = document.webhooks?.[type]?.post;
    if (!found) throw new Error(`no webhook ${type}`);
    return found;
  };

  it('has one POST webhook per event type, and nothing else', () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(document.webhooks).sort()).toEqual(['asset.created', 'asset.deleted', 'upload.aborted', 'upload.expired']);
    for (const entry of Object.values(document.webhooks)) expect(Object.keys(entry)).toEqual(['post']);
    const operationIds = Object.keys(document.webhooks).map((type) => webhook(type).operationId);
    expect(new Set(operationIds).size).toBe(4);
    expect(document.tags.map((tag) => tag.name)).toContain(webhook('asset.created').tags[0]);
  });

  it('lists the three Standard Webhooks headers, required, and a 2xx answer that accepts the delivery', () => {
    for (const type of Object.keys(document.webhooks)) {
      const operation = webhook(type);
      expect(operation.parameters.map(({ name, in: where, required }) => [name, where, required])).toEqual([
        ['webhook-id', 'header', true],
        ['webhook-timestamp', 'header', true],
        ['webhook-signature', 'header', true],
      ]);
      expect(operation.requestBody?.required).toBe(true);
      expect(Object.keys(operation.responses)).toEqual(['2XX']);
    }
  });

  it('describes headers that a real event signed by the standardwebhooks library has', () => {
    const event = recorded.get('asset.created')!;
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const timestamp = new Date();
    const body = JSON.stringify(event);
    const headers: Record<string, string> = {
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(event.id, timestamp, body),
    };
    expect(new Webhook(secret).verify(body, headers)).toEqual(event);
    for (const parameter of webhook('asset.created').parameters) {
      const value = headers[parameter.name]!;
      expect(z.fromJSONSchema(parameter.schema as never).safeParse(value).success, `${parameter.name}: ${value}`).toBe(true);
    }
    const idSchema = z.fromJSONSchema(webhook('asset.created').parameters[0]!.schema as never);
    expect(idSchema.safeParse('not-an-event-id').success).toBe(false);
  });

  it('validates each event the catalogue really recorded against its webhook body, and refuses a broken one', () => {
    expect([...recorded.keys()].sort()).toEqual(Object.keys(document.webhooks).sort());
    for (const [type, event] of recorded) {
      const schema = webhook(type).requestBody!.content['application/json']!.schema;
      const validator = z.fromJSONSchema(schema as never);
      const checked = validator.safeParse(JSON.parse(JSON.stringify(event)));
      expect(checked.success, `${type}: ${checked.error?.message}`).toBe(true);
      expect(zodSchemaOf(type).safeParse(event).success).toBe(true);

      const { key: _key, ...dataWithoutKey } = event.data;
      expect(validator.safeParse({ ...event, data: dataWithoutKey }).success, `${type} without data.key`).toBe(false);
      expect(validator.safeParse({ ...event, type: 'asset.renamed' }).success, `${type} of another type`).toBe(false);
    }
  });

  it("has the zod schema's fields as its properties and required fields, at every level", () => {
    for (const type of Object.keys(document.webhooks)) {
      const schema = webhook(type).requestBody!.content['application/json']!.schema as JsonObjectSchema;
      expect(schema.type).toBe('object');
      expectSameFields(schema, zodSchemaOf(type).shape, type);
    }
  });
});
