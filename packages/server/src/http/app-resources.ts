import type { Express } from 'express';
import type { DrainState } from './drain.js';

/**
 * What an app runs besides answering requests (the outbox's readers), stopped with it: `listen`'s
 * close stops them once the server has drained, and an embedder that serves the app itself calls
 * closeApp before closing the catalogue.
 */
const stoppers = new WeakMap<Express, () => Promise<void>>();
const drains = new WeakMap<Express, DrainState>();

export function registerAppStopper(app: Express, stop: () => Promise<void>): void {
  stoppers.set(app, stop);
}

/** Stops the app's background work (idempotent); an app without any resolves at once. */
export async function closeApp(app: Express): Promise<void> {
  await stoppers.get(app)?.();
}

/** The app's drain state (createApp's), so `listen` begins it even when it was not handed one. */
export function registerAppDrain(app: Express, drain: DrainState): void {
  drains.set(app, drain);
}

/** Shutdown begins: readiness turns false and the app ends what would never finish by itself (event streams). */
export function beginAppDrain(app: Express): void {
  drains.get(app)?.begin();
}
