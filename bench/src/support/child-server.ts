import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { FromChild, RequestTiming, ToChild } from '../servers/ipc.js';

/** Something that can profile the process doing a piece of work, writing a .cpuprofile to `file`. */
export interface Profiler {
  profile<T>(run: () => Promise<T>, file: string): Promise<T>;
}

export interface ChildServer extends Profiler {
  url: string;
  /** RSS of the server before `run`, its peak while `run` ran (sampled every 5 ms), and after. */
  measureRss<T>(run: () => Promise<T>): Promise<{ result: T; before: number; peak: number; after: number }>;
  /** Wall and CPU time (ms) of each request since the last call, when the server records them. */
  takeTimings(): Promise<RequestTiming[]>;
  /** CPU time (user + system, µs) the server process has used since it started. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

export interface ChildServerOptions {
  /** Passed to the child as environment variables (its configuration). */
  env?: Record<string, string>;
  /** `ignore`: the child's stdout goes nowhere (a server that logs every request, as Companion does). */
  stdout?: 'inherit' | 'ignore';
}

/** Omit that keeps a union a union, one member at a time. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const benchDir = fileURLToPath(new URL('../..', import.meta.url));
// Generous: on a loaded machine the service's start (PGlite compiling its WebAssembly) took over 30 s.
const READY_TIMEOUT_MS = 60_000;

/**
 * Runs `servers/<name>.ts` to its end in its own Node process and returns the value it sends
 * (`{ type: 'result', value }`); rejects if it exits without one.
 */
export function runChildTask<T>(name: 'complete-task', env: Record<string, string>): Promise<T> {
  const entry = fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@s3-service/source', '--import', 'tsx', entry], {
    cwd: benchDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: { value: T } | undefined;
    child.on('message', (message: FromChild) => {
      if (message.type !== 'result') return;
      result = { value: message.value as T };
      // The channel would keep the child alive; it exits once its own clean-up is done.
      child.disconnect();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      result ? resolve(result.value) : reject(new Error(`${name} exited without a result (${code ?? signal})`)),
    );
  });
}

/** Starts `servers/<name>.ts` in its own Node process (TypeScript through tsx) and waits until it listens. */
export async function startChildServer(
  name: 'api-server' | 'bare-server' | 'file-server' | 'companion-server' | 'md5-receiver',
  options: ChildServerOptions = {},
): Promise<ChildServer> {
  const entry = fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@s3-service/source', '--import', 'tsx', entry], {
    cwd: benchDir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'],
  });
  const url = await waitForReady(child);
  let nextId = 1;
  const ask = <T extends FromChild['type']>(message: WithoutId<ToChild>, answer: T) => {
    const id = nextId++;
    return new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const onMessage = (reply: FromChild) => {
        if (!('id' in reply) || reply.id !== id) return;
        child.off('message', onMessage);
        if (reply.type === answer) resolve(reply as Extract<FromChild, { type: T }>);
        else reject(new Error(`server answered ${reply.type} to ${message.type}`));
      };
      child.on('message', onMessage);
      child.send({ ...message, id } as ToChild);
    });
  };
  return {
    url,
    measureRss: async (run) => {
      await ask({ type: 'rss-start' }, 'ok');
      // Sampling stops whatever the outcome, so a failed run leaves no timer in the server.
      const outcome = await run().then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const rss = await ask({ type: 'rss-stop' }, 'rss');
      if (!outcome.ok) throw outcome.error;
      return { result: outcome.result, before: rss.before, peak: rss.peak, after: rss.after };
    },
    takeTimings: async () => (await ask({ type: 'timings' }, 'timings')).requests,
    cpuMicros: async () => (await ask({ type: 'cpu' }, 'cpu')).micros,
    profile: async (run, file) => {
      await ask({ type: 'profile-start' }, 'ok');
      try {
        return await run();
      } finally {
        await ask({ type: 'profile-stop', file }, 'ok');
      }
    },
    stop: () => stopChild(child),
  };
}

function waitForReady(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the server did not start in time')), READY_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('exit', (code, signal) => fail(new Error(`the server exited before listening (${code ?? signal})`)));
    child.on('message', (message: FromChild) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(message.url);
    });
  });
}

/** SIGTERM lets the child close its server; SIGKILL if it hangs. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A server counts as quiet when it used less than this share of one core over a sample. */
const QUIET_CPU_SHARE = 0.05;
const QUIET_SAMPLE_MS = 50;
const QUIET_WAIT_MAX_MS = 3_000;

/**
 * Waits until none of `servers` is still busy with the work before (a GC, a log flush after a
 * burst of requests), so that a measurement that follows another server's does not share the
 * two cores with its tail. Gives up after a few seconds: a server that never goes quiet is
 * measured as it is.
 */
export async function untilQuiet(servers: readonly ChildServer[]): Promise<void> {
  const deadline = performance.now() + QUIET_WAIT_MAX_MS;
  let before = await Promise.all(servers.map((server) => server.cpuMicros()));
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_SAMPLE_MS));
    const now = await Promise.all(servers.map((server) => server.cpuMicros()));
    if (now.every((micros, index) => micros - before[index]! < QUIET_SAMPLE_MS * 1000 * QUIET_CPU_SHARE)) return;
    before = now;
  }
}
