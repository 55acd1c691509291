import type { TRPCClient } from '@trpc/client';
import { sleep } from '../abort.js';
import type { AppRouter } from '../contract.js';
import { S3ServiceError } from '../errors.js';
import { type RetryPolicy, withRetries } from '../retry.js';
import { callService } from '../service-call.js';
import type { PartToSign } from './checksummed-part-urls.js';
import type { SignedParts } from './part-urls.js';

/** Which upload a call is about. */
export interface UploadRef {
  workspaceId: string;
  assetId: string;
  uploadId: string;
}

/** A part the server already holds for an upload being resumed (not the server's StoredPart type). */
export interface PartOnServer {
  etag: string;
  size: number;
  /** Base64 SHA-256 the store verified the part against, for checksummed uploads. */
  checksum?: string;
}

/** What a resumed upload holds, and whether its parts must be checksummed. */
export interface UploadOnServer {
  parts: Map<number, PartOnServer>;
  checksumAlgorithm?: 'SHA256';
}

/** Abort and check; a late part that lands within the recheck delay is aborted in the next round. */
const ABORT_ROUNDS = 4;
const ABORT_RECHECK_MS = 250;

/**
 * The tRPC calls of the multipart flow. The idempotent ones (list, sign, complete, abort, delete)
 * are retried after transient failures; the server's complete even succeeds when a retry finds
 * the object already assembled from the same parts.
 */
/** What the server records of a new upload: its type, and the name, size and part size when known. */
export interface StartDetails {
  fileType: string;
  fileName?: string;
  fileSize?: number;
  partSize?: number;
  /** Parts are then signed with their SHA-256 and held to it by the store. */
  checksumAlgorithm?: 'SHA256';
}

export function uploadService(trpc: TRPCClient<AppRouter>, retry: RetryPolicy) {
  const retried = <T>(call: () => Promise<T>, signal?: AbortSignal) => withRetries(() => callService(call, signal), retry, signal);

  return {
    /** Never retried: a start whose answer was lost would leave an upload nobody knows of. */
    async start(workspaceId: string, file: StartDetails): Promise<UploadRef> {
      const started = await callService(() => trpc.upload.start.mutate({ workspaceId, ...file }));
      return { workspaceId, assetId: started.assetId, uploadId: started.uploadId };
    },

    async listParts(ref: UploadRef, signal?: AbortSignal): Promise<UploadOnServer> {
      const listed = await retried(() => trpc.upload.listParts.query(ref, { signal }), signal);
      const parts = new Map(
        listed.parts.map((part) => {
          const onServer: PartOnServer = { etag: part.etag, size: part.size };
          if (part.checksum) onServer.checksum = part.checksum;
          return [part.partNumber, onServer];
        }),
      );
      return listed.checksumAlgorithm ? { parts, checksumAlgorithm: listed.checksumAlgorithm } : { parts };
    },

    signParts(ref: UploadRef, partNumbers: number[], signal?: AbortSignal): Promise<SignedParts> {
      return retried(() => trpc.upload.signParts.mutate({ ...ref, partNumbers }, { signal }), signal);
    },

    /** Each URL then takes only a body of that size and SHA-256. */
    signChecksummed(ref: UploadRef, parts: PartToSign[], signal?: AbortSignal): Promise<SignedParts> {
      const input = {
        ...ref,
        partNumbers: parts.map((part) => part.partNumber),
        partSizes: parts.map((part) => part.size),
        checksums: parts.map((part) => part.checksum),
      };
      return retried(() => trpc.upload.signParts.mutate(input, { signal }), signal);
    },

    complete(ref: UploadRef, parts: Array<{ partNumber: number; etag: string }>) {
      return retried(() => trpc.upload.complete.mutate({ ...ref, parts }));
    },

    /**
     * Best effort, for clean-up after an abort. S3 warns that a part PUT still being processed
     * when the upload is aborted may land afterwards and bring the upload back, so the abort is
     * checked with listParts, once at once and once a little later, and repeated until the
     * upload stays gone.
     */
    async abort(ref: UploadRef): Promise<void> {
      // 'unknown' (the service cannot be asked) ends the clean-up: it is best effort.
      const state = () =>
        callService(() => trpc.upload.listParts.query(ref)).then(
          () => 'present' as const,
          (error: unknown) => (error instanceof S3ServiceError && error.code === 'INVALID_UPLOAD_ID' ? 'gone' : 'unknown'),
        );
      for (let round = 0; round < ABORT_ROUNDS; round++) {
        await retried(() => trpc.upload.abort.mutate(ref)).catch(() => {});
        let seen = await state();
        if (seen === 'gone') seen = await sleep(ABORT_RECHECK_MS).then(state);
        if (seen !== 'present') return;
      }
    },

    /** Best effort, for an abort that came while complete was assembling the object. */
    async deleteObject(workspaceId: string, key: string): Promise<void> {
      await retried(() => trpc.object.delete.mutate({ workspaceId, key })).catch(() => {});
    },
  };
}

export type UploadService = ReturnType<typeof uploadService>;
