import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { mintToken } from '../../src/auth/mint-token.js';
import { type ApiProcess, killApi, startApi } from './api-process.js';
import { rest } from './rest-client.js';

/** The batch of issue 17: 40 `upload.signParts` calls of 10,000 part numbers each, one 1.9 MB body. */
export const ATTACK_CALLS = 40;
export const ATTACK_PARTS_PER_CALL = 10_000;

export interface UploadTarget {
  workspaceId: string;
  assetId: string;
  uploadId: string;
}

export interface AttackBatch {
  path: string;
  body: string;
}

/** `calls` signParts calls of `partsPerCall` part numbers each, as httpBatchLink would send them. */
export function signPartsBatch(upload: UploadTarget, calls = ATTACK_CALLS, partsPerCall = ATTACK_PARTS_PER_CALL): AttackBatch {
  const partNumbers = Array.from({ length: partsPerCall }, (_, index) => index + 1);
  const input = { json: { ...upload, partNumbers } };
  const body = JSON.stringify(Object.fromEntries(Array.from({ length: calls }, (_, index) => [index, input])));
  return { path: `/trpc/${Array(calls).fill('upload.signParts').join(',')}?batch=1`, body };
}

export interface Answer {
  status: number;
  /** From the request's start to the answer's last byte. */
  ms: number;
  bytes: number;
  text: string;
}

/** One POST, timed to the last byte of the answer; node:http so no client-side buffering hides the time. */
export function post(baseUrl: string, batch: AttackBatch, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(new URL(batch.path, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(batch.body), ...headers },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes: body.length, text: body.toString() });
      });
    });
    req.end(batch.body);
  });
}

/** Resident memory of a process of this machine, in MiB (Linux: /proc). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1]);
  return kib / 1024;
}

export interface AttackFigures {
  answers: Answer[];
  /** Slowest /healthz answer while the batches were in flight (probed every 20 ms, one at a time). */
  healthzMaxMs: number;
  healthzProbes: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
}

/**
 * Sends `copies` of the batch at once to the server of process `pid`, probing /healthz and
 * sampling the server's RSS until every answer is in.
 */
export async function runAttack(
  baseUrl: string,
  pid: number,
  batch: AttackBatch,
  options: { copies: number; headers?: Record<string, string> },
): Promise<AttackFigures> {
  const rssBeforeMiB = rssMiB(pid);
  let rssPeakMiB = rssBeforeMiB;
  let healthzMaxMs = 0;
  let healthzProbes = 0;
  let done = false;
  const sampler = setInterval(() => {
    rssPeakMiB = Math.max(rssPeakMiB, rssMiB(pid));
  }, 10);
  const probes = (async () => {
    while (!done) {
      const started = performance.now();
      const answer = await fetch(`${baseUrl}/healthz`);
      await answer.arrayBuffer();
      healthzMaxMs = Math.max(healthzMaxMs, performance.now() - started);
      healthzProbes += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  let answers: Answer[];
  try {
    answers = await Promise.all(Array.from({ length: options.copies }, () => post(baseUrl, batch, options.headers)));
  } finally {
    done = true;
    clearInterval(sampler);
    // The probe in flight when the last answer came is counted too.
    await probes;
  }
  return { answers, healthzMaxMs, healthzProbes, rssBeforeMiB, rssPeakMiB: Math.max(rssPeakMiB, rssMiB(pid)) };
}

export const ATTACK_SECRET = 'a-batch-attack-secret-long-enough-0123456789';

export interface AttackTarget {
  api: ApiProcess;
  /** A valid token of the workspace: the attack needs nothing more. */
  headers: Record<string, string>;
  upload: UploadTarget;
}

/** The API process as `pnpm start` runs it, with tokens, and an open upload of the attacker's workspace. */
export async function startAttackTarget(env: Record<string, string> = {}): Promise<AttackTarget> {
  const api = await startApi({ AUTH_JWT_SECRET: ATTACK_SECRET, ...env });
  try {
    const workspaceId = 'ws-attacker';
    const token = await mintToken({ secret: ATTACK_SECRET, workspaces: [workspaceId] });
    const headers = { authorization: `Bearer ${token}` };
    const started = await rest(api.url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'image/png' }, headers });
    if (started.status !== 200) throw new Error(`start-upload answered ${started.status}: ${started.text}`);
    const upload = { workspaceId, assetId: started.body.assetId as string, uploadId: started.body.uploadId as string };
    // Warm the paths the attack takes (JIT, jose, the catalogue), so that RSS before is the steady state.
    await post(api.url, signPartsBatch(upload, 2, 100), headers);
    return { api, headers, upload };
  } catch (error) {
    await killApi(api);
    throw error;
  }
}
