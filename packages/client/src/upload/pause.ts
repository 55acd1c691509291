import { abortError } from '../abort.js';

/**
 * The pause switch of one upload. Pausing is not aborting: the upload stays open on the server
 * and keeps its stored parts, so nothing here touches the upload's own signal. Workers ask
 * `whenRunning` before they take a part or start an attempt, and each PUT also follows `signal`,
 * which fires on `pause()` so that the PUTs in flight are cut (their bytes are sent again later).
 */
export class PauseGate {
  private controller = new AbortController();
  private resumed: { promise: Promise<void>; resolve(): void } | undefined;

  get paused(): boolean {
    return this.resumed !== undefined;
  }

  /** Fires when the upload is paused; a fresh one follows every `resume()`, so read it per attempt. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  pause(): void {
    if (this.resumed) return;
    let resolve!: () => void;
    const promise = new Promise<void>((settle) => {
      resolve = settle;
    });
    this.resumed = { promise, resolve };
    this.controller.abort(new DOMException('The upload was paused', 'AbortError'));
  }

  resume(): void {
    const resumed = this.resumed;
    if (!resumed) return;
    this.resumed = undefined;
    this.controller = new AbortController();
    resumed.resolve();
  }

  /** Resolves at once while running, else on `resume()`; rejects with an AbortError when `signal` fires first. */
  async whenRunning(signal: AbortSignal): Promise<void> {
    while (this.resumed) {
      if (signal.aborted) throw abortError(signal);
      const { promise } = this.resumed;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        void promise.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (signal.aborted) throw abortError(signal);
  }
}
