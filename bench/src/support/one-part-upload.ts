import { trpcMutation } from './http.js';

export interface OnePartUploadTimes {
  /** upload.start, client wall. */
  startMs: number;
  /** upload.complete, client wall. */
  completeMs: number;
}

/**
 * A one-part upload through the API, as the client makes it: start, sign, PUT, complete. Only
 * start and complete are timed (client wall, HTTP on loopback), not the signing or the part's PUT.
 */
export async function uploadOnePart(url: string, workspaceId: string, partBody: Buffer<ArrayBuffer>): Promise<OnePartUploadTimes> {
  let begun = performance.now();
  const upload = await trpcMutation<{ uploadId: string; assetId: string }>(url, 'upload.start', {
    workspaceId,
    fileType: 'application/octet-stream',
    fileName: 'bench.bin',
    fileSize: partBody.length,
    partSize: partBody.length,
  });
  const startMs = performance.now() - begun;
  const ref = { workspaceId, assetId: upload.assetId, uploadId: upload.uploadId };
  const signed = await trpcMutation<{ parts: Array<{ url: string }> }>(url, 'upload.signParts', {
    ...ref,
    partNumbers: [1],
    partSizes: [partBody.length],
  });
  const put = await fetch(signed.parts[0]!.url, { method: 'PUT', body: partBody });
  await put.arrayBuffer();
  const etag = put.headers.get('etag');
  if (!put.ok || !etag) throw new Error(`the part PUT answered ${put.status}`);
  begun = performance.now();
  await trpcMutation(url, 'upload.complete', { ...ref, parts: [{ partNumber: 1, etag }] });
  return { startMs, completeMs: performance.now() - begun };
}
