import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChildServer, startChildServer } from './child-server.js';
import type { S3Emulator } from './emulator.js';
import { callJson } from './http.js';

/** Companion's signed URLs live as long as ours (PART_URL_EXPIRES_IN), so both sign the same expiry. */
const EXPIRES_SECONDS = 3600;

/**
 * Uppy Companion on the bench's S3 server (versitygw), configured the documented way: the
 * COMPANION_* variables its standalone server reads (lib/standalone/helper.js). Its access log
 * (morgan, a line per request on stdout) stays on, as in a deployment, and goes to /dev/null here.
 */
export async function startCompanion(emulator: S3Emulator, scratch: string): Promise<ChildServer> {
  const dataDir = await mkdtemp(join(scratch, 'companion-'));
  return startChildServer('companion-server', {
    stdout: 'ignore',
    env: {
      NODE_ENV: 'production',
      COMPANION_SECRET: randomBytes(32).toString('hex'),
      COMPANION_PREAUTH_SECRET: randomBytes(32).toString('hex'),
      COMPANION_DATADIR: dataDir,
      COMPANION_DOMAIN: '127.0.0.1',
      COMPANION_PROTOCOL: 'http',
      // Required in production: where Companion may send remote files, and which pages may call it.
      COMPANION_UPLOAD_URLS: emulator.endpoint,
      COMPANION_CLIENT_ORIGINS: 'http://127.0.0.1',
      COMPANION_AWS_KEY: emulator.accessKeyId,
      COMPANION_AWS_SECRET: emulator.secretAccessKey,
      COMPANION_AWS_BUCKET: emulator.bucket,
      COMPANION_AWS_ENDPOINT: emulator.endpoint,
      COMPANION_AWS_REGION: emulator.region,
      COMPANION_AWS_FORCE_PATH_STYLE: String(emulator.forcePathStyle),
      COMPANION_AWS_EXPIRES: String(EXPIRES_SECONDS),
    },
  });
}

/** A multipart upload Companion created on S3 (`POST /s3/multipart`), as Uppy's client starts one. */
export interface CompanionUpload {
  key: string;
  uploadId: string;
}

export function createCompanionUpload(companion: ChildServer): Promise<CompanionUpload> {
  return callJson<CompanionUpload>(`${companion.url}/s3/multipart`, {
    body: { filename: `bench-${randomBytes(8).toString('hex')}.bin`, type: 'application/octet-stream', metadata: {} },
  });
}

/** Companion's per-part signing path, the one Uppy's client calls for every part (CompanionS3.js `uploadPart`). */
export function companionPartUrl(companion: ChildServer, upload: CompanionUpload, partNumber: number): string {
  return `${companion.url}/s3/multipart/${encodeURIComponent(upload.uploadId)}/${partNumber}?${new URLSearchParams({ key: upload.key })}`;
}
