import type { Express } from 'express';

/**
 * What an app runs besides answering requests (the outbox's readers), stopped with it: `listen`'s
 * close stops them once the server has drained, and an embedder that serves the app itself calls
 * closeApp before closing the catalogue.
 */
const stoppers = new WeakMap<Express, () => Promise<void>>();

export function registerAppStopper(app: Express, stop: () => Promise<void>): void {
  stoppers.set(app, stop);
}

/** Stops the app's background work (idempotent); an app without any resolves at once. */
export async function closeApp(app: Express): Promise<void> {
  await stoppers.get(app)?.();
}
