import { abortError } from './abort.js';
import { toServiceError } from './errors.js';

/**
 * Runs one tRPC call and translates its failure: an S3ServiceError with the service's code, or
 * an AbortError when `signal` fired (tRPC reports an aborted call in more than one way).
 */
export async function callService<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (signal?.aborted) throw abortError(signal);
    throw toServiceError(error);
  }
}
