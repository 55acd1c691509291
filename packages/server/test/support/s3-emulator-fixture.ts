import { afterAll, beforeAll } from 'vitest';
import { isSkipped, type S3Emulator, type StartS3EmulatorOptions, startS3Emulator } from './s3-emulator.js';

/** What `useS3Emulator` hands a test file: the running emulator, or why there is none. */
export interface S3EmulatorFixture {
  /** The emulator; throws the reason to skip when there is none. */
  readonly emulator: S3Emulator;
  /** Skips the calling test, with the reason, when there is no emulator. */
  skipUnlessRunning(context: { skip(note?: string): void }): void;
}

/** Starts an emulator (versitygw unless told) before the file's (or describe block's) tests and stops it after them. */
export function useS3Emulator(options: StartS3EmulatorOptions = {}): S3EmulatorFixture {
  let running: S3Emulator | undefined;
  let skipped = 'the S3 emulator has not started';
  beforeAll(async () => {
    const result = await startS3Emulator(options);
    if (isSkipped(result)) skipped = result.skipped;
    else running = result;
  }, 60_000);
  afterAll(async () => running?.stop());
  return {
    get emulator() {
      if (!running) throw new Error(skipped);
      return running;
    },
    skipUnlessRunning(context) {
      if (!running) context.skip(skipped);
    },
  };
}
