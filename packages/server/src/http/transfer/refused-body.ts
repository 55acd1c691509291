import type { IncomingMessage } from 'node:http';

/** How much of a refused body is read and thrown away before the connection is cut. */
export interface DiscardLimits {
  maxBytes: number;
  maxMs: number;
}

/**
 * Enough for a default 8 MiB part sent in full after its answer, and for what a client has in
 * flight when it stops at the answer; a few seconds, so a refused sender cannot hold a socket.
 */
export const REFUSED_BODY_LIMITS: DiscardLimits = { maxBytes: 16 * 1024 * 1024, maxMs: 5_000 };

/**
 * Reads and discards the rest of a body that was refused before it was read, so the connection
 * stays open until the client has sent it. Closing with unread bytes makes the kernel reset the
 * connection, and a client still sending (fetch, a browser) then reports EPIPE/ECONNRESET and
 * loses the answer waiting in its socket. Past the limits the socket is cut: an honest reset
 * rather than a server that reads gigabytes for nobody.
 */
export function discardBody(req: IncomingMessage, limits: DiscardLimits): void {
  if (req.complete || req.destroyed) return;
  let received = 0;
  const cut = () => req.socket.destroy();
  const deadline = setTimeout(cut, limits.maxMs);
  deadline.unref();
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limits.maxBytes) cut();
  });
  req.once('close', () => clearTimeout(deadline));
  // The body may have been paused by a reader that gave up on it (a pipeline that failed).
  req.resume();
}
