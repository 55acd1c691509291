import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A PostgreSQL server of the benchmark's own, on a loopback port, in a folder of the disk under test. */
export interface BenchPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  /** The server's version line (`postgres (PostgreSQL) 15.x`). */
  version: string;
  /** Whether commits wait for the WAL to reach the disk (PostgreSQL's defaults, as in production). */
  durable: boolean;
  /** Stops it (fast shutdown) and removes its files. */
  stop(): Promise<void>;
}

export type BenchPostgresResult = BenchPostgres | { skipped: string };

const HINT = 'PostgreSQL not found: apt-get install postgresql (or set POSTGRES_BIN_DIR to the folder of initdb and postgres)';
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * initdb and postgres on a free port of 127.0.0.1, as the catalogue tests start one, but with
 * PostgreSQL's durable defaults unless `durable` is false: the tests turn fsync and synchronous
 * commit off for speed, and a latency figure measured that way would leave out the WAL flush every
 * commit of a production server waits for. As root, the server runs as the `postgres` user.
 */
export async function startPostgres(options: { workDir: string; durable?: boolean }): Promise<BenchPostgresResult> {
  const binDir = findBinDir();
  if (!binDir) return { skipped: HINT };
  const durable = options.durable ?? true;
  const user = serverUser();
  // Not under the run's scratch folder: mkdtemp makes that 0700 for root, which the postgres user cannot enter.
  const dataDir = await mkdtemp(join(options.workDir, 's3-service-bench-pg-'));
  try {
    if (user) await chown(dataDir, user.uid, user.gid);
    execFileSync(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], {
      stdio: 'ignore',
      ...user,
    });
    const port = await freePort();
    const relaxed = durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
    const child = spawn(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir, ...relaxed], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...user,
    });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4096);
    });
    // A run cut short (Ctrl-C: main.ts exits) must not leave the server running.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    try {
      await waitUntilReady(binDir, port, child, () => output);
    } catch (error) {
      process.off('exit', killOnExit);
      await stopProcess(child);
      throw error;
    }
    const version = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      version,
      durable,
      stop: async () => {
        process.off('exit', killOnExit);
        await stopProcess(child);
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export function isPostgresSkipped(result: BenchPostgresResult): result is { skipped: string } {
  return 'skipped' in result;
}

/** POSTGRES_BIN_DIR, else the newest server under /usr/lib/postgresql (Debian, Ubuntu), else PATH. */
function findBinDir(): string | undefined {
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

/** PostgreSQL refuses to run as root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const [, , uid, gid] = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** pg_isready until it says the server accepts connections (the bench has no PostgreSQL client of its own). */
async function waitUntilReady(binDir: string, port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${output().trim()}`);
    const ready = await new Promise<boolean>((resolve) =>
      execFile(join(binDir, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-q'], (error) => resolve(!error)),
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${output().trim()}`);
}

/** SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave); SIGKILL if it hangs. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
