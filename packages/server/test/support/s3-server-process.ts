import { randomBytes } from 'node:crypto';

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

/** A test run cut short (Ctrl-C, a crashed worker) must not leave the server running. */
export function killOnExit(child: { kill(signal: NodeJS.Signals): unknown }): () => void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return () => process.off('exit', kill);
}
