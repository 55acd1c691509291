import { GetObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SignPartOptions } from '../store.js';
import type { S3Context } from './context.js';
import { toStoreError } from './errors.js';
import { assertPlausibleUploadId } from './upload-id.js';

/**
 * Presigned UploadPart URLs for a browser to PUT part bytes to S3 directly. Signing is local
 * (credentials and HMAC, no request to S3), so many parts cost one upload check, done by the
 * caller with `assertUploadOpen`. The store's clock is the signing date so tests can mint
 * URLs that are already expired.
 */
export async function signPartUrls(
  s3: S3Context,
  key: string,
  uploadId: string,
  partNumbers: readonly number[],
  expiresIn: number,
  options: SignPartOptions = {},
): Promise<string[]> {
  assertPlausibleUploadId(uploadId);
  const signingDate = new Date(s3.now());
  const lengths = options.contentLengths;
  try {
    return await Promise.all(
      partNumbers.map((partNumber, index) => {
        const contentLength = lengths?.[index];
        const command = new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, ContentLength: contentLength });
        // A signed content-length makes S3 refuse a body of any other size (SignatureDoesNotMatch).
        const pin = contentLength === undefined ? {} : { signableHeaders: new Set(['content-length']) };
        return getSignedUrl(s3.client, command, { expiresIn, signingDate, ...pin });
      }),
    );
  } catch (error) {
    throw toStoreError(error, 'presign UploadPart');
  }
}

/**
 * A presigned GET of the object. S3 is told to serve it as an attachment: the content type was
 * chosen by the uploader, and an inline text/html or SVG object would run as a page of the
 * bucket's origin when the link is opened.
 */
export async function signGetUrl(s3: S3Context, key: string, expiresIn: number): Promise<string> {
  try {
    return await getSignedUrl(
      s3.client,
      new GetObjectCommand({ Bucket: s3.bucket, Key: key, ResponseContentDisposition: 'attachment' }),
      { expiresIn, signingDate: new Date(s3.now()) },
    );
  } catch (error) {
    throw toStoreError(error, 'presign GetObject');
  }
}
