import { setImmediate as nextTurn } from 'node:timers/promises';

/** Longest stretch `forEachInSlices` keeps the event loop to itself. */
const SLICE_MS = 4;

/**
 * Runs a synchronous `task` for every item, yielding to the event loop every few milliseconds so
 * that other requests are served meanwhile.
 *
 * For thousands of small file-system calls (link, unlink: one per part of an upload) this is
 * faster than their promise versions by more than half: each promise call is a round trip through
 * libuv's thread pool (measured ~50 µs on a 2-core machine, against ~20 µs for the call itself),
 * and running several at once gains nothing because the kernel serializes updates of one folder.
 */
export async function forEachInSlices<T>(items: readonly T[], task: (item: T) => void): Promise<void> {
  let next = 0;
  while (next < items.length) {
    const sliceEnd = performance.now() + SLICE_MS;
    do task(items[next++]!);
    while (next < items.length && performance.now() < sliceEnd);
    if (next < items.length) await nextTurn();
  }
}
