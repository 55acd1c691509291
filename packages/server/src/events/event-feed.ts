import type { EventLog, EventPosition, StoredEvent } from '../catalog/event-log.js';
import type { Logger } from '../logger.js';

export interface EventFeedOptions {
  logger: Logger;
  /** How often it looks for events other instances wrote. */
  pollIntervalMs: number;
  /** Events read per query; default 500. */
  batchSize?: number;
  /** Events a subscription may have waiting before it is ended as too slow; default 1,000. */
  maxQueued?: number;
}

/** One reader of the outbox per process, fanning events out to live subscriptions (router/events.ts). */
export interface EventFeed {
  /**
   * The events of one workspace the feed reads from now on. They are buffered until the
   * subscription is read, up to `maxQueued`: past that it ends (see FeedSubscription).
   */
  subscribe(workspaceId: string, options?: { signal?: AbortSignal }): FeedSubscription;
  /** Ends every subscription (they end as aborted, so clients reconnect elsewhere) and stops reading; idempotent. */
  close(): Promise<void>;
}

/**
 * A workspace's live events, in commit order. It ends with an AbortError when its signal fires,
 * when the feed closes and when its reader fell `maxQueued` events behind: a client reconnects
 * after any of these and resumes from the last event it got.
 */
export interface FeedSubscription extends AsyncIterable<StoredEvent> {
  /**
   * Resolves once the feed holds a position: every event after the position the feed had then
   * reaches this subscription, and every event up to it is visible to `readAfter`. So a backlog
   * read after this resolves and the subscription's events overlap, with no gap between them.
   * Rejects when the feed could not learn where the outbox stands (the catalogue is down).
   */
  readonly ready: Promise<void>;
  close(): void;
}

const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_MAX_QUEUED = 1_000;

/** Orders positions as the outbox commits them: transaction first (an xid8, beyond 2^53), then number. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  const byTransaction = BigInt(a.txid) - BigInt(b.txid);
  if (byTransaction !== 0n) return byTransaction < 0n ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Reads the outbox for the whole process while anyone listens, once per poll interval and at
 * once when this process wrote events, and hands each event to the subscriptions of its
 * workspace. With no subscription it does not read at all; the first one after a quiet spell
 * starts it from the outbox's head, since nobody is waiting for what came before.
 */
export function createEventFeed(log: EventLog, options: EventFeedOptions): EventFeed {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const logger = options.logger.child({ component: 'event-feed' });
  const subscribers = new Set<Subscriber>();
  /** Where reading continues; undefined while the feed has not started (or stopped with its last subscriber). */
  let position: EventPosition | null | undefined;
  let loop: Promise<void> | undefined;
  let closed = false;
  let wakeUp: (() => void) | undefined;
  let wokenEarly = false;

  const wake = () => {
    wokenEarly = true;
    wakeUp?.();
  };
  const stopListening = log.onWritten((written) => {
    if (written.events > 0) wake();
  });

  function sleep(): Promise<void> {
    if (wokenEarly || closed || subscribers.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, options.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function start(): Promise<boolean> {
    try {
      position = await log.head();
    } catch (error) {
      // Nobody waiting can be promised a gapless start: they fail, and their clients reconnect.
      for (const subscriber of subscribers) subscriber.fail(error);
      return false;
    }
    for (const subscriber of subscribers) subscriber.started();
    return true;
  }

  /** Reads until the outbox has nothing more below its horizon; a failure waits for the next poll. */
  async function catchUp(from: EventPosition | null): Promise<void> {
    let after = from;
    for (;;) {
      let batch: StoredEvent[];
      try {
        batch = await log.readAfter(after, { limit: batchSize });
      } catch (error) {
        logger.warn({ err: error }, 'could not read the outbox; trying again at the next poll');
        return;
      }
      for (const stored of batch) {
        for (const subscriber of subscribers) if (subscriber.workspaceId === stored.event.workspaceId) subscriber.push(stored);
        after = stored.position;
        position = after;
      }
      if (batch.length < batchSize || closed || subscribers.size === 0) return;
    }
  }

  async function run(): Promise<void> {
    while (!closed && subscribers.size > 0) {
      wokenEarly = false;
      if (position === undefined) {
        if (!(await start())) continue;
      } else {
        await catchUp(position);
      }
      await sleep();
    }
    // The next subscriber after a quiet spell starts from the head again.
    position = undefined;
    loop = undefined;
  }

  function ensureRunning(): void {
    loop ??= run();
  }

  function remove(subscriber: Subscriber): void {
    subscribers.delete(subscriber);
  }

  return {
    subscribe(workspaceId, subscribeOptions = {}) {
      const subscriber = new Subscriber(workspaceId, maxQueued, remove, logger);
      if (closed) {
        subscriber.end('the event feed is closed');
        return subscriber;
      }
      subscribers.add(subscriber);
      if (position !== undefined) subscriber.started();
      const { signal } = subscribeOptions;
      if (signal) {
        if (signal.aborted) subscriber.end('the client went away');
        else signal.addEventListener('abort', () => subscriber.end('the client went away'), { once: true });
      }
      ensureRunning();
      return subscriber;
    },

    async close() {
      if (!closed) {
        closed = true;
        stopListening();
        for (const subscriber of [...subscribers]) subscriber.end('the server is shutting down');
        wakeUp?.();
      }
      await loop;
    },
  };
}

type Waiter = { resolve(result: IteratorResult<StoredEvent>): void; reject(error: unknown): void };

/** One subscription: a bounded queue of events and at most one reader waiting on it. */
class Subscriber implements FeedSubscription {
  readonly ready: Promise<void>;
  private markStarted!: () => void;
  private markFailed!: (error: unknown) => void;
  private readonly queue: StoredEvent[] = [];
  private waiter: Waiter | undefined;
  private ending: Error | undefined;
  private finished = false;

  constructor(
    readonly workspaceId: string,
    private readonly maxQueued: number,
    private readonly onEnd: (subscriber: Subscriber) => void,
    private readonly logger: Logger,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markStarted = resolve;
      this.markFailed = reject;
    });
    // A subscription closed before anyone awaited `ready` must not leave an unhandled rejection.
    this.ready.catch(() => {});
  }

  started(): void {
    this.markStarted();
  }

  push(stored: StoredEvent): void {
    if (this.finished) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ value: stored, done: false });
      return;
    }
    this.queue.push(stored);
    if (this.queue.length > this.maxQueued) {
      this.logger.warn({ workspace: this.workspaceId, queued: this.queue.length }, 'a live subscription fell too far behind; ending it');
      this.end('the subscription fell too far behind');
    }
  }

  /** Ends it as aborted: what is queued is dropped, the reader resumes from its last event after reconnecting. */
  end(reason: string): void {
    this.fail(new DOMException(reason, 'AbortError'));
  }

  fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.length = 0;
    this.ending = error instanceof Error ? error : new Error(String(error));
    this.markFailed(this.ending);
    this.onEnd(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.ending);
  }

  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.length = 0;
    this.markStarted();
    this.onEnd(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    return {
      next: () => {
        const stored = this.queue.shift();
        if (stored) return Promise.resolve({ value: stored, done: false });
        if (this.ending) return Promise.reject(this.ending);
        if (this.finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
