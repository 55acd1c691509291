/// <reference types="node" />
/**
 * @s3-service/client/node: helpers that need the Node file system. A separate entry, so the
 * browser entry never imports a Node module.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { S3ServiceClient } from './client.js';
import type { DownloadInput } from './download.js';

export interface SavedDownload {
  path: string;
  /** Bytes written. */
  size: number;
  contentType: string | null;
  etag: string | null;
}

/**
 * Downloads an object into a file, streaming with backpressure. The bytes go to a temporary file
 * next to `path` that is renamed into place only when complete, so an error or an abort never
 * leaves a truncated file at `path`.
 */
export async function downloadToFile(client: S3ServiceClient, input: DownloadInput, path: string): Promise<SavedDownload> {
  const response = await client.download(input);
  const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
  let size = 0;
  const body = response.body
    ? Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>, { signal: input.signal })
    : Readable.from([]);
  body.on('data', (chunk: Buffer) => {
    size += chunk.length;
  });
  try {
    await pipeline(body, createWriteStream(partial, { flags: 'wx' }), { signal: input.signal });
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { path, size, contentType: response.headers.get('content-type'), etag: response.headers.get('etag') };
}
