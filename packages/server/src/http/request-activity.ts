import type { RequestHandler } from 'express';
import type { Foreground } from '../events/foreground.js';

/** How long no request must have run for the process to count as idle. */
const QUIET_MS = 1;

export interface RequestActivity extends Foreground {
  /** Counts each request from its arrival until its response is over; event streams, which never end, are left out. */
  readonly track: RequestHandler;
}

/** Which API requests are running, so background work can wait for a lull between them (foreground.ts). */
export function createRequestActivity(): RequestActivity {
  let running = 0;
  let quietSince: number | undefined = performance.now();
  let quietTimer: NodeJS.Timeout | undefined;
  const waiters = new Set<() => void>();

  const release = () => {
    for (const waiter of waiters) waiter();
    waiters.clear();
  };
  const ended = () => {
    running -= 1;
    if (running > 0) return;
    quietSince = performance.now();
    if (waiters.size > 0) armQuietTimer();
  };
  const armQuietTimer = () => {
    clearTimeout(quietTimer);
    quietTimer = setTimeout(() => {
      if (running === 0) release();
    }, QUIET_MS);
    quietTimer.unref();
  };

  return {
    track(req, res, next) {
      if (req.headers.accept?.includes('text/event-stream')) return next();
      running += 1;
      quietSince = undefined;
      clearTimeout(quietTimer);
      res.once('close', ended);
      next();
    },
    lull(maxWaitMs) {
      if (running === 0 && quietSince !== undefined && performance.now() - quietSince >= QUIET_MS) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timeout = setTimeout(done, maxWaitMs);
        timeout.unref();
        function done() {
          clearTimeout(timeout);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
        if (running === 0) armQuietTimer();
      });
    },
  };
}
