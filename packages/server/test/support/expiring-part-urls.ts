import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from '../../src/storage/store.js';

/** The shortest lifetime a store signs (whole seconds, at least 1). */
const SHORT_LIFETIME_S = 1;

/**
 * The store, except that its first `batches` calls of signPartUrls sign URLs that live one
 * second and hand them out only once that second is over: part URLs that waited too long in a
 * queue or a paused tab. The caller is told the usual lifetime, so it uses them; the store itself
 * refuses them as expired, which is what the test is about. Later batches are signed as asked.
 */
export function expireFirstPartUrls<Store extends ObjectStore>(store: Store, batches = 1): Store & { expiredBatches(): number } {
  let expired = 0;
  return {
    ...store,
    expiredBatches: () => expired,
    signPartUrls: async (key, uploadId, partNumbers, expiresIn, options) => {
      if (expired >= batches) return store.signPartUrls(key, uploadId, partNumbers, expiresIn, options);
      expired += 1;
      const urls = await store.signPartUrls(key, uploadId, partNumbers, SHORT_LIFETIME_S, options);
      // An expiry is a whole second after the second of signing: past it, whatever the clock's phase.
      await sleep(2 * SHORT_LIFETIME_S * 1000 + 50);
      return urls;
    },
  };
}
