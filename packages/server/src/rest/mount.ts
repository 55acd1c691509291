import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { AppContext } from '../context.js';
import { toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createServerCaller } from '../router/index.js';
import { bodyFields, expressPath, rawParameter } from './params.js';
import { type RestBody, type RestExchange, type RestRoute, restFieldNames } from './route.js';

/** Complete-upload with 10,000 parts is about 700 KB of JSON. */
const JSON_BODY_LIMIT = '2mb';

/** What the REST adapter needs from the app that mounts it. */
export interface RestDependencies {
  logger: Logger;
  /** A download whose bytes stop moving this long is cut. */
  downloadIdleTimeoutMs: number;
  /** The context of this request's procedure calls (the app's: policy, limits, request log). */
  createContext(req: Request, res: Response): AppContext;
}

/**
 * Adds one route of the table to the router. The handler reads exactly the parameters the route
 * declares (the document lists the same ones), renames them to the procedure's fields and leaves
 * validation to the procedure.
 */
export function mountRoute(router: Router, route: RestRoute, deps: RestDependencies): void {
  const fieldNames = restFieldNames(route);
  const handlers: RequestHandler[] = route.body ? [express.json({ limit: JSON_BODY_LIMIT })] : [];

  handlers.push(async (req, res) => {
    const input: Record<string, unknown> = route.body ? bodyInput(route.body, bodyFields(req)) : {};
    for (const parameter of route.parameters) input[parameter.field] = parameter.read(rawParameter(req, parameter));

    const exchange: RestExchange = {
      req,
      res,
      logger: deps.logger,
      downloadIdleTimeoutMs: deps.downloadIdleTimeoutMs,
      run: async () => {
        if (!route.procedure) throw new Error(`route ${route.operationId} runs no procedure`);
        const procedure = route.procedure(createServerCaller(deps.createContext(req, res)));
        try {
          // The input is as REST sent it: the procedure's own schema validates it.
          return await procedure(input);
        } catch (error) {
          throw toAppError(error, { input, fieldNames });
        }
      },
    };

    if (route.kind === 'json') res.json(await route.handle(exchange));
    else await route.handle(exchange);
  });

  router[route.method](expressPath(route.path), ...handlers);
}

/** The procedure fields a body fills, each read as its route says; undefined ones are left out. */
function bodyInput(body: RestBody, field: (name: string) => unknown): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(body.fields)) {
    const value = read?.(field);
    if (value !== undefined) input[name] = value;
  }
  return input;
}
