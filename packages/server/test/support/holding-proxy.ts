import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';

export interface HoldingProxy {
  /** Point the S3 driver here instead of at the server. */
  endpoint: string;
  /** Resolves once a request the rule picks is being held. */
  held(): Promise<void>;
  /** Lets every held request through, and the ones picked after it. */
  release(): void;
  close(): Promise<void>;
}

export interface HoldingProxyOptions {
  /** Picks the requests to hold. */
  hold: (request: IncomingMessage) => boolean;
  /**
   * Sends the held requests on together as soon as this many are waiting, round after round
   * (two racing calls reach the server within microseconds). Absent: they wait for `release`.
   */
  together?: number;
}

/**
 * A plain HTTP relay to an S3 server that holds the requests it is told to: a race a real server
 * decides on its own, made to fall where the test needs it. Requests pass unchanged (the Host
 * header too, so SigV4 signatures made for the relay still verify).
 */
export async function startHoldingProxy(target: string, options: HoldingProxyOptions): Promise<HoldingProxy> {
  const upstream = new URL(target);
  let waiting: Array<() => void> = [];
  let released = false;
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const flush = () => {
    const ready = waiting;
    waiting = [];
    for (const relay of ready) relay();
  };
  const server = createServer((incoming, outgoing) => {
    const relay = () => {
      const relayed = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      relayed.once('error', () => outgoing.destroy());
      incoming.pipe(relayed);
    };
    if (released || !options.hold(incoming)) return relay();
    waiting.push(relay);
    arrive();
    if (options.together !== undefined && waiting.length >= options.together) flush();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const release = () => {
    released = true;
    flush();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    held: () => arrived,
    release,
    close: async () => {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function uploadCall(request: IncomingMessage, method: string): boolean {
  return request.method === method && new URL(request.url ?? '/', 'http://relay').searchParams.has('uploadId');
}

/** S3's CompleteMultipartUpload: a POST naming the upload (`?uploadId=`), not the one that creates it (`?uploads`). */
export const isCompleteMultipartUpload = (request: IncomingMessage) => uploadCall(request, 'POST');

/** S3's AbortMultipartUpload: a DELETE naming the upload. */
export const isAbortMultipartUpload = (request: IncomingMessage) => uploadCall(request, 'DELETE');
