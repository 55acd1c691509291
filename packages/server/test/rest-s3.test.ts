import { GetBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../src/storage/s3/index.js';
import { describeRestApi } from './rest-api.js';
import { rest } from './support/rest-client.js';
import { emulatorClient, isSkipped, type S3Emulator, s3ServersUnderTest, startS3Emulator } from './support/s3-emulator.js';
import { s3StoreOptions } from './support/s3-harness.js';
import { startServer } from './support/server.js';

// The documented REST flow end to end through the server with the S3 driver, on every S3 server of
// the tests: browser-style PUTs go straight to the S3 server's presigned URLs, which verifies their signatures.
const servers = await Promise.all(
  s3ServersUnderTest().map(async (server) => {
    const started = await startS3Emulator({ server });
    const skipReason = isSkipped(started) ? started.skipped : undefined;
    if (skipReason) console.warn(`skipping REST over the S3 driver on ${server}: ${skipReason}`);
    return { label: server === 'external' ? 'S3_TEST_ENDPOINT' : server, started, skipReason };
  }),
);

afterAll(async () => {
  await Promise.all(servers.map(({ started }) => (isSkipped(started) ? undefined : started.stop())));
});

describe.each(servers)('S3 driver on $label', ({ label, started, skipReason }) => {
  const emulator = started as S3Emulator;
  const startS3Server = () => startServer(async () => ({ store: createS3Store(s3StoreOptions(emulator)) }));

  describe.skipIf(skipReason !== undefined)(label, () => {
    describeRestApi(`the S3 driver on ${label}`, startS3Server, { bucketCorsApi: !skipReason && emulator.bucketCorsApi });

    it.runIf(!skipReason && !emulator.bucketCorsApi)(
      'without a bucket CORS API, getBucketConfig still reads (no rules) and updateBucketConfig changes nothing, lifecycle included',
      async () => {
        const server = await startS3Server();
        try {
          const refused = await rest(server.url, 'POST', '/s3/updateBucketConfig');
          expect(refused.status).toBe(501);
          expect(refused.body).toEqual({ code: 'NOT_SUPPORTED', error: expect.stringMatching(/no bucket CORS API/) });
          const withLifecycle = await rest(server.url, 'POST', '/s3/updateBucketConfig', { json: { AbortIncompleteUploadsAfterDays: 2 } });
          expect(withLifecycle).toMatchObject({ status: 501, body: { code: 'NOT_SUPPORTED' } });
          const config = await rest(server.url, 'GET', '/s3/getBucketConfig');
          expect(config).toMatchObject({ status: 200, body: { CORSRules: [] } });
          const s3 = emulatorClient(emulator);
          try {
            const lifecycle = await s3
              .send(new GetBucketLifecycleConfigurationCommand({ Bucket: emulator.bucket }))
              .catch((error: Error) => error);
            expect(lifecycle).toMatchObject({ name: 'NoSuchLifecycleConfiguration' });
          } finally {
            s3.destroy();
          }
        } finally {
          await server.close();
        }
      },
    );
  });
});
