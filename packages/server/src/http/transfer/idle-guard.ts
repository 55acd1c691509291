import { pipeline, type Readable, Transform, type Writable } from 'node:stream';
import { AppError } from '../../errors.js';
import type { SendQueueProbe } from './send-queue.js';

/** Where a guarded body goes, and how to see its reader take bytes. */
export interface GuardedReader {
  /** The response; `writableNeedDrain` says it waits on the reader rather than on the store. */
  response: Writable;
  /** Bytes the kernel still holds for the reader's socket (see send-queue.ts). */
  sendQueue: SendQueueProbe;
}

/**
 * Passes bytes through and fails when the download stopped moving for `idleMs`, telling the two
 * reasons apart:
 * - the store stalls: no bytes arrived while the response was ready for more;
 * - the reader stalls: the response waits on the reader (backpressure) and its socket took
 *   nothing either. A slow reader is not a stalled one: several MiB of socket buffers sit
 *   between the two, so Node sees bytes leave only in steps of megabytes; the kernel's send
 *   queue (`sendQueue`) shrinks as the reader acknowledges bytes. A reader is cut once that
 *   queue stood still between two looks `idleMs` apart, so within twice `idleMs` of its last
 *   byte; where the queue cannot be read, after `idleMs` without a step Node saw.
 * Either way the stream is destroyed, which closes the S3 socket or the file handle, and the
 * HTTP response is cut, so neither side can hold a socket forever.
 */
export function withIdleTimeout(body: Readable, idleMs: number, reader?: GuardedReader): Readable {
  let timer: NodeJS.Timeout | undefined;
  /** Bumped by every sign of life, so a look at the queue that outlived one is dropped. */
  let moves = 0;
  /** The queue at the last look since the last sign of life. */
  let queueSeen: number | undefined;
  const guard = new Transform({
    transform(chunk, _encoding, callback) {
      moved();
      callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(timer);
      callback();
    },
  });
  // Re-armed for every chunk: refresh() moves the one timer instead of making a new one each time.
  const arm = () => {
    if (timer) {
      timer.refresh();
      return;
    }
    timer = setTimeout(() => void check(), idleMs);
    timer.unref();
  };
  const moved = () => {
    moves += 1;
    queueSeen = undefined;
    arm();
  };
  const check = async () => {
    if (!reader?.response.writableNeedDrain) {
      guard.destroy(new AppError('STORE_TIMEOUT', `download stalled: the store sent no bytes for ${idleMs} ms`));
      return;
    }
    const movesBefore = moves;
    const queue = await reader.sendQueue().catch(() => undefined);
    if (guard.destroyed || moves !== movesBefore) return;
    // An empty queue: the reader took everything, and Node is about to hand the kernel more.
    if (queue !== undefined && (queue === 0 || queue !== queueSeen)) {
      queueSeen = queue;
      arm();
      return;
    }
    guard.destroy(new Error(`download cut: the reader took no bytes for ${idleMs} ms`));
  };
  reader?.response.on('drain', moved);
  guard.once('close', () => {
    clearTimeout(timer);
    reader?.response.off('drain', moved);
  });
  arm();
  // pipeline, not pipe: whichever side fails or closes early, the other is destroyed too.
  pipeline(body, guard, () => {});
  return guard;
}
