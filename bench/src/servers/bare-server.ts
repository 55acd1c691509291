/**
 * The control plane's baseline: one Express route answering a JSON body of the size and shape of
 * `GET /s3/get-upload-url`'s, on the same `listen` as the service, with nothing else in the way.
 *
 * Beside it, the same route behind the service's request logger, and tRPC's floors: one procedure that returns the same body with superjson, doing nothing
 * else, served once through @trpc/server's Express adapter and once through the service's own
 * handler (`trpcHandler`, tRPC's `resolveResponse` behind a lighter Node bridge). Whatever the
 * handler costs per request (tRPC answers fetch Requests with fetch Responses), the service's
 * tRPC procedures cannot go below it.
 */
import { listen, trpcHandler } from '@s3-service/server';
import { initTRPC } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express from 'express';
import { pino } from 'pino';
import superjson from 'superjson';
// The service's request logger, which its package does not export, from the source.
import { requestLogger } from '../../../packages/server/src/http/request-log.js';
import { send, serveBenchmarkQueries } from './ipc.js';

const app = express();
app.disable('x-powered-by');
const answer = {
  url:
    'http://127.0.0.1:40000/storage/objects/bench/digital_assets/N2JkYzQ0YjQ3ZWU0NDBjNDlmMmE?uploadId=7bdc44b47ee440c49f2a0e6c1b9d3f21' +
    '&partNumber=1&expires=1893456000&signature=9c3f8d0e1b2a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5',
  expiresIn: 3600,
};
app.get('/bare', (_req, res) => {
  res.json(answer);
});

const t = initTRPC.create({ transformer: superjson });
const floorRouter = t.router({
  signParts: t.procedure.mutation(() => ({ parts: [{ partNumber: 1, url: answer.url }], expiresIn: answer.expiresIn })),
});
app.use('/trpc', createExpressMiddleware({ router: floorRouter }));

// The request log's cost: the bare route behind the service's request logger (pino-http), into
// a pino logger writing to /dev/null.
const logLines = pino(
  { level: 'info', base: { service: 's3-service' }, timestamp: pino.stdTimeFunctions.isoTime },
  pino.destination('/dev/null'),
);
app.use('/logged', requestLogger(logLines), (_req, res) => {
  res.json(answer);
});
app.use('/service-trpc', trpcHandler({ router: floorRouter, createContext: () => ({}), maxBodySize: 1024 * 1024 }));
const running = await listen(app, { host: '127.0.0.1', port: 0, shutdownGraceMs: 1000 });
serveBenchmarkQueries(() => []);
send({ type: 'ready', url: running.url });
