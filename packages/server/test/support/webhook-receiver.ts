import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver got it: the raw bytes a signature is computed over. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Date.now() when its body was complete. */
  at: number;
}

/** How the receiver answers one request: a status (and body, headers), or never (`hang`). */
export type ReceiverAnswer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook`. */
  url: string;
  /** Every request so far, in arrival order. */
  requests: ReceivedRequest[];
  /** The next requests get these answers, in order; after them, the standing answer. */
  script(...answers: ReceiverAnswer[]): void;
  /** The answer once the script is used up; 204 by default. */
  answerAlways(answer: ReceiverAnswer | ((request: ReceivedRequest) => ReceiverAnswer)): void;
  /** Resolves once `count` requests (in total) have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** A real HTTP server on loopback, port 0, that a test scripts: the far end of webhook deliveries. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const scripted: ReceiverAnswer[] = [];
  let standing: ReceiverAnswer | ((request: ReceivedRequest) => ReceiverAnswer) = { status: 204 };
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      requests.push(request);
      const answer = scripted.shift() ?? (typeof standing === 'function' ? standing(request) : standing);
      for (const wake of waiters) wake();
      if (answer === 'hang') return;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    script: (...answers) => scripted.push(...answers),
    answerAlways: (answer) => {
      standing = answer;
    },
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          finish();
          resolve(requests.slice(0, count));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`the receiver got ${requests.length} requests, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
