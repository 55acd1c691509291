import { Router } from 'express';
import { mountRoute, type RestDependencies } from './mount.js';
import type { RestRoute } from './route.js';

export type { RestDependencies } from './mount.js';

/** Where the app mounts the REST router; the document's paths carry it. */
export const REST_BASE_PATH = '/s3';

/** The /s3 paths of `routes`. Each handler only translates HTTP to a procedure call and back. */
export function createRestRouter(routes: readonly RestRoute[], deps: RestDependencies): Router {
  const router = Router();
  for (const route of routes) mountRoute(router, route, deps);
  return router;
}
