import type { RequestHandler } from 'express';

/**
 * Whether this instance is shutting down. Readiness reports it so the load balancer stops
 * sending traffic, and answers close their connections so keep-alive clients move elsewhere.
 */
export interface DrainState {
  readonly draining: boolean;
  begin(): void;
  /**
   * Called once when draining begins: for requests that would never finish by themselves (event
   * streams), which would otherwise hold the shutdown for its whole grace period.
   */
  onBegin(listener: () => void): void;
}

export function createDrainState(): DrainState {
  let draining = false;
  const listeners: Array<() => void> = [];
  return {
    get draining() {
      return draining;
    },
    begin() {
      if (draining) return;
      draining = true;
      for (const listener of listeners.splice(0)) listener();
    },
    onBegin(listener) {
      if (draining) listener();
      else listeners.push(listener);
    },
  };
}

/** While draining, every answer carries `Connection: close`; Node then ends the socket after it. */
export function closeConnectionsWhileDraining(state: DrainState): RequestHandler {
  return (_req, res, next) => {
    if (state.draining) res.setHeader('Connection', 'close');
    next();
  };
}
