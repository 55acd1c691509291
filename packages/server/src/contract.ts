/**
 * What a client may know of the service, and nothing more: the procedures of /trpc with their
 * inputs, outputs and error shape, and the error codes. `@s3-service/client` bundles the
 * declarations of this module into its package, so they must not reach the server's context (the
 * store, the logger, Node's types), which the router's own type names.
 */
import type { AnyTRPCRouter, TRPCBuiltRouter } from '@trpc/server';
import { appRouter } from './router/index.js';

export type { ErrorCode } from './errors.js';

type RootTypes<TRouter extends AnyTRPCRouter> = TRouter['_def']['_config']['$types'];

/**
 * The router's type with an empty context. A function's inferred return type, unlike a type
 * alias, is written into the declaration file in full, so the emitted type names no server module.
 */
function withoutContext<TRouter extends AnyTRPCRouter>(
  router: TRouter,
): TRPCBuiltRouter<
  {
    ctx: object;
    meta: RootTypes<TRouter>['meta'];
    errorShape: RootTypes<TRouter>['errorShape'];
    transformer: RootTypes<TRouter>['transformer'];
  },
  TRouter['_def']['record']
> {
  return router;
}

const clientRouter = withoutContext(appRouter);

/** The type to give `createTRPCClient<AppRouter>`: every procedure of /trpc, typed end to end. */
export type AppRouter = typeof clientRouter;
