import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findPostgresBinDir, POSTGRES_INSTALL_HINT, postgresServerUser, stopPostgresServer } from './postgres-install.js';
import { freePort } from './processes.js';

export { POSTGRES_INSTALL_HINT };

/** A PostgreSQL server of the test's own, on a loopback port, in a temporary folder. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  port: number;
  /** A fresh, empty database on this server, for one catalogue. */
  createDatabase(): Promise<string>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as in a network partition. */
  pause(): void;
  resume(): void;
  /** Stops it; `start` brings it back on the same port with the same data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

export type TestPostgresResult = TestPostgres | { skipped: string };

/** Missing PostgreSQL skips the suite on a developer's machine and fails it in CI, where `.ci/run` installs it. */
export async function startPostgres(): Promise<TestPostgresResult> {
  const binDir = findPostgresBinDir();
  if (!binDir) {
    if (process.env.CI) throw new Error(POSTGRES_INSTALL_HINT);
    return { skipped: POSTGRES_INSTALL_HINT };
  }
  const user = postgresServerUser();
  const dataDir = await mkdtemp(join(tmpdir(), 's3-service-pg-'));
  if (user) await chown(dataDir, user.uid, user.gid);
  execFileSync(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], {
    stdio: 'ignore',
    ...user,
  });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const start = async () => {
    const server = spawn(
      join(binDir, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-k',
        dataDir,
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...user },
    );
    let output = '';
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child = server;
    await waitUntilAccepting(url, server, () => output);
  };

  await start();
  let databases = 0;
  return {
    url,
    port,
    createDatabase: async () => {
      databases += 1;
      const name = `catalog_${process.pid}_${databases}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: async () => {
      if (child) await stopPostgresServer(child);
    },
    start,
    destroy: async () => {
      child?.kill('SIGCONT');
      if (child) await stopPostgresServer(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function isPostgresSkipped(result: TestPostgresResult): result is { skipped: string } {
  return 'skipped' in result;
}

async function waitUntilAccepting(url: string, server: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`postgres exited (${server.exitCode}): ${output().trim()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`postgres did not accept connections within 20 s: ${output().trim()}`);
}
