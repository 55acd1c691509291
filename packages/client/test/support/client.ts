import { afterAll, beforeAll } from 'vitest';
import { startLocalServer, type TestServer } from '../../../server/test/support/server.js';
import { createS3ServiceClient, type S3ServiceClient, type UploadProgress, type UploadResult } from '../../src/index.js';
import { hashBody, sha256 } from './data.js';
import { createFetchSpy, type FetchSpy, type PartPut, type PutFault } from './fetch-spy.js';

export { startLocalServer, type TestServer };

/**
 * Starts the API on a fresh local-disk store before the suite and stops it after, handing the
 * server and a plain client to `ready`.
 */
export function withLocalServer(ready: (server: TestServer, client: S3ServiceClient) => void): void {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startLocalServer();
    ready(server, createS3ServiceClient({ url: server.url }));
  });
  afterAll(async () => {
    await server?.close();
  });
}

/** A client on `server` whose fetch is a spy (optionally breaking some part PUTs). */
export function spiedClient(
  server: TestServer,
  faultFor?: (put: PartPut) => PutFault | undefined,
): { client: S3ServiceClient; spy: FetchSpy } {
  const spy = createFetchSpy(faultFor);
  return { client: createS3ServiceClient({ url: server.url, fetch: spy.fetch }), spy };
}

/** Downloads the object through GET /s3/download and compares it with what was sent. */
export async function downloadedHash(client: S3ServiceClient, workspaceId: string, result: UploadResult) {
  return hashBody(await client.download({ key: result.key, workspaceId }));
}

export function expectedHash(data: Uint8Array) {
  return { sha256: sha256(data), size: data.byteLength };
}

/** Collects progress reports and checks the promises the API makes about them. */
export function progressRecorder() {
  const reports: UploadProgress[] = [];
  return {
    reports,
    onProgress: (progress: UploadProgress) => {
      reports.push(progress);
    },
    /** Every `loaded` at least the one before; true when that holds. */
    isMonotone: () => reports.every((report, index) => index === 0 || report.loaded >= reports[index - 1]!.loaded),
    last: () => reports.at(-1),
  };
}
