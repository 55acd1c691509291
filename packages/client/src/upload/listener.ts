/**
 * Calls a caller's listener (onProgress, onRetry). Its exception must not break the upload (it
 * would look like a failed part): like an event listener's, it is reported on its own instead of
 * being thrown into the uploader.
 */
export function callListener<T>(listener: ((value: T) => void) | undefined, value: T): void {
  if (!listener) return;
  try {
    listener(value);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
