import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOnFreePorts } from './s3-launch.js';
import { randomCredentials, runningServer, type S3ServerProcess } from './s3-server-process.js';

export const VERSITYGW_INSTALL_HINT = 'versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.7.0';

/** versitygw's posix backend serving a temporary folder. */
export async function startVersitygw(binary: string): Promise<S3ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 's3-emulator-'));
  const root = join(dir, 'root');
  await mkdir(root);
  const credentials = randomCredentials();
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
    return runningServer(started, credentials, dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function launch(binary: string, root: string, credentials: { accessKeyId: string; secretAccessKey: string }, sidecar: string | undefined) {
  const backendArgs = sidecar ? ['posix', '--sidecar', sidecar, root] : ['posix', root];
  return launchOnFreePorts({
    ports: 1,
    spawn: ([port]) =>
      spawn(binary, ['--port', `127.0.0.1:${port}`, '--quiet', ...backendArgs], {
        env: { ...process.env, ROOT_ACCESS_KEY: credentials.accessKeyId, ROOT_SECRET_KEY: credentials.secretAccessKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    // Any HTTP answer (versitygw says 403 to an unsigned GET /) means it is serving.
    readyPath: '/',
    isReady: () => true,
  });
}
