import type { Catalog } from '../catalog/catalog.js';
import type { ClaimedDelivery, DeliveryOutcome, OutcomesRecorded } from '../catalog/webhook-deliveries.js';
import type { WebhookSettings } from '../config.js';
import type { Logger } from '../logger.js';
import { type BackoffRules, backoffDelay } from './backoff.js';
import type { Foreground } from './foreground.js';
import { createWebhookSender } from './webhook-sender.js';

export interface WebhookDispatcherOptions extends WebhookSettings {
  logger: Logger;
  /** How often it looks for deliveries other instances recorded, or retries that fell due. */
  pollIntervalMs: number;
  /** Jitter of the retries; `equal` (at least half the exponential wait, so a receiver that failed is never retried at once). */
  jitter?: BackoffRules['jitter'];
  /**
   * The API requests of this process, when it serves any: claims and outcome writes wait for a
   * lull between them (at most YIELD_MAX_MS), unless deliveries are queuing up.
   */
  yieldTo?: Foreground;
}

export interface WebhookDispatcher {
  /** Stops claiming; waits for the attempts in flight. */
  stop(): Promise<void>;
}

/**
 * A claim outlives its attempt by this much: an attempt is over by timeoutMs, and its outcome is
 * written soon after, so only a dispatcher that died (or froze) leaves the row to run out.
 */
const LEASE_MARGIN_MS = 10_000;
/** After a catalogue error the loop waits at least this long, so a database that is down is not hammered. */
const MIN_ERROR_PAUSE_MS = 1_000;
/** How long after this process wrote deliveries the dispatcher claims them. */
const WAKE_AFTER_WRITE_MS = 5;
/** How long an outcome waits for others to be written with it. */
const OUTCOME_GATHER_MS = 5;
/**
 * The longest a claim or an outcome write waits for a lull in the API's requests. Under steady
 * requests it always waits this long, so several deliveries share each claim and each write.
 */
const YIELD_MAX_MS = 25;

/**
 * Delivers the outbox's webhook deliveries from this process: claims as many due ones as it has
 * room for (concurrency minus attempts in flight), sends each, and records the outcomes in
 * batches; claims again at once while claims come back full. Otherwise it sleeps until this
 * process records deliveries, the earliest retry it scheduled falls due, or the poll interval
 * passes (other instances' deliveries, expired leases). It never throws out of its loop: a
 * catalogue error is logged and the loop tries again later.
 */
export function startWebhookDispatcher(catalog: Catalog, options: WebhookDispatcherOptions): WebhookDispatcher {
  const { logger } = options;
  const sender = createWebhookSender({ timeoutMs: options.timeoutMs, allowedPrivateTargets: options.allowedPrivateTargets });
  const backoff: BackoffRules = { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs, jitter: options.jitter ?? 'equal' };
  const leaseMs = options.timeoutMs + LEASE_MARGIN_MS;
  const minimumClaim = Math.max(1, Math.floor(options.concurrency / 4));

  let stopping = false;
  let inFlight = 0;
  const attempts = new Set<Promise<void>>();
  /** The claim running, if any; a wake-up meanwhile sets `again`, so no wake-up is lost. */
  let claiming: Promise<void> | undefined;
  let again = false;
  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeAt = Number.POSITIVE_INFINITY;
  /** The last claim stopped for want of room, so more may be due than it took. */
  let roomLimited = false;
  /** The last claim came back full: deliveries are queuing, and neither claims nor writes wait for a lull. */
  let backlogged = false;

  // An outcome recorded may make the next delivery of the same asset due, and frees room.
  const outcomes = createOutcomeRecorder(catalog, logger, {
    maxBatch: Math.max(1, Math.floor(options.concurrency / 2)),
    // A claim after every outcome would double the statements per delivery (on PGlite, in this
    // thread); only room freed under load, or the next delivery of an asset made due, calls for one.
    recorded: (outcome) => {
      if (outcome.unblocked || roomLimited) wake();
    },
    stopping: () => stopping,
    beforeWrite: () => (options.yieldTo && !backlogged && !stopping ? options.yieldTo.lull(YIELD_MAX_MS) : undefined),
  });

  /** Sleeps until `at` at the latest (an earlier wake-up wins). */
  const wakeBy = (at: number) => {
    if (stopping || at >= wakeAt) return;
    clearTimeout(wakeTimer);
    wakeAt = at;
    wakeTimer = setTimeout(
      () => {
        wakeAt = Number.POSITIVE_INFINITY;
        wake();
      },
      Math.max(0, at - Date.now()),
    );
    wakeTimer.unref();
  };

  function wake(): void {
    if (stopping) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = claimAndSend().finally(() => {
      claiming = undefined;
      // A wake-up that came after the claim's last look.
      if (again) wake();
    });
  }

  async function claimAndSend(): Promise<void> {
    do {
      again = false;
      const room = options.concurrency - inFlight;
      // A claim is a statement whatever its size: under load, one for every attempt that ends
      // would cost more than the attempts. Attempts in flight end soon (by their timeout).
      roomLimited = room <= 0 || (inFlight > 0 && room < minimumClaim);
      if (roomLimited) break;
      // A backlog is not held back: it is claimed as fast as room allows.
      if (options.yieldTo && !backlogged) await options.yieldTo.lull(YIELD_MAX_MS);
      let claimed: ClaimedDelivery[];
      try {
        claimed = await catalog.deliveries.claimDue({ now: new Date(), limit: room, leaseMs });
      } catch (error) {
        logger.warn({ err: error }, 'webhook dispatcher: claiming deliveries failed; trying again shortly');
        // Wake-ups meanwhile wait for the pause too: the database is not asked again at once.
        again = false;
        wakeBy(Date.now() + Math.max(MIN_ERROR_PAUSE_MS, options.pollIntervalMs));
        return;
      }
      for (const delivery of claimed) track(attempt(delivery));
      roomLimited = claimed.length === room;
      backlogged = roomLimited;
      if (roomLimited) again = true;
    } while (again && !stopping);
    wakeBy(Date.now() + options.pollIntervalMs);
  }

  function track(running: Promise<void>): void {
    inFlight += 1;
    attempts.add(running);
    void running.finally(() => {
      inFlight -= 1;
      attempts.delete(running);
    });
  }

  async function attempt(delivery: ClaimedDelivery): Promise<void> {
    const now = Date.now();
    const deadline = delivery.queuedAt.getTime() + options.retryWindowMs;
    const { event } = delivery;
    const result = event
      ? await sender.send(delivery, event)
      : { at: new Date(now).toISOString(), delivered: false, status: null, error: 'the event was pruned; nothing to send', durationMs: 0 };
    const log = { at: result.at, status: result.status, error: result.error, durationMs: result.durationMs };
    const base = { id: delivery.id, attempt: delivery.attempt, log };
    let outcome: DeliveryOutcome;
    if (result.delivered) outcome = { ...base, result: 'delivered' };
    else if (!event || Date.now() >= deadline) outcome = { ...base, result: 'failed' };
    else {
      // The last retry falls on the window's end, so a delivery is tried for the whole window and no longer.
      const next = Math.min(Date.now() + backoffDelay(delivery.attempt, backoff), deadline);
      outcome = { ...base, result: 'retry', nextAttemptAt: new Date(next) };
      wakeBy(next);
    }
    if (outcome.result === 'failed') {
      logger.warn(
        { deliveryId: delivery.id, endpointId: delivery.endpointId, eventId: event?.id, attempts: delivery.attempt, error: result.error },
        'webhook delivery failed for good: its retry window is over',
      );
    }
    outcomes.add(outcome);
  }

  // Shortly after, not at once: the statement that wrote them is still answering its request
  // (on PGlite a claim would run ahead of it in this thread), and a burst of events is one claim.
  const unsubscribe = catalog.events.onWritten((written) => {
    if (written.deliveries > 0) wakeBy(Date.now() + WAKE_AFTER_WRITE_MS);
  });
  wake();

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        unsubscribe();
        clearTimeout(wakeTimer);
        // Rows a claim still running takes are sent too: they are leased to this process.
        await claiming;
        // Each attempt ends by its timeout; its outcome is written before the catalogue closes.
        await Promise.allSettled([...attempts]);
        await outcomes.drain();
        await sender.close();
      })();
      return stopped;
    },
  };
}

