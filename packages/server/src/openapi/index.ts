import { REST_BASE_PATH } from '../rest/index.js';
import { jsonRoute, type RestRoute } from '../rest/route.js';
import { anyRequestErrors } from '../rest/route-errors.js';
import { apiRoutes } from '../rest/routes/index.js';
import { openApiDocumentResponse } from '../rest/wire.js';
import { buildOpenApiDocument, type OpenApiDocument } from './document.js';

/** GET /s3/openapi.json: the document of every /s3 route, this one included. */
const openApiRoute = jsonRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  tag: 'meta',
  summary: 'This document',
  description: 'The OpenAPI 3.1 description of every /s3 path, generated from the schemas the server validates with.',
  access: 'public',
  parameters: [],
  errors: anyRequestErrors,
  response: { description: 'The OpenAPI document.', schema: openApiDocumentResponse },
  handle: async () => restDocument(),
});

/** Every /s3 route: the app mounts these and the document describes these, so neither can drift. */
export const restRoutes: readonly RestRoute[] = [...apiRoutes, openApiRoute];

let document: OpenApiDocument | undefined;

/** Built on first use from the route table; it depends on nothing that changes at run time. */
export function restDocument(): OpenApiDocument {
  document ??= buildOpenApiDocument({ routes: restRoutes, basePath: REST_BASE_PATH });
  return document;
}
