import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AppError } from '../../errors.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, compositeFromS3, type ObjectChecksum } from '../checksum.js';
import { assertPartList, quoteEtag } from '../multipart.js';
import type { CompletedPart, CreateUploadOptions, OpenUploadFacts, StoredPart } from '../store.js';
import type { S3Context } from './context.js';
import { type ExpectedFailures, toStoreError } from './errors.js';
import { assertPlausibleUploadId } from './upload-id.js';

/** S3 says NoSuchUpload for ids that are unknown, completed, aborted or of another key. */
const uploadNotFound: ExpectedFailures = {
  NoSuchUpload: { code: 'INVALID_UPLOAD_ID', message: 'upload not found: it is unknown, finished, aborted or of another key' },
  '404': { code: 'INVALID_UPLOAD_ID', message: 'upload not found: it is unknown, finished, aborted or of another key' },
};

/** The answers by which S3 refuses to assemble parts: the caller's list does not fit what was uploaded. */
const assemblyRefused: ExpectedFailures = {
  ...uploadNotFound,
  InvalidPart: { code: 'UPLOAD_FAILED', message: 'S3 refused to assemble the upload: a part is missing or its ETag does not match' },
  InvalidPartOrder: { code: 'UPLOAD_FAILED', message: 'S3 refused to assemble the upload: parts must be listed in ascending order' },
  EntityTooSmall: { code: 'UPLOAD_FAILED', message: 'S3 refused to assemble the upload: every part but the last must be at least 5 MiB' },
  BadDigest: { code: 'CHECKSUM_MISMATCH', message: "S3 refused to assemble the upload: a part's checksum does not match" },
  InvalidRequest: { code: 'UPLOAD_FAILED', message: 'S3 refused to assemble the upload' },
};

export async function createMultipartUpload(
  s3: S3Context,
  key: string,
  contentType: string,
  options: CreateUploadOptions = {},
): Promise<{ uploadId: string }> {
  try {
    const output = await s3.client.send(
      new CreateMultipartUploadCommand({
        Bucket: s3.bucket,
        Key: key,
        ContentType: contentType,
        ChecksumAlgorithm: options.checksumAlgorithm,
      }),
    );
    if (!output.UploadId) throw new AppError('S3_ERROR', 'S3 CreateMultipartUpload answered without an UploadId');
    return { uploadId: output.UploadId };
  } catch (error) {
    throw toStoreError(error, 'CreateMultipartUpload');
  }
}

/**
 * One ListParts call: it fails with NoSuchUpload exactly when the upload is not open for this key,
 * and names the checksum algorithm the upload was started with.
 */
export async function assertUploadOpen(s3: S3Context, key: string, uploadId: string): Promise<OpenUploadFacts> {
  assertPlausibleUploadId(uploadId);
  try {
    const output = await s3.client.send(new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, MaxParts: 1 }));
    const algorithm = knownAlgorithm(output.ChecksumAlgorithm);
    return algorithm ? { checksumAlgorithm: algorithm } : {};
  } catch (error) {
    throw toStoreError(error, 'ListParts', uploadNotFound);
  }
}

function knownAlgorithm(name: string | undefined): ChecksumAlgorithm | undefined {
  return CHECKSUM_ALGORITHMS.find((algorithm) => algorithm === name);
}

export async function listParts(s3: S3Context, key: string, uploadId: string): Promise<StoredPart[]> {
  assertPlausibleUploadId(uploadId);
  const parts: StoredPart[] = [];
  let marker: string | undefined;
  try {
    // S3 returns at most 1000 parts per page; an upload may hold 10,000.
    for (;;) {
      const page = await s3.client.send(
        new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber === undefined || part.ETag === undefined) continue;
        const stored: StoredPart = { partNumber: part.PartNumber, etag: quoteEtag(part.ETag), size: part.Size ?? 0 };
        if (part.ChecksumSHA256) stored.checksum = part.ChecksumSHA256;
        parts.push(stored);
      }
      const next = page.NextPartNumberMarker;
      // A server that claims more pages without moving the marker would otherwise loop forever.
      if (!page.IsTruncated || next === undefined || next === marker) break;
      marker = next;
    }
  } catch (error) {
    throw toStoreError(error, 'ListParts', uploadNotFound);
  }
  return parts;
}

/** A part sent by this server (not through a signed URL); the body is in memory, so its length is known. */
export async function uploadPart(
  s3: S3Context,
  key: string,
  uploadId: string,
  partNumber: number,
  body: Uint8Array,
): Promise<{ etag: string; size: number }> {
  assertPlausibleUploadId(uploadId);
  try {
    const output = await s3.client.send(
      new UploadPartCommand({
        Bucket: s3.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.byteLength,
      }),
    );
    if (!output.ETag) throw new AppError('S3_ERROR', 'S3 UploadPart answered without an ETag');
    return { etag: quoteEtag(output.ETag), size: body.byteLength };
  } catch (error) {
    throw toStoreError(error, 'UploadPart', uploadNotFound);
  }
}

export async function completeMultipartUpload(
  s3: S3Context,
  key: string,
  uploadId: string,
  parts: readonly CompletedPart[],
): Promise<{ etag: string; checksum?: ObjectChecksum }> {
  assertPartList(parts);
  // S3-compatible servers differ on completing an upload that is already finished: AWS may
  // repeat the earlier answer, versitygw answers 200 with a made-up ETag whenever an object
  // exists at the key, even for an id it never issued. The interface promises INVALID_UPLOAD_ID
  // for every finished or unknown upload (the router then judges retries by the object's ETag),
  // so the upload is checked first: one ListParts per completion, not per part.
  await assertUploadOpen(s3, key, uploadId);
  try {
    // Errors that S3 sends inside a 200 answer are turned into exceptions by the SDK, so they
    // arrive in the catch below like any other failure.
    const output = await s3.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: s3.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: quoteEtag(part.etag), ChecksumSHA256: part.checksum })),
        },
      }),
    );
    if (!output.ETag) throw new AppError('S3_ERROR', 'S3 CompleteMultipartUpload answered without an ETag');
    const checksum = compositeFromS3(output.ChecksumSHA256);
    return checksum ? { etag: quoteEtag(output.ETag), checksum } : { etag: quoteEtag(output.ETag) };
  } catch (error) {
    throw toStoreError(error, 'CompleteMultipartUpload', assemblyRefused);
  }
}

/**
 * MinIO answers 204 to an abort of an id it never issued, and AWS may too for an upload it already
 * dropped; the interface promises INVALID_UPLOAD_ID for those, so the upload is checked first.
 */
export async function abortMultipartUpload(s3: S3Context, key: string, uploadId: string): Promise<void> {
  await assertUploadOpen(s3, key, uploadId);
  try {
    await s3.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId }));
  } catch (error) {
    throw toStoreError(error, 'AbortMultipartUpload', uploadNotFound);
  }
}
