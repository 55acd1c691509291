import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { devNull, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const serverPackage = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const repoRoot = resolve(serverPackage, '../..');
/**
 * tsx as a loader inside the one node process: a signal sent to `child` reaches the server itself
 * (the tsx CLI would put a second process in between, which a SIGKILL orphans). The condition
 * makes `@s3-service/server` resolve to its TypeScript source, as `pnpm start` does.
 */
const TSX_LOADER = ['--conditions=@s3-service/source', '--import', 'tsx'];

/** `pnpm start`'s entry point and the cleanup command, run as separate processes like in production. */
export const API_MAIN = join(repoRoot, 'apps/api/src/main.ts');
export const CLEANUP_COMMAND = join(repoRoot, 'apps/api/src/cleanup-uploads.ts');
/** `pnpm run catalog:sync` and `pnpm run migrate`. */
export const CATALOG_SYNC_COMMAND = join(repoRoot, 'apps/api/src/catalog-sync.ts');
export const MIGRATE_COMMAND = join(repoRoot, 'apps/api/src/migrate.ts');

export interface ApiProcess {
  child: ChildProcess;
  /** Where it listens; empty if it exited before listening. */
  url: string;
  /** JSON log lines so far (stdout); other lines are kept as `{ text }`. */
  logs: Array<Record<string, unknown>>;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface RunOptions {
  /**
   * Working directory; the repo root by default. A test that names one means that folder's .env;
   * the repo root's .env is a developer's and is never read (ENV_FILE is an empty file instead).
   */
  cwd?: string;
}

/**
 * Only the variables a test names reach the child, plus PATH and HOME: settings of the machine
 * running the tests (an AWS_BUCKET, a REDIS_URL, a .env file) must not change what is tested.
 */
function childEnv(env: Record<string, string>, options: RunOptions): NodeJS.ProcessEnv {
  const envFile = options.cwd === undefined ? { ENV_FILE: devNull } : {};
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', ...envFile, ...env };
}

/** `--import tsx` is resolved from the working directory, which outside the repo has no tsx. */
function loaderFor(options: RunOptions): string[] {
  if (options.cwd === undefined) return TSX_LOADER;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return TSX_LOADER.map((arg) => (arg === 'tsx' ? tsx : arg));
}

/** Runs `script` under tsx and collects its output. */
export function runScript(script: string, env: Record<string, string>, args: string[] = [], options: RunOptions = {}): ApiProcess {
  // Without a STORAGE_DIR of the test's (an S3 store), the embedded catalogue would go to the
  // repository's ./data, shared by every such test: each process gets a folder of its own instead.
  // A test that sets it through a .env file (its own cwd or ENV_FILE) keeps its own.
  const namesOwnDir = env.STORAGE_DIR !== undefined || env.ENV_FILE !== undefined || options.cwd !== undefined;
  const ownDir = namesOwnDir ? undefined : mkdtempSync(join(tmpdir(), 's3-service-api-'));
  const child = spawn(process.execPath, [...loaderFor(options), script, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(ownDir ? { STORAGE_DIR: ownDir, ...env } : env, options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (ownDir) child.once('exit', () => rmSync(ownDir, { recursive: true, force: true }));
  const logs: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ text: line });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_384);
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  // A test that fails half-way must not leave its server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => {
    process.off('exit', killOnExit);
    for (const wake of waiters) wake();
  });

  const api: ApiProcess = {
    child,
    url: '',
    logs,
    stderr: () => stderr,
    exited,
    waitForLog: (match, timeoutMs = 20_000) =>
      new Promise((resolveLine, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) return finish(() => resolveLine(found));
          if (child.exitCode !== null || child.signalCode !== null) {
            finish(() => reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before the log line: ${stderr}`)));
          }
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no such log line within ${timeoutMs} ms: ${stderr}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
  };
  return api;
}

/** Starts the API and waits until it listens. */
export async function startApi(env: Record<string, string>): Promise<ApiProcess> {
  const api = runScript(API_MAIN, env);
  const line = await api.waitForLog((entry) => typeof entry.url === 'string' && entry.msg !== undefined);
  api.url = line.url as string;
  return api;
}

/** SIGKILL and wait, for cleanups. */
export async function killApi(api: ApiProcess): Promise<void> {
  if (api.child.exitCode === null && api.child.signalCode === null) api.child.kill('SIGKILL');
  await api.exited;
}
