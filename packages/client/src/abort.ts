/**
 * Abort helpers. Whatever reason a caller passes to `abort()`, the client rejects with a
 * DOMException named 'AbortError', which is what `fetch` and the platform do.
 */

export function abortError(signal?: AbortSignal): DOMException {
  const reason: unknown = signal?.reason;
  if (reason instanceof DOMException && reason.name === 'AbortError') return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}

export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null | undefined)?.name === 'AbortError';
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Waits `ms`, or rejects with an AbortError as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, or rejects with an AbortError when `signal` fires first. For waits
 * that cannot be cancelled themselves, such as the next chunk of a caller's stream.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A controller that also fires when `parent` does; `dispose` unhooks it from the parent. */
export function childController(parent: AbortSignal | undefined): { controller: AbortController; dispose(): void } {
  const controller = new AbortController();
  if (!parent) return { controller, dispose: () => {} };
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return { controller, dispose: () => parent.removeEventListener('abort', onAbort) };
}

/**
 * A signal for one request that follows `outer`, except that a request which has nothing left to
 * send (`finishing()` is true) gets up to `graceMs` to receive its answer first. Cutting such a
 * request would not stop the server: it may still store what it received after the caller
 * thinks everything has stopped.
 */
export function graceSignal(outer: AbortSignal, finishing: () => boolean, graceMs: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    if (!finishing()) controller.abort(outer.reason);
    else timer = setTimeout(() => controller.abort(outer.reason), graceMs);
  };
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      outer.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    },
  };
}

/**
 * A signal that fires when `first` or `second` does (with that one's reason); `dispose` unhooks
 * it. AbortSignal.any would do, but it arrived late in some browsers this package supports.
 */
export function eitherSignal(first: AbortSignal, second: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  if (!second) return { signal: first, dispose: () => {} };
  const controller = new AbortController();
  const fromFirst = () => controller.abort(first.reason);
  const fromSecond = () => controller.abort(second.reason);
  if (first.aborted) fromFirst();
  else if (second.aborted) fromSecond();
  else {
    first.addEventListener('abort', fromFirst, { once: true });
    second.addEventListener('abort', fromSecond, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      first.removeEventListener('abort', fromFirst);
      second.removeEventListener('abort', fromSecond);
    },
  };
}
