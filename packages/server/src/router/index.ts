import { createCallerFactory, mergeRouters, router } from '../trpc.js';
import { bucketRouter } from './bucket.js';
import { downloadRouter } from './download.js';
import { eventsRouter } from './events.js';
import { objectRouter } from './object.js';
import { uploadRouter } from './upload.js';
import { webhookEndpointProcedures } from './webhook.js';
import { webhookDeliveryProcedures } from './webhook-deliveries.js';
import { workspaceRouter } from './workspace.js';

/** Everything served at /trpc; its type is the client's contract. */
export const appRouter = router({
  upload: uploadRouter,
  object: objectRouter,
  bucket: bucketRouter,
  workspace: workspaceRouter,
  webhook: { ...webhookEndpointProcedures, ...webhookDeliveryProcedures },
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;

/** The procedures plus the stream-returning ones, for the REST adapter's server-side caller. */
export const serverRouter = mergeRouters(appRouter, router({ download: downloadRouter }));

export const createServerCaller = createCallerFactory(serverRouter);
