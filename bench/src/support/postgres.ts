import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
// The same look-up the catalogue tests use (the bench reads server internals by path already).
import {
  findPostgresBinDir,
  POSTGRES_INSTALL_HINT,
  postgresServerUser,
  stopPostgresServer,
} from '../../../packages/server/test/support/postgres-install.js';
import { freePort } from '../../../packages/server/test/support/processes.js';

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

const READY_TIMEOUT_MS = 20_000;

/**
 * initdb and postgres on a free port of 127.0.0.1, as the catalogue tests start one, but with
 * PostgreSQL's durable defaults unless `durable` is false: the tests turn fsync and synchronous
 * commit off for speed, and a latency figure measured that way would leave out the WAL flush every
 * commit of a production server waits for. As root, the server runs as the `postgres` user.
 */
export async function startPostgres(options: { workDir: string; durable?: boolean }): Promise<BenchPostgresResult> {
  const binDir = findPostgresBinDir();
  if (!binDir) return { skipped: POSTGRES_INSTALL_HINT };
  const durable = options.durable ?? true;
  const user = postgresServerUser();
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
      await stopPostgresServer(child);
      throw error;
    }
    const version = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      version,
      durable,
      stop: async () => {
        process.off('exit', killOnExit);
        await stopPostgresServer(child);
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
