import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, stopProcess } from './processes.js';

/** Where a test S3 server listens and how to sign for it. */
export interface S3Emulator {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  region: string;
  /** Bucket in the path: what local servers need; AWS still accepts it. */
  forcePathStyle: boolean;
  /** Stops the server and removes its files; a no-op for an external endpoint. */
  stop(): Promise<void>;
}

export type S3EmulatorResult = S3Emulator | { skipped: string };

export const VERSITYGW_INSTALL_HINT = 'versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.7.0';

const REGION = 'us-east-1';
const READY_TIMEOUT_MS = 15_000;

/**
 * A real S3 server for the driver tests, one that verifies SigV4 signatures and presigned-URL
 * expiry. `S3_TEST_ENDPOINT` (with S3_TEST_ACCESS_KEY_ID, S3_TEST_SECRET_ACCESS_KEY,
 * S3_TEST_BUCKET, S3_TEST_REGION, S3_TEST_FORCE_PATH_STYLE) points the suite at MinIO or AWS;
 * otherwise a versitygw process serves a temporary folder. Without either the tests are skipped, with the reason.
 */
export async function startS3Emulator(): Promise<S3EmulatorResult> {
  const external = externalEndpoint();
  if (external) {
    await ensureBucket(external);
    return external;
  }
  const binary = await findVersitygw();
  if (!binary) return { skipped: VERSITYGW_INSTALL_HINT };
  return startVersitygw(binary);
}

export function isSkipped(result: S3EmulatorResult): result is { skipped: string } {
  return 'skipped' in result;
}

function externalEndpoint(): S3Emulator | undefined {
  const env = process.env;
  if (!env.S3_TEST_ENDPOINT) return undefined;
  const missing = ['S3_TEST_ACCESS_KEY_ID', 'S3_TEST_SECRET_ACCESS_KEY', 'S3_TEST_BUCKET'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`S3_TEST_ENDPOINT is set but ${missing.join(', ')} is not`);
  return {
    endpoint: env.S3_TEST_ENDPOINT,
    accessKeyId: env.S3_TEST_ACCESS_KEY_ID!,
    secretAccessKey: env.S3_TEST_SECRET_ACCESS_KEY!,
    bucket: env.S3_TEST_BUCKET!,
    region: env.S3_TEST_REGION || REGION,
    forcePathStyle: env.S3_TEST_FORCE_PATH_STYLE !== 'false',
    stop: async () => {},
  };
}

/** VERSITYGW_BIN, then PATH, then the Go bin folders `go install` writes to. */
async function findVersitygw(): Promise<string | undefined> {
  const candidates = process.env.VERSITYGW_BIN ? [process.env.VERSITYGW_BIN] : [];
  candidates.push(
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'versitygw')),
  );
  const gopath = await goPath();
  if (gopath) candidates.push(join(gopath, 'bin', 'versitygw'));
  candidates.push(join(homedir(), 'go', 'bin', 'versitygw'));
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `go env GOPATH`, or undefined when Go is not installed. */
function goPath(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('go', ['env', 'GOPATH'], { timeout: 5_000 }, (error, stdout) => {
      // GOPATH may list several folders; `go install` writes to the first.
      resolve(error ? undefined : stdout.trim().split(delimiter)[0] || undefined);
    });
  });
}

async function startVersitygw(binary: string): Promise<S3Emulator> {
  const dir = await mkdtemp(join(tmpdir(), 's3-emulator-'));
  const root = join(dir, 'root');
  await mkdir(root);
  const credentials = { accessKeyId: `test${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(24).toString('hex') };
  try {
    let started = await launch(binary, root, credentials, undefined);
    // versitygw keeps object metadata in user xattrs and refuses to start on a filesystem
    // without them (some tmpfs, overlayfs); a sidecar folder holds the metadata instead.
    if ('failed' in started && /xattr/i.test(started.failed)) {
      const sidecar = join(dir, 'sidecar');
      await mkdir(sidecar);
      started = await launch(binary, root, credentials, sidecar);
    }
    if ('failed' in started) throw new Error(`versitygw did not start: ${started.failed}`);
    const { child, endpoint } = started;
    // A test run cut short (Ctrl-C, a crashed worker) must not leave the server running.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const emulator: S3Emulator = {
      endpoint,
      ...credentials,
      bucket: `s3-service-test-${randomBytes(4).toString('hex')}`,
      region: REGION,
      forcePathStyle: true,
      stop: async () => {
        process.off('exit', killOnExit);
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
    try {
      await ensureBucket(emulator);
    } catch (error) {
      await emulator.stop();
      throw error;
    }
    return emulator;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

type Launch = { child: ChildProcess; endpoint: string } | { failed: string };

/**
 * Starts versitygw on a free port of 127.0.0.1 and waits until it answers HTTP. A port taken
 * between probing and binding makes versitygw exit; that is retried on a new port.
 */
async function launch(
  binary: string,
  root: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  sidecar: string | undefined,
): Promise<Launch> {
  let last: Launch = { failed: 'not started' };
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const backendArgs = sidecar ? ['posix', '--sidecar', sidecar, root] : ['posix', root];
    const child = spawn(binary, ['--port', `127.0.0.1:${port}`, '--quiet', ...backendArgs], {
      env: { ...process.env, ROOT_ACCESS_KEY: credentials.accessKeyId, ROOT_SECRET_KEY: credentials.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = captureOutput(child);
    const endpoint = `http://127.0.0.1:${port}`;
    const ready = await waitUntilAnswering(endpoint, child);
    if (ready) return { child, endpoint };
    await stopProcess(child);
    last = { failed: `${output().trim() || 'no output'} (exit ${child.exitCode ?? child.signalCode})` };
    if (!/address already in use/i.test(output())) return last;
  }
  return last;
}

/** The last few KiB of the process's stdout and stderr, for error messages. */
function captureOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => text;
}

/** Any HTTP answer (versitygw says 403 to an unsigned GET /) means it is serving. */
async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const response = await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return false;
}

/** Creates the test bucket; an existing bucket of ours (external endpoints) is fine. */
async function ensureBucket(target: S3Emulator): Promise<void> {
  const client = new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: target.forcePathStyle,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: target.bucket }));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  } finally {
    client.destroy();
  }
}

/** The variables that point an API process (apps/api) at this emulator. */
export function apiEnvFor(emulator: S3Emulator): Record<string, string> {
  return {
    AWS_BUCKET: emulator.bucket,
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_DEFAULT_REGION: emulator.region,
    AWS_ACCESS_KEY_ID: emulator.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.secretAccessKey,
  };
}
