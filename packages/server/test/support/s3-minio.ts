import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOnFreePorts } from './s3-launch.js';
import { randomCredentials, runningServer, type S3ServerProcess } from './s3-server-process.js';

/** The version `.ci/run` installs; `@latest` moves, and MinIO's S3 answers have moved with it. */
export const MINIO_INSTALL_HINT = 'minio not found: go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c';

/** A single-drive MinIO serving a temporary folder, its web console on a port of its own. */
export async function startMinio(binary: string): Promise<S3ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 's3-minio-'));
  const credentials = randomCredentials();
  try {
    const started = await launchOnFreePorts({
      ports: 2,
      spawn: ([api, consolePort]) =>
        spawn(binary, ['server', dir, '--address', `127.0.0.1:${api}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'], {
          env: {
            ...process.env,
            MINIO_ROOT_USER: credentials.accessKeyId,
            MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
            // No look-up of newer releases from a test run.
            MINIO_UPDATE: 'off',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      // MinIO may listen before it can serve S3 requests; its readiness probe says when it can.
      readyPath: '/minio/health/ready',
      isReady: (response) => response.status === 200,
    });
    if ('failed' in started) throw new Error(`minio did not start: ${started.failed}`);
    return runningServer(started, credentials, dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
