import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED_BODY_LIMITS } from '../src/http/transfer/refused-body.js';
import { MiB, randomData } from './support/bytes.js';
import { rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const workspaceId = 'ws-refused';

/** A body fetch pulls slice by slice, as the SDK streams parts in Node: it is still sending when refused. */
function streamedBody(data: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      if (offset >= data.length) return controller.close();
      await sleep(1);
      controller.enqueue(data.subarray(offset, offset + 256 * 1024));
      offset += 256 * 1024;
    },
  });
}

function streamedPut(url: string, data: Buffer): Promise<Response> {
  return fetch(url, {
    method: 'PUT',
    body: streamedBody(data),
    duplex: 'half',
    headers: { 'content-length': String(data.length) },
  } as RequestInit);
}

/** Raw HTTP/1.1 on one socket: what a client that does not stop at an answer does. */
function rawSocket(server: TestServer): Promise<Socket> {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  return once(socket, 'connect').then(() => socket);
}

/** Not events.once: that rejects on the reset this waits for. */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

function requestHead(url: string, length: number): string {
  const { pathname, search, host } = new URL(url);
  return `PUT ${pathname}${search} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${length}\r\n\r\n`;
}

describe('a refused part PUT is answered so that the client can read it', () => {
  let server: TestServer;
  let partUrl: string;

  beforeAll(async () => {
    server = await startLocalServer();
    const started = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'application/octet-stream' } });
    const { uploadId, assetId } = started.body as { uploadId: string; assetId: string };
    const signed = await rest(server.url, 'GET', '/s3/get-upload-url', {
      query: { workspaceId, assetId, UploadId: uploadId, PartNumber: '1' },
    });
    partUrl = signed.body.url as string;
  });
  afterAll(async () => server?.close());

  async function expiredUrl(): Promise<string> {
    const { searchParams } = new URL(partUrl);
    const key = decodeURIComponent(new URL(partUrl).pathname.replace('/storage/objects/', ''));
    const [url] = await server.store.signPartUrls(key, searchParams.get('uploadId')!, [1], 1);
    await sleep(2_050);
    return url!;
  }

  function tamperedUrl(): string {
    const url = new URL(partUrl);
    const signature = url.searchParams.get('signature')!;
    url.searchParams.set('signature', `${signature[0] === 'a' ? 'b' : 'a'}${signature.slice(1)}`);
    return url.toString();
  }

  it('answers a streamed 16 MiB PUT to an expired URL with 403 INVALID_SIGNATURE, not a reset', async () => {
    const url = await expiredUrl();
    for (let round = 0; round < 3; round++) {
      const response = await streamedPut(url, randomData(16 * MiB));
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: 'the signed URL has expired', code: 'INVALID_SIGNATURE' });
    }
  });

  it('answers a streamed 16 MiB PUT to a tampered URL with 403 INVALID_SIGNATURE, and a buffered 8 MiB one too', async () => {
    for (const send of [
      () => streamedPut(tamperedUrl(), randomData(16 * MiB)),
      () => fetch(tamperedUrl(), { method: 'PUT', body: new Uint8Array(randomData(8 * MiB)) }),
    ]) {
      const response = await send();
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: 'INVALID_SIGNATURE' });
    }
  });

  it('reads a refused body to its end and keeps the connection for the next request', async () => {
    const socket = await rawSocket(server);
    let answers = '';
    socket.setEncoding('latin1').on('data', (text: string) => {
      answers += text;
    });
    socket.write(requestHead(tamperedUrl(), 4 * MiB));
    socket.write(randomData(4 * MiB));
    await expect.poll(() => answers).toContain('"code":"INVALID_SIGNATURE"');
    expect(answers).toMatch(/^HTTP\/1\.1 403 /);
    expect(answers.toLowerCase()).not.toContain('connection: close');
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\n\r\n`);
    await expect.poll(() => answers.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 403', 'HTTP/1.1 200']);
    socket.destroy();
  });

  it(`cuts a refused body past ${REFUSED_BODY_LIMITS.maxBytes / MiB} MiB, having answered first`, { timeout: 20_000 }, async () => {
    const socket = await rawSocket(server);
    let answer = '';
    socket.setEncoding('latin1').on('data', (text: string) => {
      answer += text;
    });
    socket.on('error', () => {});
    const closed = closeOf(socket);
    socket.write(requestHead(tamperedUrl(), 256 * MiB));
    // A sender that never looks at the answer: it writes until the server stops reading.
    let written = 0;
    const chunk = randomData(MiB);
    while (!socket.destroyed && written < 256 * MiB) {
      written += chunk.length;
      if (!socket.write(chunk)) await Promise.race([once(socket, 'drain').catch(() => {}), closed]);
    }
    await closed;
    expect(answer).toContain('"code":"INVALID_SIGNATURE"');
    // Cut once the bound was read, plus what the socket buffers held.
    expect(written).toBeGreaterThanOrEqual(REFUSED_BODY_LIMITS.maxBytes);
    expect(written).toBeLessThan(REFUSED_BODY_LIMITS.maxBytes + 32 * MiB);
  });

  it(`cuts a refused body that trickles in for longer than ${REFUSED_BODY_LIMITS.maxMs / 1000} s`, { timeout: 20_000 }, async () => {
    const socket = await rawSocket(server);
    socket.on('error', () => {});
    const closed = closeOf(socket);
    const started = Date.now();
    socket.write(requestHead(tamperedUrl(), MiB));
    const trickle = setInterval(() => socket.writable && socket.write('x'), 100);
    await closed;
    clearInterval(trickle);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFUSED_BODY_LIMITS.maxMs - 100);
    expect(Date.now() - started).toBeLessThan(REFUSED_BODY_LIMITS.maxMs + 2_000);
  });
});
