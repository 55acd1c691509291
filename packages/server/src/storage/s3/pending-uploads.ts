import { ListMultipartUploadsCommand, type ListMultipartUploadsCommandOutput } from '@aws-sdk/client-s3';
import type { PendingUpload } from '../store.js';
import type { S3Context } from './context.js';
import { toStoreError } from './errors.js';

/** Every unfinished multipart upload of the bucket, page by page (S3 returns up to 1000 a page). */
export async function* listPendingUploads(s3: S3Context, initiatedBefore: Date): AsyncIterable<PendingUpload> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    let page: ListMultipartUploadsCommandOutput;
    try {
      page = await s3.client.send(
        new ListMultipartUploadsCommand({ Bucket: s3.bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
    } catch (error) {
      throw toStoreError(error, 'ListMultipartUploads');
    }
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || !upload.Initiated) continue;
      if (upload.Initiated < initiatedBefore) yield { key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated };
    }
    const nextKey = page.NextKeyMarker;
    const nextUploadId = page.NextUploadIdMarker;
    // A server that claims more pages without moving the markers would otherwise loop forever.
    if (!page.IsTruncated || (nextKey === keyMarker && nextUploadId === uploadIdMarker)) return;
    keyMarker = nextKey;
    uploadIdMarker = nextUploadId;
  }
}
