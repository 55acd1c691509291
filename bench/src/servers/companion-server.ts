/**
 * Uppy Companion (npm `@uppy/companion`, pinned in the bench's dev dependencies) as its
 * standalone server runs it: the app `lib/standalone` builds from the COMPANION_* environment
 * (the suite passes COMPANION_AWS_* for the bench's versitygw), with its access log, helmet and
 * session middlewares, and `socket()` on the listener as `bin/companion` does. Only the listen
 * differs: 127.0.0.1 on port 0, so runs never collide, and the benchmark's IPC for CPU time.
 */
import '../support/quiet-sdk-warning.js';
import type { Server } from 'node:http';
import { socket } from '@uppy/companion';
import standalone from '@uppy/companion/standalone';
import type { Express } from 'express';
import { send, serveBenchmarkQueries } from './ipc.js';

const { app } = standalone(undefined) as { app: Express };
const server: Server = await new Promise((resolve, reject) => {
  const listening = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
});
socket(server);
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('Companion is not listening on a TCP port');
serveBenchmarkQueries(() => []);
send({ type: 'ready', url: `http://127.0.0.1:${address.port}` });
