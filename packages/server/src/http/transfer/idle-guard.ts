import { pipeline, type Readable, Transform } from 'node:stream';
import { AppError } from '../../errors.js';

/**
 * Passes bytes through and fails when none moved for `idleMs`. Bytes stop for two reasons, and
 * both end here: the store stalls (nothing arrives) or the reader stalls (backpressure stops the
 * flow). Either way the stream is destroyed, which closes the S3 socket or the file handle, and
 * the HTTP response is cut, so neither side can hold a socket forever.
 */
export function withIdleTimeout(body: Readable, idleMs: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Transform({
    transform(chunk, _encoding, callback) {
      arm();
      callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(timer);
      callback();
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      guard.destroy(new AppError('STORE_TIMEOUT', `download stalled: no bytes moved for ${idleMs} ms`));
    }, idleMs);
    timer.unref();
  };
  guard.once('close', () => clearTimeout(timer));
  arm();
  // pipeline, not pipe: whichever side fails or closes early, the other is destroyed too.
  pipeline(body, guard, () => {});
  return guard;
}
