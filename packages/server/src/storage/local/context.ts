import type { KeyedLock } from './keyed-lock.js';
import type { Layout } from './layout.js';

/** What the driver's operations share: where files go, the in-process locks and the clock. */
export interface LocalContext {
  readonly layout: Layout;
  readonly locks: KeyedLock;
  /** Milliseconds; injectable so tests can expire URLs without waiting. */
  readonly now: () => number;
  /** Smallest size of every part but the last, as S3's EntityTooSmall rule. */
  readonly minPartSize: number;
}
