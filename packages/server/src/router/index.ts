import { createCallerFactory, mergeRouters, router } from '../trpc.js';
import { bucketRouter } from './bucket.js';
import { downloadRouter } from './download.js';
import { eventsRouter } from './events.js';
import { objectRouter } from './object.js';
import { partWriteRouter } from './part-write.js';
import { uploadRouter } from './upload.js';
import { uppyRouter } from './uppy.js';
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
  uppy: uppyRouter,
});

export type AppRouter = typeof appRouter;

/** The procedures plus the stream-returning and byte-taking ones, for the REST and Uppy adapters' server-side caller. */
export const serverRouter = mergeRouters(appRouter, router({ download: downloadRouter, parts: partWriteRouter }));

export const createServerCaller = createCallerFactory(serverRouter);