/**
 * Writes outcomes in batches: an outcome waits up to OUTCOME_GATHER_MS for others (or until
 * `maxBatch` have gathered), so the writes cost a statement per batch rather than per attempt;
 * on PGlite, which runs in this thread, nothing else would gather while a statement runs. A batch
 * that cannot be written is tried again; its rows are still leased meanwhile, and were the
 * process to die they would be sent again when the lease runs out (at least once).
 */
function createOutcomeRecorder(
  catalog: Catalog,
  logger: Logger,
  options: {
    maxBatch: number;
    recorded: (outcome: OutcomesRecorded) => void;
    stopping: () => boolean;
    /** Awaited before each write: the dispatcher's wait for a lull in the API's requests. */
    beforeWrite: () => Promise<void> | undefined;
  },
) {
  let waiting: DeliveryOutcome[] = [];
  let writing: Promise<void> | undefined;
  let gathering: NodeJS.Timeout | undefined;
  let failures = 0;

  const writeNow = () => {
    clearTimeout(gathering);
    gathering = undefined;
    if (writing || waiting.length === 0) return;
    writing = writeBatch().finally(() => {
      writing = undefined;
      schedule();
    });
  };

  const schedule = () => {
    if (writing || waiting.length === 0) return;
    if (waiting.length >= options.maxBatch || options.stopping()) return writeNow();
    if (!gathering) {
      gathering = setTimeout(writeNow, OUTCOME_GATHER_MS);
      gathering.unref();
    }
  };

  const writeBatch = async (): Promise<void> => {
    if (waiting.length < options.maxBatch) await options.beforeWrite();
    const batch = waiting;
    waiting = [];
    try {
      const recorded = await catalog.deliveries.recordOutcomes(batch);
      failures = 0;
      options.recorded(recorded);
    } catch (error) {
      failures += 1;
      waiting = [...batch, ...waiting];
      logger.warn({ err: error, outcomes: batch.length }, 'webhook dispatcher: recording outcomes failed; trying again shortly');
      if (failures >= 5 || options.stopping()) {
        // Gives up on these: their leases run out and they are sent again (at least once).
        logger.error(
          { outcomes: waiting.length },
          'webhook dispatcher: outcomes dropped; the deliveries are retried when their leases run out',
        );
        waiting = [];
        failures = 0;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, MIN_ERROR_PAUSE_MS * failures).unref());
    }
  };

  return {
    add(outcome: DeliveryOutcome): void {
      waiting.push(outcome);
      schedule();
    },
    /** Resolves once every outcome added so far is written (or given up on). */
    async drain(): Promise<void> {
      while (writing || waiting.length > 0) {
        writeNow();
        await writing;
      }
    },
  };
}
