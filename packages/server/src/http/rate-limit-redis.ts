import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Logger } from '../logger.js';
import type { LimitName } from './rate-limit.js';
import type { WorkStore } from './rate-limit-work.js';

/** A Redis that does not answer within this is treated as down, and the request is let through. */
const COMMAND_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Adds to a window's count and starts the window on its first use, in one atomic step; answers
 * the total and the ms left. A key that lost its expiry somehow (PTTL -1) gets one again.
 */
const ADD_WORK_SCRIPT = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return { total, ttl }`;

export interface RedisLimitStores {
  createStore(name: LimitName): RedisStore;
  /** A counter of work (part URLs signed) shared by every instance; see WorkStore. */
  createWorkStore(name: 'signed-urls', windowMs: number): WorkStore;
  close(): Promise<void>;
}

/**
 * Rate-limit counters in Redis, so every instance behind the load balancer counts against the
 * same budgets. Connects before returning: an unreachable REDIS_URL stops the start, like a
 * missing bucket does. Later outages fail open (see `passOnStoreError`), with reconnects in the
 * background; commands never queue while disconnected, so a request never waits on Redis.
 */
export async function connectRedisLimitStores(url: string, logger: Logger): Promise<RedisLimitStores> {
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // The first connection gets no retries, so a wrong URL fails the start at once; after it,
      // reconnect with backoff for as long as it takes.
      reconnectStrategy: (retries, cause) => (connected ? Math.min(100 * 2 ** retries, 5_000) : cause),
    },
  });
  client.on('error', (error: unknown) => {
    // Before the first connection the error is thrown by connect() below; afterwards it is news.
    if (connected) logger.warn({ err: error }, 'redis (rate limits) connection failed; retrying');
  });
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw error;
  }
  connected = true;
  return {
    createStore: (name) =>
      new RedisStore({
        prefix: `s3-service:rate-limit:${name}:`,
        sendCommand: (...args: string[]) => client.sendCommand(args, { timeout: COMMAND_TIMEOUT_MS }),
      }),
    createWorkStore: (name, windowMs) => ({
      async add(key, amount) {
        const args = ['EVAL', ADD_WORK_SCRIPT, '1', `s3-service:rate-limit:${name}:${key}`, String(amount), String(windowMs)];
        const [total, ttl] = (await client.sendCommand(args, { timeout: COMMAND_TIMEOUT_MS })) as [number, number];
        return { total: Number(total), resetAt: Date.now() + Number(ttl) };
      },
    }),
    close: async () => {
      await client.close().catch(() => client.destroy());
    },
  };
}
