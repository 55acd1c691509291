import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';

/**
 * A forwarding HTTP server between the browser and the store that can hold back the PUTs of
 * chosen part numbers. With a part held, a test sees the page mid-upload for as long as it
 * likes (to cancel, to reload), and the other parts still reach the store. It forwards the Host
 * header unchanged: the store's URLs are signed for the gate's address, SigV4's included.
 */
export interface PartGate {
  /** Base URL to sign store URLs for, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /** Where requests go on to: the API (local store) or the S3 server. */
  target: string;
  /** Holds every PUT of this part number (of any upload) until `release` or `cutHeld`. */
  hold(partNumber: number): void;
  /** Lets the held PUTs through and holds nothing more. */
  release(): void;
  /**
   * Cuts the held PUTs, as a dropped connection would, and holds nothing more. For a browser
   * that reloaded or cancelled meanwhile: a held request is never read, so the gate cannot see
   * that its browser left, and forwarding it would store a part the browser gave up. With
   * `keepHolding`, later PUTs of the held part numbers are held still: Chromium sends a PUT cut
   * before any answer again by itself (it is idempotent), even for a page that gave it up, and
   * that copy must not reach the store while the test looks at what is stored.
   */
  cutHeld(options?: { keepHolding?: boolean }): void;
  /** Part numbers whose PUT the store answered with 2xx, in order of their answers. */
  readonly storedParts: number[];
  /** Resolves once `count` part PUTs have been stored. */
  waitForStoredParts(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPartGate(target = ''): Promise<PartGate> {
  const held = new Set<number>();
  let waiting: Array<{ forward(): void; cut(): void }> = [];
  const storedParts: number[] = [];
  const watchers = new Set<() => void>();

  const forward = (req: IncomingMessage, res: ServerResponse, partNumber: number | undefined) => {
    if (req.destroyed || res.destroyed) return;
    const upstream = request(new URL(req.url ?? '/', gate.target), { method: req.method, headers: req.headers }, (answer) => {
      // Counted when the store answers, not when the answer is relayed: a browser that gave the
      // PUT up meanwhile closes its side and the relay never ends, yet the store holds the part.
      const status = answer.statusCode ?? 0;
      if (partNumber !== undefined && status >= 200 && status < 300) {
        storedParts.push(partNumber);
        for (const watcher of watchers) watcher();
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      pipeline(answer, res, () => {});
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    pipeline(req, upstream, () => {});
  };

  const server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://gate.invalid').searchParams;
    const partNumber = req.method === 'PUT' && query.has('partNumber') ? Number(query.get('partNumber')) : undefined;
    if (partNumber !== undefined && held.has(partNumber)) {
      waiting.push({ forward: () => forward(req, res, partNumber), cut: () => req.socket.destroy() });
    } else {
      forward(req, res, partNumber);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  const gate: PartGate = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target,
    storedParts,
    hold: (partNumber) => held.add(partNumber),
    release: () => {
      held.clear();
      const ready = waiting;
      waiting = [];
      for (const request of ready) request.forward();
    },
    cutHeld: (options) => {
      if (!options?.keepHolding) held.clear();
      const cut = waiting;
      waiting = [];
      for (const request of cut) request.cut();
    },
    waitForStoredParts: (count) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (storedParts.length < count) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      }),
    close: async () => {
      gate.cutHeld();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
  return gate;
}
