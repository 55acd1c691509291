import type { BlobPins } from './blob-pins.js';
import type { KeyedLock } from './keyed-lock.js';
import type { Layout } from './layout.js';
import type { OpenUploads } from './open-uploads.js';

/** What the driver's operations share: where files go, the in-process locks and caches, the clock. */
export interface LocalContext {
  readonly layout: Layout;
  readonly locks: KeyedLock;
  /** Records of open uploads, so part requests need not read them from disk. */
  readonly openUploads: OpenUploads;
  /** Blobs that downloads in this process are reading. */
  readonly pins: BlobPins;
  /** Milliseconds; injectable so tests can expire URLs without waiting. */
  readonly now: () => number;
  /** Smallest size of every part but the last, as S3's EntityTooSmall rule. */
  readonly minPartSize: number;
}
