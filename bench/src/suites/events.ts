import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Catalog,
  DEFAULT_WEBHOOK_SETTINGS,
  openPgliteCatalog,
  openPostgresCatalog,
  silentLogger,
  startWebhookDispatcher,
} from '@s3-service/server';
import { type Figure, formatNumber } from '../report/figures.js';
import type { ApiServerConfig } from '../servers/api-server.js';
import type { FromReceiver, ToReceiver } from '../servers/webhook-receiver.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { keepAlive, trpcMutation } from '../support/http.js';
import { uploadOnePart } from '../support/one-part-upload.js';
import { type BenchPostgres, isPostgresSkipped, startPostgres } from '../support/postgres.js';
import { scratchFolders } from '../support/scratch-folders.js';
import { collectGarbage, median } from '../support/timing.js';
import type { SuiteContext } from './context.js';

type Engine = 'pglite' | 'postgres';
const ENGINE_NAMES: Record<Engine, string> = { pglite: 'PGlite', postgres: 'PostgreSQL' };

/** The bars: events add at most 1 ms to complete's p50; at least 1,000 deliveries a second (at most 1 ms each). */
const COMPLETE_BARS = [{ kind: 'value', atMost: 1 }] as const;
const DELIVERY_BARS = [{ kind: 'value', atMost: 1 }] as const;
/** Endpoints each event of the delivery rounds goes to: fan-out, as a workspace with several webhooks has. */
const ENDPOINTS = 4;
/** Deliveries per dispatcher round, and rounds per engine. */
const DELIVERIES = 4_000;
const DELIVERY_ROUNDS = 3;
const PART_BYTES = 1024;
const WARM_UP_UPLOADS = 5;

/**
 * What events cost: (a) upload.complete's p50 through the API with events recorded (and a webhook
 * endpoint registered, its deliveries sent by the server meanwhile) against the same server whose
 * catalogue records none, in alternating rounds; (b) how many deliveries a second the dispatcher
 * sends to a receiver in another process, against plain POSTs of the same agent to the same
 * receiver. On PGlite and, when one can be started, on PostgreSQL.
 */
