import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createS3Store, type S3StoreOptions } from '../../src/storage/s3/index.js';
import type { ObjectStore } from '../../src/storage/store.js';

/** One request the fake server saw. */
export interface SeenRequest {
  method: string;
  url: string;
}

/** Answers one request; `index` counts from 0 across the server's life. */
export type FakeHandler = (request: IncomingMessage, response: ServerResponse, index: number) => void;

export interface FakeS3 {
  endpoint: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A scripted stand-in for S3 on 127.0.0.1, for failures a real server will not produce on demand:
 * throttling, 5xx answers, stalls and bodies cut mid-way. Only the answers are fake; the driver
 * talks to it over real HTTP with its real client.
 */
export async function startFakeS3(handler: FakeHandler): Promise<FakeS3> {
  const requests: SeenRequest[] = [];
  const server = createServer((request, response) => {
    const index = requests.push({ method: request.method ?? '', url: request.url ?? '' }) - 1;
    // Drain the request body so keep-alive connections stay usable between attempts.
    request.resume();
    handler(request, response, index);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      // Stalled handlers never end their responses; cut them so close() can finish.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An endpoint where nothing listens: a port that was free a moment ago. */
export async function closedPortEndpoint(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** An S3 error answer as S3 writes it: XML body and the request id header. */
export function answerS3Error(response: ServerResponse, status: number, code: string, message: string, requestId: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>fake-host</HostId></Error>`;
  response.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  response.end(body);
}

export function answerXml(response: ServerResponse, body: string, status = 200): void {
  response.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': 'fake-ok',
  });
  response.end(body);
}

/** Test credentials of the fake S3: it checks no signature, but the SDK needs some to sign with. */
export const FAKE_S3_CREDENTIALS = { accessKeyId: 'AKIAFAULTTEST', secretAccessKey: 'fault-test-secret' };

/** The production S3 driver pointed at a fake (or closed) endpoint on loopback. */
export function fakeS3Store(endpoint: string, options: Partial<S3StoreOptions> = {}): ObjectStore {
  return createS3Store({
    bucket: 'fault-bucket',
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: FAKE_S3_CREDENTIALS,
    ...options,
  });
}
