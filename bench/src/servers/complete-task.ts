/**
 * The complete benchmark's work, in a process of its own: a local-disk store built directly
 * (`minPartSize` 1 B), its parts PUT through the signed-URL routes, then `cat` of the part files
 * and `completeMultipartUpload`, timed here. A fresh process, so the figure does not pay for
 * garbage the benchmark's earlier suites left. BENCH_COMPLETE (JSON) holds the sizes; with
 * `profileFile` the complete runs under the CPU profiler and the profile is written there.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalStore, createSignedUrlRoutes, listen, silentLogger } from '@s3-service/server';
import express from 'express';
import { profileInProcess } from '../support/profile.js';
import { timed } from '../support/timing.js';
import { send } from './ipc.js';

export interface CompleteTask {
  parts: number;
  partBytes: number;
  minPartSize: number;
  /** Where the store and the `cat` output go. */
  scratch: string;
  profileFile?: string;
}

export interface CompleteResult {
  catMs: number;
  completeMs: number;
}

const PUT_CONCURRENCY = 16;
const task = JSON.parse(process.env.BENCH_COMPLETE ?? '{}') as CompleteTask;

const dir = await mkdtemp(join(task.scratch, 'complete-'));
const catOutput = join(task.scratch, 'cat-output.bin');
let baseUrl = '';
const store = await createLocalStore({ dir, publicUrl: () => baseUrl, minPartSize: task.minPartSize });
const app = express();
app.use(createSignedUrlRoutes(store, { downloadIdleTimeoutMs: 60_000, logger: silentLogger }));
const server = await listen(app, { host: '127.0.0.1', port: 0, shutdownGraceMs: 1000 });
baseUrl = server.url;
try {
  const key = `bench/digital_assets/${randomBytes(16).toString('hex')}`;
  const { uploadId } = await store.createMultipartUpload(key, 'application/octet-stream');
  const urls = await store.signPartUrls(
    key,
    uploadId,
    Array.from({ length: task.parts }, (_, index) => index + 1),
    3600,
  );
  const etags = await putParts(urls, task.partBytes);

  // The store keeps an upload's parts as files named <nnnnn>-<md5>-<size>.part in uploads/<uploadId>/.
  const catMs = await catParts(join(dir, 'uploads', uploadId), catOutput);
  const parts = etags.map((etag, index) => ({ partNumber: index + 1, etag }));
  const complete = () => timed(() => store.completeMultipartUpload(key, uploadId, parts));
  let completeMs: number;
  if (task.profileFile) {
    const { result, profile } = await profileInProcess(complete);
    await writeFile(task.profileFile, JSON.stringify(profile));
    completeMs = result.ms;
  } else {
    completeMs = (await complete()).ms;
  }
  const object = await store.headObject(key);
  if (object?.size !== task.parts * task.partBytes) throw new Error('the completed object has the wrong size');
  const result: CompleteResult = { catMs, completeMs };
  send({ type: 'result', value: result });
} finally {
  await server.close();
  await store.close?.();
  await rm(dir, { recursive: true, force: true });
  await rm(catOutput, { force: true });
}

/**
 * PUTs every part to its signed URL, a few at a time; each part's bytes differ (its number
 * leads). Each worker reuses one buffer: thousands of part buffers would only feed the GC.
 */
async function putParts(partUrls: string[], size: number): Promise<string[]> {
  const partEtags: string[] = new Array(partUrls.length);
  const template = randomBytes(size);
  let next = 0;
  const worker = async () => {
    const body = Buffer.from(template);
    while (next < partUrls.length) {
      const index = next++;
      body.writeUInt32BE(index, 0);
      const response = await fetch(partUrls[index]!, { method: 'PUT', body });
      await response.arrayBuffer();
      const etag = response.headers.get('etag');
      if (response.status !== 200 || !etag) throw new Error(`PUT of part ${index + 1} answered ${response.status}`);
      partEtags[index] = etag;
    }
  };
  await Promise.all(Array.from({ length: PUT_CONCURRENCY }, worker));
  return partEtags;
}

/** `cat` of the part files in part order (their names sort that way), into `output`. */
async function catParts(folder: string, output: string): Promise<number> {
  const names = (await readdir(folder)).filter((name) => name.endsWith('.part')).sort();
  const handle = await open(output, 'w');
  try {
    const { ms } = await timed(async () => {
      const cat = spawn('cat', names, { cwd: folder, stdio: ['ignore', handle.fd, 'inherit'] });
      const [code] = (await once(cat, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`cat exited with ${code}`);
    });
    if ((await stat(output)).size !== names.length * (await stat(join(folder, names[0]!))).size)
      throw new Error('cat wrote the wrong size');
    return ms;
  } finally {
    await handle.close();
  }
}
