import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Catalog } from '../catalog/catalog.js';
import type { EventPosition, StoredEvent } from '../catalog/event-log.js';
import type { Logger } from '../logger.js';
import type { AssetEvent } from './asset-event.js';
import { exponentialDelay } from './backoff.js';

/** An embedding app's handler of events (createApp's `onAssetEvent`); a throw or rejection retries the event. */
export type AssetEventHook = (event: AssetEvent) => void | Promise<void>;

/** The consumer name createApp's hook reads under: every process of one app shares it, so one reads at a time. */
export const APP_HOOKS_CONSUMER = 'app-hooks';

export interface HookConsumerOptions {
  logger: Logger;
  /** How often it looks for events other instances wrote, and for a lease another instance let go. */
  pollIntervalMs: number;
  /** Its name in the catalogue (event_consumers); default `app-hooks`. */
  name?: string;
  /** How long the lease lasts unrenewed: after a crash, another instance takes over this much later. Default 30 s. */
  leaseMs?: number;
  /** The wait after the first failure of the hook, doubled after each further one up to `retryMaxMs`; default 250 ms. */
  retryFirstMs?: number;
  /** Default 30 s. */
  retryMaxMs?: number;
  /** How long stop() waits for the hook call in progress; after that its event stays unacknowledged. Default 5 s. */
  stopGraceMs?: number;
  /** Events read per query; default 100. */
  batchSize?: number;
}

export interface HookConsumer {
  /** Finishes the hook call in progress (within the grace), then lets the lease go. */
  stop(): Promise<void>;
}

const DEFAULTS = { leaseMs: 30_000, retryFirstMs: 250, retryMaxMs: 30_000, stopGraceMs: 5_000, batchSize: 100 };

/**
 * Calls the app's hook for every event of the outbox, in commit order, each once it has handled
 * the one before: at least once (a crash between the hook and the acknowledgement repeats that
 * event), never skipping one (a failing hook is retried with growing waits and holds the events
 * after it back). Among the processes reading under one name, only the lease holder calls its hook.
 *
 * A name new to the catalogue starts after the newest event then, not from the outbox's start: an
 * app that adds a hook later wants what happens from now, not the retention period's history.
 */
export function startHookConsumer(catalog: Catalog, hook: AssetEventHook, options: HookConsumerOptions): HookConsumer {
  const settings = { ...DEFAULTS, ...definedOnly(options), pollIntervalMs: options.pollIntervalMs };
  const name = options.name ?? APP_HOOKS_CONSUMER;
  const holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const logger = options.logger.child({ consumer: name });
  const stopping = new AbortController();
  const wake = createWake(stopping.signal);
  const unsubscribe = catalog.events.onWritten((written) => {
    if (written.events > 0) wake.now();
  });

  let holding = false;
  /** Once the consumer's row exists, it need not be told where a new one would start. */
  let rowKnown = false;
  /** Set when stop() gave up waiting for the hook: its late success must not acknowledge anything. */
  let abandoned = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let renewing: Promise<void> | undefined;

  const letGo = () => {
    holding = false;
    clearInterval(heartbeat);
  };

  /** Takes the lease if it is free; the position to continue from, or undefined while another instance reads. */
  const take = async (): Promise<{ position: EventPosition | null } | undefined> => {
    const startAfter = rowKnown ? null : await catalog.events.head();
    const lease = await catalog.consumers.acquire(name, holder, settings.leaseMs, startAfter);
    rowKnown = true;
    if (!lease) return undefined;
    holding = true;
    logger.info({ holder, after: lease.position }, 'took the onAssetEvent lease');
    heartbeat = setInterval(() => {
      renewing ??= renew().finally(() => {
        renewing = undefined;
      });
    }, settings.leaseMs / 3);
    heartbeat.unref();
    return lease;
  };

  const renew = async () => {
    try {
      const lease = await catalog.consumers.acquire(name, holder, settings.leaseMs, null);
      if (!lease && holding) {
        logger.warn({ holder }, 'lost the onAssetEvent lease (renewed too late); another instance continues');
        letGo();
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not renew the onAssetEvent lease; trying again');
    }
  };

  /** Calls the hook until it succeeds; false when stop() came first. */
  const handle = async ({ event }: StoredEvent): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await hook(event);
        return true;
      } catch (error) {
        // No jitter: one reader per name retries, so there is no herd to spread.
        const retryInMs = exponentialDelay(attempt, { baseMs: settings.retryFirstMs, maxMs: settings.retryMaxMs });
        logger.warn(
          { err: error, eventId: event.id, type: event.type, attempt, retryInMs },
          'onAssetEvent failed; the same event is retried, the ones after it wait',
        );
        if (!(await sleep(retryInMs, stopping.signal))) return false;
      }
    }
  };

  const run = async () => {
    let position: EventPosition | null = null;
    while (!stopping.signal.aborted) {
      try {
        if (!holding) {
          const lease = await take();
          if (!lease) {
            await wake.after(settings.pollIntervalMs);
            continue;
          }
          position = lease.position;
        }
        const batch = await catalog.events.readAfter(position, { limit: settings.batchSize });
        if (batch.length === 0) {
          await wake.after(settings.pollIntervalMs);
          continue;
        }
        for (const stored of batch) {
          if (!holding || stopping.signal.aborted || !(await handle(stored)) || abandoned) break;
          if (!(await catalog.consumers.advance(name, holder, stored.position))) {
            logger.warn({ holder, eventId: stored.event.id }, 'lost the onAssetEvent lease; the next holder repeats this event');
            letGo();
            break;
          }
          position = stored.position;
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        logger.warn({ err: error }, 'reading the outbox for onAssetEvent failed; trying again');
        await wake.after(settings.pollIntervalMs);
      }
    }
  };

  const running = run();
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        unsubscribe();
        const grace = new AbortController();
        const finished = await Promise.race([running.then(() => true), sleep(settings.stopGraceMs, grace.signal).then(() => false)]);
        grace.abort();
        if (!finished) {
          abandoned = true;
          logger.warn({ graceMs: settings.stopGraceMs }, 'onAssetEvent still running at stop; its event will be delivered again');
        }
        const held = holding;
        letGo();
        await renewing;
        if (held)
          await catalog.consumers.release(name, holder).catch((error) => logger.warn({ err: error }, 'could not release the lease'));
      })();
      return stopped;
    },
  };
}

/**
 * A pause that ends early when this process wrote events (or at stop). A write noted while the
 * reader was busy ends its next pause at once, so none waits for the poll.
 */
function createWake(signal: AbortSignal) {
  let pending = false;
  let endPause: (() => void) | undefined;
  return {
    now() {
      pending = true;
      endPause?.();
    },
    after(ms: number): Promise<void> {
      if (pending || signal.aborted) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const end = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', end);
          endPause = undefined;
          pending = false;
          resolve();
        };
        const timer = setTimeout(end, ms);
        signal.addEventListener('abort', end, { once: true });
        endPause = end;
      });
    },
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
