import { createHash, randomBytes } from 'node:crypto';

export const MiB = 1024 * 1024;

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Splits `data` into S3-sized parts: every part `partSize` bytes but the last. */
export function splitParts(data: Buffer, partSize: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += partSize) parts.push(data.subarray(offset, offset + partSize));
  return parts;
}

/** A browser-style PUT of one chunk to a signed URL; returns status and the exposed ETag. */
export async function putPart(url: string, body: Uint8Array<ArrayBuffer> | Buffer): Promise<{ status: number; etag: string | null }> {
  const response = await fetch(url, { method: 'PUT', body: body as Uint8Array<ArrayBuffer> });
  await response.arrayBuffer();
  return { status: response.status, etag: response.headers.get('etag') };
}
