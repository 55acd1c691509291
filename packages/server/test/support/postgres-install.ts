import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/* Where this machine's PostgreSQL is and whom it must run as: shared by the tests' server and the bench's. */

export const POSTGRES_INSTALL_HINT =
  'PostgreSQL not found: apt-get install postgresql (or set POSTGRES_BIN_DIR to the folder of initdb and postgres)';

/** POSTGRES_BIN_DIR, else the newest Debian/Ubuntu server under /usr/lib/postgresql, else PATH. */
export function findPostgresBinDir(): string | undefined {
  const named = process.env.POSTGRES_BIN_DIR;
  if (named) return existsSync(join(named, 'postgres')) ? named : undefined;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    const initdb = execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim();
    return initdb ? join(initdb, '..') : undefined;
  } catch {
    return undefined;
  }
}

/** PostgreSQL refuses to run as root; a root run hands the server to the `postgres` user. */
export function postgresServerUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const [, , uid, gid] = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * SIGINT is PostgreSQL's fast shutdown: it cuts the clients' connections, as a crashed or
 * restarted database does. SIGTERM would wait for every pooled connection to leave by itself.
 */
export async function stopPostgresServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
