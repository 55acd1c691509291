import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { stopProcess } from './processes.js';

/** A test S3 server this process started, before its bucket exists. */
export interface S3ServerProcess {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/** Fresh root credentials per server, so no test can rely on another run's. */
export function randomCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: `test${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(24).toString('hex') };
}

/**
 * The started server as suites use it: stopping it kills the process and removes its folder, and
 * a test run cut short before that still kills it.
 */
export function runningServer(
  started: { child: ChildProcess; endpoint: string },
  credentials: { accessKeyId: string; secretAccessKey: string },
  dir: string,
): S3ServerProcess {
  const forget = killOnExit(started.child);
  return {
    endpoint: started.endpoint,
    ...credentials,
    stop: async () => {
      forget();
      await stopProcess(started.child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A test run cut short (Ctrl-C, a crashed worker) must not leave the server running. */
export function killOnExit(child: { kill(signal: NodeJS.Signals): unknown }): () => void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return () => process.off('exit', kill);
}
