/**
 * The service as `apps/api` runs it (createApp + listen on 127.0.0.1, port 0), in a child process
 * of the benchmark so that its CPU and RSS are its own. BENCH_SERVER_CONFIG (JSON) says which store.
 */
import '../support/quiet-sdk-warning.js';
import {
  createApp,
  createLocalStore,
  createS3Store,
  listen,
  type ObjectStore,
  openCatalog,
  openPgliteCatalog,
  openPostgresCatalog,
  type QuotaRules,
  type S3StoreOptions,
  type WebhookSettings,
} from '@s3-service/server';
import express, { type Express } from 'express';
import { type RequestTiming, send, serveBenchmarkQueries } from './ipc.js';

export type ApiServerConfig = {
  store: { kind: 'local'; dir: string } | ({ kind: 's3' } & S3StoreOptions);
  /** The catalogue: PostgreSQL at a URL, else PGlite in this folder (in memory when absent). */
  catalog?: { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir?: string };
  /** The server-wide quota rule (WORKSPACE_QUOTA_BYTES); absent: none. */
  quotas?: QuotaRules;
  /** Records each request's server time (arrival to last byte handed to the socket). */
  recordTimings?: boolean;
  /** `off`: the catalogue records no events (the events suite's baseline). */
  events?: 'record' | 'off';
  /** Webhook delivery from this server (targets on loopback need `allowedPrivateTargets: ['loopback']`). */
  webhooks?: Partial<WebhookSettings>;
  /** false: this server sends no webhooks (createApp's dispatchWebhooks). */
  dispatchWebhooks?: boolean;
};

const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}') as ApiServerConfig;
let publicUrl = '';
const store: ObjectStore =
  config.store.kind === 'local'
    ? await createLocalStore({ dir: config.store.dir, publicUrl: () => publicUrl })
    : createS3Store(withoutKind(config.store));

const timings: RequestTiming[] = [];
const catalog = await openBenchCatalog(config);
const app = createApp({
  store,
  catalog,
  ...(config.quotas ? { quotas: config.quotas } : {}),
  ...(config.webhooks ? { webhooks: config.webhooks } : {}),
  ...(config.dispatchWebhooks === false ? { dispatchWebhooks: false } : {}),
});
const running = await listen(config.recordTimings ? timed(app, timings) : app, { host: '127.0.0.1', port: 0, shutdownGraceMs: 1000 });
publicUrl = running.url;
serveBenchmarkQueries(() => timings);
send({ type: 'ready', url: running.url });

/** Server time per request: a wrapper in front of the app, added only when asked for. */
function timed(inner: Express, into: RequestTiming[]): Express {
  const outer = express();
  outer.use((_req, res, next) => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const used = process.cpuUsage(cpu);
      into.push({ ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: (used.user + used.system) / 1000 });
    });
    next();
  });
  outer.use(inner);
  return outer;
}

function withoutKind({ kind: _kind, ...options }: { kind: 's3' } & S3StoreOptions): S3StoreOptions {
  return options;
}

/** As openCatalog, with the events baseline's switch when one is asked for. */
function openBenchCatalog({ catalog: chosen, events }: ApiServerConfig) {
  if (!events) return openCatalog(chosen ?? { kind: 'pglite' });
  return chosen?.kind === 'postgres'
    ? openPostgresCatalog({ url: chosen.url, events })
    : openPgliteCatalog({ dataDir: chosen?.dataDir, events });
}
