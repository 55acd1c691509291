import { AppError } from '../errors.js';

/**
 * Why a store cannot serve. The start-up check turns these into advice naming the setting to fix,
 * so the drivers say what they saw and never which environment variable that is.
 */
export type NotReadyReason =
  | 'missing-bucket'
  | 'access-denied'
  | 'no-credentials'
  | 'unreachable'
  | 'timeout'
  | 'missing-folder'
  | 'not-a-folder'
  | 'failed';

export class StoreNotReadyError extends AppError {
  readonly reason: NotReadyReason;

  constructor(reason: NotReadyReason, message: string, options: { cause?: unknown } = {}) {
    super(reason === 'timeout' ? 'STORE_TIMEOUT' : 'S3_ERROR', message, options);
    this.name = 'StoreNotReadyError';
    this.reason = reason;
  }
}

/**
 * Runs a readiness check with a deadline of its own: the driver gets the signal to stop its
 * request, and the caller is answered on time even if a driver ignored the signal.
 */
export async function checkReadyWithin(check: (options: { signal: AbortSignal }) => Promise<void>, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new StoreNotReadyError('timeout', `the store did not answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    await Promise.race([check({ signal: controller.signal }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
