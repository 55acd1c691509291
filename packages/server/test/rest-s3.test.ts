import { afterAll, describe } from 'vitest';
import { createS3Store } from '../src/storage/s3/index.js';
import { describeRestApi } from './rest-api.js';
import { isSkipped, type S3Emulator, startS3Emulator } from './support/s3-emulator.js';
import { s3StoreOptions } from './support/s3-harness.js';
import { startServer } from './support/server.js';

// The documented REST flow end to end through the server with the S3 driver: browser-style PUTs
// go straight to the S3 server's presigned URLs, which verifies their signatures.
const started = await startS3Emulator();
const skipReason = isSkipped(started) ? started.skipped : undefined;
if (skipReason) console.warn(`skipping REST over the S3 driver: ${skipReason}`);

afterAll(async () => {
  if (!skipReason) await (started as S3Emulator).stop();
});

describe.skipIf(skipReason !== undefined)('S3 driver', () => {
  describeRestApi('the S3 driver', () => startServer(async () => ({ store: createS3Store(s3StoreOptions(started as S3Emulator)) })));
});
