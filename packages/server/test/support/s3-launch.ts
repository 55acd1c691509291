import type { ChildProcess } from 'node:child_process';
import { freePort, stopProcess } from './processes.js';

const READY_TIMEOUT_MS = 30_000;

export interface LaunchSpec {
  /** How many free ports the server binds; the first one serves S3. */
  ports: number;
  spawn(ports: readonly number[]): ChildProcess;
  /** Whether an answer from the S3 port means the server is serving requests. */
  isReady(response: Response): boolean;
  /** A path asked while waiting; `/` when the server has no health route. */
  readyPath: string;
}

export type Launched = { child: ChildProcess; endpoint: string } | { failed: string };

/**
 * Starts a server on free ports of 127.0.0.1 and waits until it serves. A port taken between
 * probing and binding makes the server exit; that is retried on new ports.
 */
export async function launchOnFreePorts(spec: LaunchSpec): Promise<Launched> {
  let last: Launched = { failed: 'not started' };
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = await distinctFreePorts(spec.ports);
    const child = spec.spawn(ports);
    const output = captureOutput(child);
    const endpoint = `http://127.0.0.1:${ports[0]}`;
    if (await waitUntilReady(endpoint, spec, child)) return { child, endpoint };
    await stopProcess(child);
    last = { failed: `${output().trim() || 'no output'} (exit ${child.exitCode ?? child.signalCode})` };
    if (!/address already in use/i.test(output())) return last;
  }
  return last;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
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

async function waitUntilReady(endpoint: string, spec: LaunchSpec, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const response = await fetch(`${endpoint}${spec.readyPath}`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (spec.isReady(response)) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
