/**
 * A webhook receiver in a child process of the benchmark, so the dispatcher's figure does not
 * share its event loop: reads each POST's body, answers 204, and tells the benchmark (IPC) when
 * the number of requests it was told to expect has arrived.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ToReceiver = { type: 'expect'; count: number };
export type FromReceiver =
  | { type: 'ready'; url: string }
  | { type: 'expecting' }
  | { type: 'received'; count: number; firstAt: number; lastAt: number };

let expected = 0;
let received = 0;
let firstAt = 0;

const server = createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(204).end();
    received += 1;
    if (received === 1) firstAt = Date.now();
    if (expected > 0 && received === expected) {
      process.send?.({ type: 'received', count: received, firstAt, lastAt: Date.now() } satisfies FromReceiver);
      expected = 0;
    }
  });
});
// Clients keep their connections between rounds; the server must not drop them under the dispatcher.
server.keepAliveTimeout = 60_000;

process.on('message', (message: ToReceiver) => {
  if (message.type !== 'expect') return;
  expected = message.count;
  received = 0;
  process.send?.({ type: 'expecting' } satisfies FromReceiver);
});
process.once('SIGTERM', () => process.exit(0));
process.once('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}` } satisfies FromReceiver);
});