export async function eventsSuite(context: SuiteContext): Promise<Figure[]> {
  const started = await startPostgres({ workDir: context.settings.workDir });
  let postgres: BenchPostgres | undefined;
  if (isPostgresSkipped(started)) context.notes.push(`events: the PostgreSQL rows were skipped: ${started.skipped}`);
  else postgres = started;
  const engines: Engine[] = postgres ? ['pglite', 'postgres'] : ['pglite'];
  const receiver = await startReceiver();
  try {
    if (postgres) console.log(`  ${postgres.version} on ${postgres.url} (fsync and synchronous commit on)`);
    const figures: Figure[] = [];
    for (const engine of engines) figures.push(await measureComplete(context, engine, postgres, receiver));
    for (const engine of engines) figures.push(await measureDeliveries(context, engine, postgres, receiver));
    return figures;
  } finally {
    await receiver.stop();
    await postgres?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) what recording events adds to upload.complete

async function measureComplete(
  context: SuiteContext,
  engine: Engine,
  postgres: BenchPostgres | undefined,
  receiver: Receiver,
): Promise<Figure> {
  const { settings } = context;
  const runId = randomBytes(3).toString('hex');
  const folders = scratchFolders(context.scratch, 'events');
  const p50s: Record<EventsMode, number[]> = { record: [], off: [] };
  try {
    for (let round = 0; round < settings.eventsRounds; round++) {
      // A fresh pair of servers each round, started in alternating order: two processes of the
      // same build differ by more than the bar (one measured 2.4 ms slower than its twin over a
      // whole run), so a pair kept for the whole run would measure its processes, not events.
      const order: EventsMode[] = round % 2 === 0 ? ['record', 'off'] : ['off', 'record'];
      const servers = {} as Record<EventsMode, ChildServer>;
      try {
        for (const mode of order) servers[mode] = await startCompleteServer(mode, engine, postgres, folders.make, round);
        const workspaceId = (mode: EventsMode) => `bench-events-${runId}-${round}-${mode}`;
        for (const mode of order) {
          await trpcMutation(servers[mode].url, 'webhook.add', {
            workspaceId: workspaceId(mode),
            url: `${receiver.url}/complete-bench`,
            eventTypes: ['asset.created'],
          });
          await repeat(WARM_UP_UPLOADS, () => completeThroughApi(servers[mode].url, workspaceId(mode)));
        }
        collectGarbage();
        // Upload by upload, alternating which server goes first, so both see the same moments of the machine.
        const times: Record<EventsMode, number[]> = { record: [], off: [] };
        for (let index = 0; index < settings.eventsUploads; index++) {
          for (const mode of index % 2 === 0 ? order : [...order].reverse()) {
            times[mode].push(await completeThroughApi(servers[mode].url, workspaceId(mode)));
          }
        }
        for (const mode of order) p50s[mode].push(median(times[mode]));
      } finally {
        for (const server of Object.values(servers)) await server.stop();
      }
      console.log(
        `  round ${round + 1}, ${ENGINE_NAMES[engine]}: upload.complete p50 with events ${formatNumber(p50s.record.at(-1)!)} ms, ` +
          `without ${formatNumber(p50s.off.at(-1)!)} ms`,
      );
    }
  } finally {
    await folders.removeAll();
  }
  const added = p50s.record.map((value, index) => value - p50s.off[index]!);
  const range = (values: number[]) => `${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))} ms`;
  return {
    id: `events.complete-added-${engine}`,
    suite: 'events',
    name: `What events add to upload.complete (the event and a webhook delivery recorded in its statement, the delivery sent meanwhile), ${ENGINE_NAMES[engine]}: p50`,
    value: median(added),
    unit: 'ms',
    better: 'lower',
    baseline: {
      name: `upload.complete p50 through the API with the catalogue's events off (${ENGINE_NAMES[engine]})`,
      value: median(p50s.off),
    },
    bars: [...COMPLETE_BARS],
    detail:
      `median of ${added.length} rounds' differences of p50s; each round a fresh pair of servers (each its own process, started in alternating order) ` +
      `and ${settings.eventsUploads} one-part uploads (local store) to each, alternating upload by upload; with events p50 ${formatNumber(median(p50s.record))} ms ` +
      `(spread ${range(p50s.record)}), without ${formatNumber(median(p50s.off))} ms (spread ${range(p50s.off)}); ` +
      `differences by round: ${added.map(formatNumber).join(', ')} ms; client wall of upload.complete alone`,
  };
}

type EventsMode = 'record' | 'off';

/** The API with the catalogue's events recorded (and its webhooks sent) or off, on a fresh store and, on PGlite, a fresh database. */
async function startCompleteServer(
  mode: EventsMode,
  engine: Engine,
  postgres: BenchPostgres | undefined,
  folder: (name: string) => Promise<string>,
  round: number,
): Promise<ChildServer> {
  const catalog: ApiServerConfig['catalog'] =
    engine === 'pglite' ? { kind: 'pglite', dataDir: await folder(`${mode}-${round}-pglite`) } : { kind: 'postgres', url: postgres!.url };
  const config: ApiServerConfig = {
    store: { kind: 'local', dir: await folder(`store-${mode}-${round}`) },
    catalog,
    events: mode,
    webhooks: { allowedPrivateTargets: ['loopback'] },
    // Without events there are no deliveries; on a shared PostgreSQL its dispatcher must not take the other server's.
    dispatchWebhooks: mode === 'record',
  };
  return startChildServer('api-server', { env: { BENCH_SERVER_CONFIG: JSON.stringify(config) } });
}

const partBody = Buffer.alloc(PART_BYTES, 'events');

/** A one-part upload through the API; only upload.complete is timed (client wall, loopback). */
async function completeThroughApi(url: string, workspaceId: string): Promise<number> {
  return (await uploadOnePart(url, workspaceId, partBody)).completeMs;
}

// ---------------------------------------------------------------------------------------------
// (b) deliveries per second

async function measureDeliveries(
  context: SuiteContext,
  engine: Engine,
  postgres: BenchPostgres | undefined,
  receiver: Receiver,
): Promise<Figure> {
  const dir = await mkdtemp(join(context.scratch, 'events-deliveries-'));
  const catalog: Catalog =
    engine === 'pglite' ? await openPgliteCatalog({ dataDir: dir }) : await openPostgresCatalog({ url: postgres!.url, maxConnections: 10 });
  const { concurrency } = DEFAULT_WEBHOOK_SETTINGS;
  try {
    const dispatcherRates: number[] = [];
    const plainRates: number[] = [];
    for (let round = 0; round < DELIVERY_ROUNDS; round++) {
      const workspaceId = `bench-deliveries-${randomBytes(3).toString('hex')}`;
      const seeded = await seedDeliveries(catalog, workspaceId, receiver.url);
      collectGarbage();
      const plain = await plainPosts(receiver, DELIVERIES, concurrency);
      const dispatched = await dispatchAll(catalog, receiver, seeded);
      // The receiver counts requests, not deliveries: a delivery it answered whose attempt the
      // dispatcher saw fail is sent again later (at least once), so it can still be pending here.
      // That is the dispatcher doing its job, not a broken round; what it saw is noted for a look.
      const left = await catalog.deliveries.list(workspaceId, { state: 'pending', limit: 5 });
      if (left.deliveries.length > 0) {
        const seen = left.deliveries.map((delivery) => JSON.stringify(delivery.attemptLog.at(-1) ?? null)).join('; ');
        context.notes.push(
          `events: round ${round + 1} on ${ENGINE_NAMES[engine]} ended with ${left.deliveries.length}${left.nextCursor ? '+' : ''} ` +
            `deliveries pending after the receiver had ${DELIVERIES.toLocaleString('en-US')} requests; their last attempts: ${seen}`,
        );
      }
      dispatcherRates.push(dispatched);
      plainRates.push(plain);
      console.log(
        `  round ${round + 1}, ${ENGINE_NAMES[engine]}: dispatcher ${formatNumber(dispatched)} deliveries/s; plain POSTs ${formatNumber(plain)}/s`,
      );
    }
    const rate = median(dispatcherRates);
    const plain = median(plainRates);
    return {
      id: `events.deliveries-${engine}`,
      suite: 'events',
      name: `Webhook dispatcher to a loopback receiver in another process, catalogue on ${ENGINE_NAMES[engine]}: time per delivery (${formatNumber(rate)} deliveries/s)`,
      value: 1_000 / rate,
      unit: 'ms/delivery',
      better: 'lower',
      baseline: {
        name: `plain POSTs of the same body on keep-alive connections (node:http), ${concurrency} at once (${formatNumber(plain)}/s)`,
        value: 1_000 / plain,
      },
      bars: [...DELIVERY_BARS],
      detail:
        `median of ${DELIVERY_ROUNDS} rounds of ${DELIVERIES.toLocaleString('en-US')} deliveries (${DELIVERIES / ENDPOINTS} events to ${ENDPOINTS} endpoints), ` +
        `claimed, signed, POSTed and recorded with the shipped settings (concurrency ${concurrency}); ` +
        `rates by round: ${dispatcherRates.map(formatNumber).join(', ')}/s; at most 1 ms a delivery is the bar of 1,000 deliveries a second; ` +
        `the receiver answers 204 from its own process on this machine`,
    };
  } finally {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** DELIVERIES pending deliveries: events recorded as completes record them, each fanned out to the workspace's endpoints. */
async function seedDeliveries(catalog: Catalog, workspaceId: string, receiverUrl: string): Promise<number> {
  for (let index = 0; index < ENDPOINTS; index++) {
    await catalog.webhooks.add(
      {
        workspaceId,
        url: `${receiverUrl}/endpoint-${index}`,
        description: null,
        eventTypes: ['asset.created'],
        enabled: true,
        secret: `whsec_${randomBytes(32).toString('base64')}`,
        createdBy: null,
      },
      { maxPerWorkspace: ENDPOINTS },
    );
  }
  const events = DELIVERIES / ENDPOINTS;
  const start = performance.now();
  await eachLimited(events, 8, async () => {
    const assetId = randomBytes(16).toString('base64url').replace(/^[-_]/, 'a');
    const upload = await catalog.beginUpload(
      {
        workspaceId,
        uploadId: randomBytes(24).toString('base64url'),
        assetId,
        key: `${workspaceId}/digital_assets/${assetId}`,
        fileName: 'bench.bin',
        fileType: 'application/octet-stream',
        declaredSize: PART_BYTES,
        partSize: PART_BYTES,
        startedBy: null,
        startedAt: new Date(),
      },
      {},
    );
    await catalog.recordCompleted(upload, { size: PART_BYTES, etag: '"bench-etag-1"', checksum: null, createdAt: new Date() });
  });
  console.log(`  seeded ${DELIVERIES.toLocaleString('en-US')} deliveries in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return DELIVERIES;
}

/** Starts a dispatcher on the seeded deliveries; deliveries per second until the receiver has them all. */
async function dispatchAll(catalog: Catalog, receiver: Receiver, count: number): Promise<number> {
  const arrived = receiver.expect(count);
  await arrived.ready;
  const start = Date.now();
  const dispatcher = startWebhookDispatcher(catalog, {
    ...DEFAULT_WEBHOOK_SETTINGS,
    allowedPrivateTargets: ['loopback'],
    logger: silentLogger,
    pollIntervalMs: 500,
  });
  try {
    const { lastAt } = await arrived.done;
    return (count * 1_000) / Math.max(1, lastAt - start);
  } finally {
    // Its last outcomes are written before the check that nothing is left pending.
    await dispatcher.stop();
  }
}

/** The same number of POSTs of an event-sized body, `concurrency` at once, on keep-alive connections: what HTTP on loopback allows. */
async function plainPosts(receiver: Receiver, count: number, concurrency: number): Promise<number> {
  const body = JSON.stringify({
    id: `evt_${'0'.repeat(32)}`,
    type: 'asset.created',
    timestamp: new Date().toISOString(),
    data: { key: 'x'.repeat(80) },
  });
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(`${receiver.url}/plain`, {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.once('error', reject);
      req.once('response', (res) => {
        res.resume();
        res.once('end', resolve);
        res.once('error', reject);
      });
      req.end(body);
    });
  const arrived = receiver.expect(count);
  await arrived.ready;
  const start = Date.now();
  await eachLimited(count, concurrency, post);
  const { lastAt } = await arrived.done;
  return (count * 1_000) / Math.max(1, lastAt - start);
}

// ---------------------------------------------------------------------------------------------

interface Receiver {
  url: string;
  /** Resets its count; `done` resolves when `count` requests have arrived. */
  expect(count: number): { ready: Promise<void>; done: Promise<{ firstAt: number; lastAt: number }> };
  stop(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const entry = fileURLToPath(new URL('../servers/webhook-receiver.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--conditions=@s3-service/source', '--import', 'tsx', entry], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the receiver exited before listening (${code})`)));
    child.on('message', (message: FromReceiver) => {
      if (message.type === 'ready') resolve(message.url);
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    expect(count) {
      const next = <T extends FromReceiver['type']>(type: T) =>
        new Promise<Extract<FromReceiver, { type: T }>>((resolve) => {
          const listener = (message: FromReceiver) => {
            if (message.type !== type) return;
            child.off('message', listener);
            resolve(message as Extract<FromReceiver, { type: T }>);
          };
          child.on('message', listener);
        });
      const ready = next('expecting').then(() => {});
      const done = next('received');
      child.send({ type: 'expect', count } satisfies ToReceiver);
      return { ready, done };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function repeat<T>(times: number, run: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let index = 0; index < times; index++) results.push(await run());
  return results;
}

async function eachLimited(count: number, limit: number, work: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next++ < count) await work();
    }),
  );
}
