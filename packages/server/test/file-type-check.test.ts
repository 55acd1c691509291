import { randomBytes, randomUUID } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { beforeAll, describe, expect, it } from 'vitest';
import { sniffType } from '../src/assets/sniff-type.js';
import { judgeType } from '../src/assets/type-verdict.js';
import { DEFAULT_ALLOWED_FILE_TYPES, loadConfig } from '../src/config.js';
import type { AppRouter } from '../src/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import { putPart } from './support/bytes.js';
import { rest } from './support/rest-client.js';
import { s3ServersUnderTest } from './support/s3-emulator.js';
import { type S3EmulatorFixture, useS3Emulator } from './support/s3-emulator-fixture.js';
import { s3StoreOptions } from './support/s3-harness.js';
import { startLocalServer, startServer, type TestAppOptions, type TestServer } from './support/server.js';

type Trpc = ReturnType<typeof createTRPCClient<AppRouter>>;

const trpcOf = (server: TestServer): Trpc =>
  createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc`, transformer: superjson })] });

const newWorkspace = () => `ws-${randomUUID().slice(0, 8)}`;

// Small files with the real headers of their formats.
const html = Buffer.from('\uFEFF  \n<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n');
const svg = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>\n',
);
const text = Buffer.from('Quarterly notes\nrevenue, costs and <b>nothing</b> else\n');
const pdf = Buffer.from(
  '%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n',
  'latin1',
);
const jpeg = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
  randomBytes(200),
  Buffer.from([0xff, 0xd9]),
]);
// A 64-bit little-endian ELF header (e_ident, e_type EXEC, e_machine x86-64), then code.
const elf = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]),
  Buffer.alloc(8),
  Buffer.from([0x02, 0x00, 0x3e, 0x00]),
  randomBytes(300),
]);

/** A valid 1x1 RGBA PNG: signature, IHDR, IDAT, IEND, each chunk with its CRC. */
function tinyPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0, 255]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const png = tinyPng();

interface Uploaded {
  workspaceId: string;
  assetId: string;
  uploadId: string;
  key: string;
  parts: Array<{ partNumber: number; etag: string }>;
}

/** start and one signed PUT through tRPC: everything but the complete. */
async function uploadBytes(trpc: Trpc, fileType: string, data: Buffer, workspaceId = newWorkspace()): Promise<Uploaded> {
  const { uploadId, assetId, key } = await trpc.upload.start.mutate({ workspaceId, fileType });
  const { parts } = await trpc.upload.signParts.mutate({ workspaceId, assetId, uploadId, partNumbers: [1] });
  const put = await putPart(parts[0]!.url, data);
  expect(put.status).toBe(200);
  return { workspaceId, assetId, uploadId, key, parts: [{ partNumber: 1, etag: put.etag! }] };
}

function completeThroughTrpc(trpc: Trpc, upload: Uploaded) {
  const { workspaceId, assetId, uploadId, parts } = upload;
  return trpc.upload.complete.mutate({ workspaceId, assetId, uploadId, parts });
}

function completeThroughRest(server: TestServer, upload: Uploaded) {
  const { workspaceId, assetId, uploadId, parts } = upload;
  return rest(server.url, 'POST', '/s3/complete-upload', {
    json: { workspaceId, assetId, uploadId, parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
  });
}

async function trpcRefusal(call: Promise<unknown>): Promise<{ code?: string; status?: number; message?: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return { code: error.data?.code, status: error.data?.httpStatus, message: error.message };
  }
  throw new Error('the call succeeded');
}

function download(server: TestServer, upload: Uploaded) {
  return fetch(`${server.url}/s3/download?${new URLSearchParams({ workspaceId: upload.workspaceId, key: upload.key })}`);
}

/** Nothing of a refused upload stays: no object, no asset, no open upload, and complete cannot bring it back. */
async function expectDiscarded(server: TestServer, trpc: Trpc, upload: Uploaded) {
  const gone = await download(server, upload);
  expect(gone.status).toBe(404);
  expect((await gone.json()).code).toBe('NOT_FOUND');
  expect(await server.store.headObject(upload.key)).toBeNull();
  expect((await trpc.object.list.query({ workspaceId: upload.workspaceId })).objects).toEqual([]);
  expect((await trpc.upload.listOpen.query({ workspaceId: upload.workspaceId })).uploads).toEqual([]);
  expect((await server.catalog.findUpload(upload.workspaceId, upload.uploadId))?.state).toBe('aborted');
  const retried = await completeThroughRest(server, upload);
  expect(retried.status).toBe(404);
  expect(retried.body.code).toBe('INVALID_UPLOAD_ID');
}

async function expectStored(server: TestServer, trpc: Trpc, upload: Uploaded, data: Buffer, recordedType: string) {
  const served = await download(server, upload);
  expect(served.status).toBe(200);
  expect(served.headers.get('content-type')).toBe(recordedType);
  expect(Buffer.from(await served.arrayBuffer()).equals(data)).toBe(true);
  // The signed GET URL serves the recorded type too, whatever the store kept from the start.
  const { url } = await trpc.object.downloadUrl.query({ workspaceId: upload.workspaceId, key: upload.key });
  const signed = await fetch(url);
  expect(signed.status).toBe(200);
  expect(signed.headers.get('content-type')).toBe(recordedType);
  expect(Buffer.from(await signed.arrayBuffer()).equals(data)).toBe(true);
  const head = await trpc.object.head.query({ workspaceId: upload.workspaceId, key: upload.key });
  expect(head.contentType).toBe(recordedType);
  expect(head.size).toBe(data.length);
}

/** The same checks on every store: what complete refuses and accepts once it has read the object's first bytes. */
function describeTypeChecks(name: string, start: (options: TestAppOptions) => Promise<TestServer>, s3?: S3EmulatorFixture) {
  describe(`complete checks the declared type against the bytes (${name})`, () => {
    let server: TestServer;
    let trpc: Trpc;
    beforeAll(async () => {
      if (s3) {
        try {
          void s3.emulator;
        } catch {
          return;
        }
      }
      server = await start({});
      trpc = trpcOf(server);
      return () => server.close();
    });
    const skipWithoutStore = (context: { skip(note?: string): void }) => s3?.skipUnlessRunning(context);

    it('refuses an HTML page declared image/jpeg through tRPC (415 FILE_TYPE_MISMATCH) and keeps nothing of it', async (context) => {
      skipWithoutStore(context);
      const upload = await uploadBytes(trpc, 'image/jpeg', html);
      const refused = await trpcRefusal(completeThroughTrpc(trpc, upload));
      expect(refused).toMatchObject({ code: 'FILE_TYPE_MISMATCH', status: 415 });
      expect(refused.message).toContain('text/html');
      await expectDiscarded(server, trpc, upload);
    });

    it('refuses an SVG declared image/png on /s3/complete-upload with the documented error shape', async (context) => {
      skipWithoutStore(context);
      const upload = await uploadBytes(trpc, 'image/png', svg);
      const refused = await completeThroughRest(server, upload);
      expect(refused.status).toBe(415);
      expect(refused.body).toEqual({ error: expect.stringContaining('image/svg+xml'), code: 'FILE_TYPE_MISMATCH' });
      await expectDiscarded(server, trpc, upload);
    });

    it('refuses an ELF executable declared application/pdf', async (context) => {
      skipWithoutStore(context);
      const upload = await uploadBytes(trpc, 'application/pdf', elf);
      const refused = await completeThroughRest(server, upload);
      expect(refused.status).toBe(415);
      expect(refused.body.code).toBe('FILE_TYPE_MISMATCH');
      expect(refused.body.error).toContain('executable');
      await expectDiscarded(server, trpc, upload);
    });

    it('refuses a family mismatch: a PDF declared image/png', async (context) => {
      skipWithoutStore(context);
      const upload = await uploadBytes(trpc, 'image/png', pdf);
      expect(await trpcRefusal(completeThroughTrpc(trpc, upload))).toMatchObject({ code: 'FILE_TYPE_MISMATCH', status: 415 });
      await expectDiscarded(server, trpc, upload);
    });

    it.for([
      ['a JPEG', 'image/jpeg', jpeg],
      ['a PNG', 'image/png', png],
      ['a PDF', 'application/pdf', pdf],
      ['plain text (which no signature names)', 'text/plain', text],
      ['random bytes', 'application/octet-stream', randomBytes(5000)],
    ] as const)('stores %s declared %s byte for byte', async ([, fileType, data], context) => {
      skipWithoutStore(context);
      const upload = await uploadBytes(trpc, fileType, data);
      const completed = await completeThroughRest(server, upload);
      expect(completed.status).toBe(200);
      expect(completed.body).toMatchObject({ success: true, key: upload.key });
      await expectStored(server, trpc, upload, data, fileType);
    });

    it('stores a PNG declared image/jpeg (a .png renamed .jpg) and records the type its bytes have', async (context) => {
      skipWithoutStore(context);
      const upload = await uploadBytes(trpc, 'image/jpeg', png);
      const completed = await completeThroughTrpc(trpc, upload);
      expect(completed.success).toBe(true);
      await expectStored(server, trpc, upload, png, 'image/png');
      const listed = await trpc.object.list.query({ workspaceId: upload.workspaceId });
      expect(listed.objects.map((object) => object.contentType)).toEqual(['image/png']);
    });

    it('checks the object a crashed complete already assembled when the complete is retried', async (context) => {
      skipWithoutStore(context);
      const upload = await uploadBytes(trpc, 'image/jpeg', html);
      // The store's complete ran; the crash came before the catalogue was written.
      await server.store.completeMultipartUpload(upload.key, upload.uploadId, upload.parts);
      expect(await server.store.headObject(upload.key)).not.toBeNull();
      const retried = await completeThroughRest(server, upload);
      expect(retried.status).toBe(415);
      expect(retried.body.code).toBe('FILE_TYPE_MISMATCH');
      await expectDiscarded(server, trpc, upload);
    });

    it('stores anything as declared when FILE_TYPE_CHECK is off', async (context) => {
      skipWithoutStore(context);
      const trusting = await start({ uploads: { allowedFileTypes: DEFAULT_ALLOWED_FILE_TYPES, checkFileType: false } });
      try {
        const client = trpcOf(trusting);
        const upload = await uploadBytes(client, 'image/jpeg', html);
        expect((await completeThroughRest(trusting, upload)).status).toBe(200);
        await expectStored(trusting, client, upload, html, 'image/jpeg');
      } finally {
        await trusting.close();
      }
    });
  });
}

describeTypeChecks('local store', (options) => startLocalServer(options));

describe.each(s3ServersUnderTest())('on S3 (%s)', (server) => {
  const s3 = useS3Emulator({ server });
  describeTypeChecks(
    `S3 on ${server}`,
    (options) => startServer(async () => ({ store: createS3Store(s3StoreOptions(s3.emulator)) }), options),
    s3,
  );
});

describe('FILE_TYPE_CHECK', () => {
  it('is on unless set to false', () => {
    expect(loadConfig({}).uploads.checkFileType).toBe(true);
    expect(loadConfig({ FILE_TYPE_CHECK: 'false' }).uploads.checkFileType).toBe(false);
    expect(() => loadConfig({ FILE_TYPE_CHECK: 'maybe' })).toThrow(/^FILE_TYPE_CHECK=maybe: must be true or false/);
  });
});

describe('what the first bytes say', () => {
  it.each([
    ['HTML after a UTF-8 BOM and blank lines', html, 'text/html'],
    ['HTML in UTF-16 with its BOM', Buffer.from(`\uFEFF<html><body>hi</body></html>`, 'utf16le'), 'text/html'],
    ['an SVG behind an XML declaration and a comment', svg, 'image/svg+xml'],
    [
      'XHTML',
      Buffer.from('<?xml version="1.0"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml"></html>'),
      'application/xhtml+xml',
    ],
    [
      'JavaScript after a licence comment',
      Buffer.from('/* MIT licence */\n// bundle\n(function () { fetch("/x") })();\n'),
      'text/javascript',
    ],
    ['a shell script', Buffer.from('#!/bin/sh\nrm -rf ~\n'), 'text/x-shellscript'],
    ['PHP', Buffer.from('<?php system($_GET["c"]); ?>'), 'application/x-httpd-php'],
    ['an ELF binary', elf, 'application/x-elf'],
  ])('names %s', async (_what, bytes, mime) => {
    expect((await sniffType(bytes))?.mime).toBe(mime);
  });

  it.each([
    ['plain text', text],
    ['JSON', Buffer.from('{"function": "var x", "items": [1, 2]}')],
    ['CSV', Buffer.from('name,size\nreport.pdf,1200\n')],
  ])('says nothing of %s', async (_what, bytes) => {
    expect(await sniffType(bytes)).toBeUndefined();
  });

  it('never refuses random bytes, whatever type they are declared as (weak two-byte signatures are no evidence)', async () => {
    // 8,000 heads meet the signatures file-type rests on two bytes or fewer about three times, a different one each run.
    const declared = ['image/png', 'video/mp4', 'audio/mpeg', 'application/pdf', 'application/zip', 'text/plain'];
    const refused: string[] = [];
    for (let round = 0; round < 8_000; round += 1) {
      const sniffed = await sniffType(randomBytes(4100));
      const fileType = declared[round % declared.length]!;
      const verdict = judgeType(fileType, sniffed);
      if (verdict.verdict === 'refuse') refused.push(`${fileType}: ${verdict.reason}`);
    }
    expect(refused).toEqual([]);
  });

  it('lets the same kind of file under another name through, and keeps the containers office files are made of', () => {
    expect(judgeType('video/mp4', { mime: 'video/quicktime', kind: 'binary' })).toEqual({ verdict: 'record', fileType: 'video/quicktime' });
    expect(
      judgeType('application/vnd.openxmlformats-officedocument.wordprocessingml.document', { mime: 'application/zip', kind: 'binary' }),
    ).toEqual({
      verdict: 'keep',
    });
    expect(judgeType('application/msword', { mime: 'application/x-cfb', kind: 'binary' })).toEqual({ verdict: 'keep' });
    expect(judgeType('text/plain', { mime: 'text/html', kind: 'markup' })).toEqual({ verdict: 'keep' });
    expect(judgeType('application/octet-stream', { mime: 'application/x-elf', kind: 'executable' })).toEqual({ verdict: 'keep' });
    expect(judgeType('image/png', { mime: 'application/zip', kind: 'binary' }).verdict).toBe('refuse');
    expect(judgeType('image/png', { mime: 'video/mp4', kind: 'binary' }).verdict).toBe('refuse');
    expect(judgeType('text/plain', { mime: 'application/x-elf', kind: 'executable' }).verdict).toBe('refuse');
  });
});
