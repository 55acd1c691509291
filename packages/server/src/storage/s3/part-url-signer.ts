import { setImmediate as nextTurn } from 'node:timers/promises';
import { type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AwsCredentialIdentity } from '@smithy/types';
import { LRUCache } from 'lru-cache';
import { SHA256_HEADER } from '../checksum.js';
import { compilePartUrlPlan } from './part-url-plan.js';
import { UnsupportedSigningError, UploadPartRequestCache } from './upload-part-request.js';

export interface PartUrlBatch {
  bucket: string;
  key: string;
  uploadId: string;
  partNumbers: readonly number[];
  /** Per part number, the exact body size its URL accepts (a signed content-length header). */
  contentLengths?: readonly number[] | undefined;
  /** Per part number, the base64 SHA-256 its body must have (a signed x-amz-checksum-sha256 header). */
  checksums?: readonly string[] | undefined;
  expiresIn: number;
  signingDate: Date;
}

/** A compiled plan answers at once; the SDK's fallback answers with a promise. */
type AnyPartUrlPlan = (partNumber: number, contentLength?: number, checksum?: string) => string | Promise<string>;

/** Which of the (at most four) requests of an upload a part needs: they differ by their signed headers. */
interface PlanKind {
  pinned: boolean;
  checksummed: boolean;
}

/** Parts signed between two turns of the event loop: about 4 ms of work, so other requests are not held up. */
const PARTS_PER_TURN = 1024;

/** Plans kept per identity: each serves one upload's signings within one second. */
const PLANS_PER_IDENTITY = 256;

/**
 * Presigned UploadPart URLs, byte for byte what `getSignedUrl` returns for the same signing time
 * and credentials, at a few microseconds per URL instead of hundreds.
 *
 * Per batch: the credentials are resolved once through the client's own provider (which
 * refreshes expiring session credentials, so nothing here outlives a batch), the SDK builds the
 * request once per upload (cached) and presigns it once (see part-url-plan.ts). Per part only
 * the SHA-256 and HMAC that SigV4 requires remain. Requests the plan cannot reproduce are signed
 * by `getSignedUrl`, part by part, as before.
 */
export class PartUrlSigner {
  readonly #requests = new UploadPartRequestCache();
  /**
   * Compiled plans by identity (the provider hands out one object until it refreshes), then by
   * upload, kind, lifetime and signing second. X-Amz-Date holds whole seconds, so a plan
   * compiled for one instant signs every part of that second byte for byte as the SDK would:
   * signing calls of one upload close together (Uppy's part-by-part signing of its first parts,
   * a burst of retries) then pay the presign once rather than each.
   */
  readonly #plans = new WeakMap<AwsCredentialIdentity, LRUCache<string, Promise<AnyPartUrlPlan>>>();

  constructor(private readonly client: S3Client) {}

  async sign(batch: PartUrlBatch): Promise<string[]> {
    const credentials = await this.client.config.credentials();
    const lengths = batch.contentLengths;
    const checksums = batch.checksums;
    const kindOf = (index: number) => (lengths?.[index] !== undefined ? 1 : 0) + (checksums?.[index] !== undefined ? 2 : 0);
    const kinds = new Set(batch.partNumbers.map((_, index) => kindOf(index)));
    const plans = new Map(
      await Promise.all(
        [...kinds].map(
          async (kind) =>
            [kind, await this.#plan(batch, { pinned: (kind & 1) === 1, checksummed: (kind & 2) === 2 }, credentials)] as const,
        ),
      ),
    );

    const urls: Array<string | Promise<string>> = [];
    let pending = false;
    for (const [index, partNumber] of batch.partNumbers.entries()) {
      if (index > 0 && index % PARTS_PER_TURN === 0) await nextTurn();
      const url = plans.get(kindOf(index))!(partNumber, lengths?.[index], checksums?.[index]);
      pending ||= typeof url !== 'string';
      urls.push(url);
    }
    return pending ? Promise.all(urls) : (urls as string[]);
  }

  #plan(batch: PartUrlBatch, kind: PlanKind, credentials: AwsCredentialIdentity): Promise<AnyPartUrlPlan> {
    const { bucket, key, uploadId, signingDate, expiresIn } = batch;
    let plans = this.#plans.get(credentials);
    if (!plans) {
      plans = new LRUCache({ max: PLANS_PER_IDENTITY });
      this.#plans.set(credentials, plans);
    }
    const second = Math.floor(signingDate.getTime() / 1000);
    const id = `${bucket}\n${key}\n${uploadId}\n${kind.pinned}\n${kind.checksummed}\n${expiresIn}\n${second}`;
    const cached = plans.get(id);
    if (cached) return cached;
    const compiled = this.#compile(batch, kind, credentials);
    plans.set(id, compiled);
    // A failed compile is not remembered: the next batch tries again.
    compiled.catch(() => {
      if (plans.get(id) === compiled) plans.delete(id);
    });
    return compiled;
  }

  async #compile(batch: PartUrlBatch, kind: PlanKind, credentials: AwsCredentialIdentity): Promise<AnyPartUrlPlan> {
    const { bucket, key, uploadId, signingDate, expiresIn } = batch;
    try {
      const request = await this.#requests.get(this.client, { bucket, key, uploadId, ...kind });
      const plan = await compilePartUrlPlan(this.client, request, { credentials, signingDate, expiresIn });
      if (plan) return plan;
    } catch (error) {
      if (!(error instanceof UnsupportedSigningError)) throw error;
    }
    return sdkPlan(this.client, batch);
  }
}

/** The SDK's whole presigning path for each part: slow, but right for anything it supports. */
function sdkPlan(client: S3Client, batch: PartUrlBatch): AnyPartUrlPlan {
  const { bucket, key, uploadId, signingDate, expiresIn } = batch;
  return (partNumber, contentLength, checksum) => {
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      ContentLength: contentLength,
      ChecksumSHA256: checksum,
    });
    // A signed content-length makes S3 refuse a body of any other size (SignatureDoesNotMatch),
    // a signed checksum header a body with other bytes (BadDigest).
    const signed = [...(contentLength === undefined ? [] : ['content-length']), ...(checksum === undefined ? [] : [SHA256_HEADER])];
    const pin = signed.length === 0 ? {} : { signableHeaders: new Set(signed) };
    const keep = checksum === undefined ? {} : { unhoistableHeaders: new Set([SHA256_HEADER]) };
    return getSignedUrl(client, command, { expiresIn, signingDate, ...pin, ...keep });
  };
}
