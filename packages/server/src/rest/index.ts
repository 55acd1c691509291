import { Router } from 'express';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document.js';
import type { RestDependencies } from './mount.js';
import { mountRoute } from './mount.js';
import { jsonRoute, type RestRoute } from './route.js';
import { anyRequestErrors } from './route-errors.js';
import { apiRoutes } from './routes/index.js';
import { openApiDocumentResponse } from './wire.js';

/** Where the app mounts the REST router; the document's paths carry it. */
export const REST_BASE_PATH = '/s3';

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

/** Every /s3 route: the router mounts these and the document describes these, so neither can drift. */
export const restRoutes: readonly RestRoute[] = [...apiRoutes, openApiRoute];

let document: OpenApiDocument | undefined;

/** Built on first use from the route table; it depends on nothing that changes at run time. */
export function restDocument(): OpenApiDocument {
  document ??= buildOpenApiDocument({ routes: restRoutes, basePath: REST_BASE_PATH });
  return document;
}

/** The /s3 paths. Each handler only translates HTTP to a procedure call and back. */
export function createRestRouter(deps: RestDependencies): Router {
  const router = Router();
  for (const route of restRoutes) mountRoute(router, route, deps);
  return router;
}
