import { readFileSync } from 'node:fs';
import { type ErrorCode, errorCodes } from '../errors.js';
import type { RestRoute } from '../rest/route.js';
import { errorBody, errorCodeTable } from './error-responses.js';
import { toJsonSchema } from './json-schema.js';
import { BEARER_SCHEME, toOperation } from './operation.js';
import type { OpenApiDocument, OperationObject } from './types.js';
import { buildUppyPaths, UPPY_TAG } from './uppy.js';
import { buildWebhooks, WEBHOOK_TAG } from './webhooks.js';

export type { OpenApiDocument } from './types.js';

/**
 * The product's one version, which every package of the repository carries (changesets keeps
 * them together). The REST contract only grows, so a release that adds to it is a minor one.
 */
const PRODUCT_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const overview = `Upload files in parts straight to object storage, then download or delete them, per workspace.

Upload flow: \`start-upload\` returns \`uploadId\` and \`assetId\`; for each part \`get-upload-url\` signs a URL that
accepts the part's bytes with \`PUT\` (keep the \`ETag\` header of its answer); \`complete-upload\` with every
\`{ ETag, PartNumber }\` assembles the object at \`{workspaceId}/digital_assets/{assetId}\`. Signed URLs live one hour.

Every error answer is \`{ "error": "<message>", "code": "<CODE>" }\`:`;

const tags = [
  { name: 'upload', description: 'Multipart uploads through presigned part URLs.' },
  { name: 'object', description: 'Stored objects of a workspace.' },
  { name: 'bucket', description: 'Bucket-wide configuration (admin).' },
  { name: 'webhook', description: "A workspace's webhook endpoints (workspace admin)." },
  { name: 'meta', description: 'This document.' },
  UPPY_TAG,
  WEBHOOK_TAG,
];

export interface DocumentOptions {
  routes: readonly RestRoute[];
  /** Where the REST router is mounted; paths in the document carry it. */
  basePath: string;
}

/** The OpenAPI 3.1 document of the REST routes, derived from the route table alone. */
export function buildOpenApiDocument({ routes, basePath }: DocumentOptions): OpenApiDocument {
  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const route of routes) {
    const path = `${basePath}${route.path}`;
    paths[path] = { ...paths[path], [route.method]: toOperation(route) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 's3-service REST API', version: PRODUCT_VERSION, description: `${overview}\n\n${errorCodeTable()}` },
    tags,
    paths: { ...paths, ...buildUppyPaths() },
    webhooks: buildWebhooks(),
    components: {
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'Required when the server is configured with AUTH_JWT_SECRET or AUTH_JWKS_URL; without either (development) ' +
            'every caller is let in. The token lists the workspaces it may use (claim `workspaces`); bucket paths need ' +
            'the admin role (claim `role`).',
        },
      },
      schemas: { Error: toJsonSchema(errorBody(Object.keys(errorCodes) as ErrorCode[]), 'output') },
    },
  };
}
