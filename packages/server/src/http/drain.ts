import type { RequestHandler } from 'express';

/**
 * Whether this instance is shutting down. Readiness reports it so the load balancer stops
 * sending traffic, and answers close their connections so keep-alive clients move elsewhere.
 */
export interface DrainState {
  readonly draining: boolean;
  begin(): void;
}

export function createDrainState(): DrainState {
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    begin() {
      draining = true;
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
