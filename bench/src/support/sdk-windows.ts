import { DEFAULT_CONCURRENCY } from '@s3-service/client';
// The SDK's signer, which its package does not export, from the source.
import { PartUrlSource, SIGN_FIRST_BATCH, SIGN_MAX_BATCH, type SignedParts } from '../../../packages/client/src/upload/part-urls.js';

/**
 * Gets a URL for every one of `parts` parts the way an upload of the SDK does when its parts are
 * not checksummed: its own `PartUrlSource`, with the windows and lookahead `sendParts` gives it
 * (packages/client/src/upload/send-parts.ts: from `SIGN_FIRST_BATCH` doubling to `SIGN_MAX_BATCH`,
 * lookahead `min(2 × concurrency, SIGN_FIRST_BATCH / 2)`, the count known; keep the two in step), asked by `DEFAULT_CONCURRENCY` workers that take
 * the next part as soon as they have the last one's URL. The PUTs are left out: what remains is
 * the signing an upload waits for when parts cost nothing. Checksummed uploads (the SDK's default
 * where WebCrypto is) sign each part once it is hashed, so their signing hides behind the reading.
 */
export async function signAsTheSdkDoes(
  sign: (partNumbers: number[], signal: AbortSignal) => Promise<SignedParts>,
  parts: number,
): Promise<number> {
  const controller = new AbortController();
  const concurrency = DEFAULT_CONCURRENCY;
  const source = new PartUrlSource({
    sign,
    wanted: () => true,
    lastPart: parts,
    firstBatch: SIGN_FIRST_BATCH,
    maxBatch: SIGN_MAX_BATCH,
    lookahead: Math.min(2 * concurrency, SIGN_FIRST_BATCH / 2),
    countKnown: true,
    signal: controller.signal,
  });
  let next = 1;
  let urls = 0;
  const worker = async () => {
    while (next <= parts) {
      const partNumber = next++;
      const signed = await source.url(partNumber);
      if (signed.url) urls++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    controller.abort();
  }
  return urls;
}
