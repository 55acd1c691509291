import { S3Client, type S3ClientConfig, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sha256Base64 } from '../src/storage/checksum.js';
import { createS3Store } from '../src/storage/s3/index.js';
import { compilePartUrlPlan } from '../src/storage/s3/part-url-plan.js';
import { compileTemplate, fillTemplate } from '../src/storage/s3/text-template.js';
import { buildUploadPartRequest } from '../src/storage/s3/upload-part-request.js';

// Signing is local: none of these tests sends a request, so no S3 server is needed. That S3
// accepts the URLs is shown by the conformance suite on versitygw (s3-store.test.ts).

const BUCKET = 'media-bucket';
const REGION = 'eu-west-3';
const SIGNING_TIME = Date.UTC(2031, 4, 6, 7, 8, 9);
const EXPIRES_IN = 3600;
/** First, last, and numbers whose digit count changes the canonical request's length. */
const PART_NUMBERS = [1, 2, 9, 10, 99, 100, 999, 1000, 4321, 9999, 10000];
/** Real keys look like `ws/digital_assets/<id>`; odd characters check that paths are escaped as the SDK does. */
const KEYS = ['ws-1/digital_assets/Qm9vdHN0cmFwX2Fzc2V0X2lk', 'ws 2/digital_assets/a+b=c%d~é/…'];
const UPLOAD_ID = 'VXBsb2FkIElEIGZvciA2ODM1LmpwZw/x+y==';

const staticCredentials: AwsCredentialIdentity = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const sessionCredentials: AwsCredentialIdentity = {
  accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  // STS tokens are long and full of characters that need escaping in a query.
  sessionToken: `FwoGZXIvYXdzEJr//////////wEaDH+${'Qk9HVVMgVE9LRU4='.repeat(40)}/==`,
};

const endpoints: Record<string, Pick<S3ClientConfig, 'endpoint' | 'forcePathStyle'>> = {
  'a path-style custom endpoint': { endpoint: 'http://127.0.0.1:7070', forcePathStyle: true },
  'a virtual-hosted custom endpoint': { endpoint: 'https://objects.example.test:8443', forcePathStyle: false },
  'AWS, virtual-hosted': { forcePathStyle: false },
  'AWS, path-style': { forcePathStyle: true },
};

const clients: S3Client[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

type Endpoint = (typeof endpoints)[string];

/** The driver as production builds it (its own client from static credentials), its clock fixed. */
function storeWith(credentials: AwsCredentialIdentity, endpoint: Endpoint) {
  const where = { forcePathStyle: endpoint.forcePathStyle ?? false, ...(endpoint.endpoint ? { endpoint: String(endpoint.endpoint) } : {}) };
  return createS3Store({ bucket: BUCKET, region: REGION, credentials: { ...credentials }, now: () => SIGNING_TIME, ...where });
}

/** The driver on a client whose credentials come from a provider, as with the SDK's default chain. */
function storeWithProvider(provider: () => Promise<AwsCredentialIdentity>, endpoint: Endpoint) {
  const client = new S3Client({ region: REGION, credentials: provider, requestChecksumCalculation: 'WHEN_REQUIRED', ...endpoint });
  clients.push(client);
  return createS3Store({
    bucket: BUCKET,
    region: REGION,
    forcePathStyle: endpoint.forcePathStyle ?? false,
    client,
    now: () => SIGNING_TIME,
  });
}

/** The reference: the SDK's getSignedUrl, one part at a time, as the driver used to sign. */
async function sdkUrls(
  config: S3ClientConfig,
  key: string,
  partNumbers: readonly number[],
  contentLengths?: readonly number[],
  checksums?: readonly string[],
): Promise<string[]> {
  const client = new S3Client({ region: REGION, requestChecksumCalculation: 'WHEN_REQUIRED', ...config });
  clients.push(client);
  return Promise.all(
    partNumbers.map((partNumber, index) => {
      const contentLength = contentLengths?.[index];
      const checksum = checksums?.[index];
      const command = new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: UPLOAD_ID,
        PartNumber: partNumber,
        ContentLength: contentLength,
        ChecksumSHA256: checksum,
      });
      const signed = [
        ...(contentLength === undefined ? [] : ['content-length']),
        ...(checksum === undefined ? [] : ['x-amz-checksum-sha256']),
      ];
      const pin = signed.length === 0 ? {} : { signableHeaders: new Set(signed) };
      const keep = checksum === undefined ? {} : { unhoistableHeaders: new Set(['x-amz-checksum-sha256']) };
      return getSignedUrl(client, command, { expiresIn: EXPIRES_IN, signingDate: new Date(SIGNING_TIME), ...pin, ...keep });
    }),
  );
}

describe('S3 part URLs signed in a batch', () => {
  describe.each(Object.entries(endpoints))('on %s', (_name, endpoint) => {
    describe.each([
      ['long-term credentials', staticCredentials],
      ['session credentials (token)', sessionCredentials],
    ] as const)('with %s', (_credentialsName, credentials) => {
      it.each(KEYS)('signs byte-identical URLs to getSignedUrl for key %j', async (key) => {
        const store = storeWith(credentials, endpoint);
        const urls = await store.signPartUrls(key, UPLOAD_ID, PART_NUMBERS, EXPIRES_IN);
        await store.close?.();
        expect(urls).toEqual(await sdkUrls({ credentials, ...endpoint }, key, PART_NUMBERS));
      });

      it('signs byte-identical URLs with each part pinned to its content length', async () => {
        const lengths = PART_NUMBERS.map((partNumber) => (partNumber === 10000 ? 0 : 5 * 1024 * 1024 + partNumber));
        const store = storeWith(credentials, endpoint);
        const urls = await store.signPartUrls(KEYS[0]!, UPLOAD_ID, PART_NUMBERS, EXPIRES_IN, { contentLengths: lengths });
        await store.close?.();
        expect(urls).toEqual(await sdkUrls({ credentials, ...endpoint }, KEYS[0]!, PART_NUMBERS, lengths));
        expect(new URL(urls[0]!).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
      });

      it('signs byte-identical URLs with each part pinned to its length and its checksum, the checksum a signed header', async () => {
        const lengths = PART_NUMBERS.map((partNumber) => 5 * 1024 * 1024 + partNumber);
        const checksums = PART_NUMBERS.map((partNumber) => sha256Base64(Buffer.from(`part ${partNumber}`)));
        const store = storeWith(credentials, endpoint);
        const urls = await store.signPartUrls(KEYS[1]!, UPLOAD_ID, PART_NUMBERS, EXPIRES_IN, { contentLengths: lengths, checksums });
        await store.close?.();
        expect(urls).toEqual(await sdkUrls({ credentials, ...endpoint }, KEYS[1]!, PART_NUMBERS, lengths, checksums));
        const query = new URL(urls[0]!).searchParams;
        expect(query.get('X-Amz-SignedHeaders')).toBe('content-length;host;x-amz-checksum-sha256');
        // A header, never a query parameter: S3 checks the body only against the header.
        expect([...query.keys()].some((name) => name.toLowerCase().includes('checksum'))).toBe(false);
      });

      it('signs a batch that mixes checksummed and plain parts, each like getSignedUrl', async () => {
        const numbers = [1, 2, 3, 4];
        const lengths = [6_000_000, 6_000_000, 6_000_000, 6_000_000];
        const mixedChecksums = [sha256Base64(Buffer.from('a')), undefined, sha256Base64(Buffer.from('c')), undefined];
        const store = storeWith(credentials, endpoint);
        const urls = await store.signPartUrls(KEYS[0]!, UPLOAD_ID, numbers, EXPIRES_IN, {
          contentLengths: lengths,
          checksums: mixedChecksums as string[],
        });
        await store.close?.();
        expect(urls).toEqual(await sdkUrls({ credentials, ...endpoint }, KEYS[0]!, numbers, lengths, mixedChecksums as string[]));
      });
    });
  });

  it("signs with the SDK's own primitives, not a fallback, for every endpoint shape", async () => {
    for (const endpoint of Object.values(endpoints)) {
      for (const [pinned, checksummed] of [
        [false, false],
        [true, false],
        [true, true],
        [false, true],
      ] as const) {
        const client = new S3Client({
          region: REGION,
          credentials: sessionCredentials,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          ...endpoint,
        });
        clients.push(client);
        const request = await buildUploadPartRequest(client, { bucket: BUCKET, key: KEYS[1]!, uploadId: UPLOAD_ID, pinned, checksummed });
        const plan = await compilePartUrlPlan(client, request, {
          credentials: sessionCredentials,
          signingDate: new Date(SIGNING_TIME),
          expiresIn: EXPIRES_IN,
        });
        expect(plan).toBeTypeOf('function');
      }
    }
  });

  it('signs 10,000 parts in one batch, each URL for its own part number', async () => {
    const numbers = Array.from({ length: 10_000 }, (_, index) => index + 1);
    const store = storeWith(staticCredentials, endpoints['a path-style custom endpoint']!);
    const urls = await store.signPartUrls(KEYS[0]!, UPLOAD_ID, numbers, EXPIRES_IN);
    await store.close?.();
    expect(urls).toHaveLength(10_000);
    expect(urls.map((url) => Number(new URL(url).searchParams.get('partNumber')))).toEqual(numbers);
    expect(new Set(urls.map((url) => new URL(url).searchParams.get('X-Amz-Signature'))).size).toBe(10_000);
    const spotChecks = [1, 5000, 10_000];
    expect(spotChecks.map((partNumber) => urls[partNumber - 1])).toEqual(
      await sdkUrls({ credentials: staticCredentials, ...endpoints['a path-style custom endpoint']! }, KEYS[0]!, spotChecks),
    );
  });

  it('resolves credentials for every batch, so expiring session credentials are refreshed', async () => {
    // A provider like the default chain's for an assumed role: each answer expires soon, so the
    // SDK asks again on the next use. Every batch must be signed with the identity current then.
    const issued: AwsCredentialIdentity[] = [];
    const provider = async (): Promise<AwsCredentialIdentity> => {
      const generation = issued.length + 1;
      const credentials = {
        accessKeyId: `ASIAGENERATION${generation}`,
        secretAccessKey: `secret-of-generation-${generation}`,
        sessionToken: `token-of-generation-${generation}`,
        expiration: new Date(Date.now() + 60_000),
      };
      issued.push(credentials);
      return credentials;
    };
    const endpoint = endpoints['a path-style custom endpoint']!;
    const store = storeWithProvider(provider, endpoint);
    const first = await store.signPartUrls(KEYS[0]!, UPLOAD_ID, [1, 2], EXPIRES_IN);
    const second = await store.signPartUrls(KEYS[0]!, UPLOAD_ID, [1, 2], EXPIRES_IN);
    await store.close?.();

    const identityOf = (url: string) => new URL(url).searchParams.get('X-Amz-Credential')?.split('/')[0];
    const firstIdentity = identityOf(first[0]!);
    const secondIdentity = identityOf(second[0]!);
    expect(firstIdentity).toMatch(/^ASIAGENERATION\d+$/);
    expect(secondIdentity).toMatch(/^ASIAGENERATION\d+$/);
    expect(secondIdentity).not.toBe(firstIdentity);
    // Each batch is exactly what the SDK signs with that batch's credentials.
    for (const urls of [first, second]) {
      const used = issued.find((credentials) => credentials.accessKeyId === identityOf(urls[0]!))!;
      const { expiration: _expiration, ...fixed } = used;
      expect(urls).toEqual(await sdkUrls({ credentials: fixed, ...endpoint }, KEYS[0]!, [1, 2]));
    }
  });

  it('presigns once per upload and second: later signings of that second are the SDK URLs of their own instant', async () => {
    let now = SIGNING_TIME + 100;
    const endpoint = endpoints['a path-style custom endpoint']!;
    const store = createS3Store({
      bucket: BUCKET,
      region: REGION,
      credentials: { ...staticCredentials },
      forcePathStyle: true,
      endpoint: String(endpoint.endpoint),
      now: () => now,
    });
    const client = new S3Client({
      region: REGION,
      credentials: staticCredentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      ...endpoint,
    });
    clients.push(client);
    const sdkUrl = (uploadId: string, partNumber: number, expiresIn: number) =>
      getSignedUrl(client, new UploadPartCommand({ Bucket: BUCKET, Key: KEYS[0]!, UploadId: uploadId, PartNumber: partNumber }), {
        expiresIn,
        signingDate: new Date(now),
      });
    const presign = vi.spyOn(S3RequestPresigner.prototype, 'presign');
    try {
      // How many presigns each signing of the store made (the reference's own are not counted).
      const presigns: number[] = [];
      const signAt = async (at: number, uploadId: string, partNumber: number, expiresIn = EXPIRES_IN) => {
        now = at;
        const before = presign.mock.calls.length;
        const [url] = await store.signPartUrls(KEYS[0]!, uploadId, [partNumber], expiresIn);
        presigns.push(presign.mock.calls.length - before);
        expect(url).toBe(await sdkUrl(uploadId, partNumber, expiresIn));
      };
      await signAt(SIGNING_TIME + 100, UPLOAD_ID, 1);
      await signAt(SIGNING_TIME + 900, UPLOAD_ID, 2);
      await signAt(SIGNING_TIME + 999, UPLOAD_ID, 3);
      // Same second, another upload or another lifetime: each its own presign.
      await signAt(SIGNING_TIME + 999, `${UPLOAD_ID}-other`, 1);
      await signAt(SIGNING_TIME + 999, UPLOAD_ID, 4, 60);
      // The next second: a new X-Amz-Date, so a new presign.
      await signAt(SIGNING_TIME + 1000, UPLOAD_ID, 5);
      await signAt(SIGNING_TIME + 1500, UPLOAD_ID, 6);
      expect(presigns).toEqual([1, 0, 0, 1, 1, 1, 0]);
    } finally {
      presign.mockRestore();
      await store.close?.();
    }
  });

  it('answers S3_ERROR when the credentials cannot be resolved, as the SDK presigner did', async () => {
    const failing = async (): Promise<AwsCredentialIdentity> => {
      throw new Error('no credentials in the chain');
    };
    const store = storeWithProvider(failing, endpoints['AWS, virtual-hosted']!);
    await expect(store.signPartUrls(KEYS[0]!, UPLOAD_ID, [1], EXPIRES_IN)).rejects.toMatchObject({ appCode: 'S3_ERROR' });
    await store.close?.();
  });
});

describe('text templates of signed requests', () => {
  it('fills the holes where the sentinels stood, in text order', () => {
    const template = compileTemplate('a=111&b=22&sig=333', ['111', undefined, '333']);
    expect(template).toBeDefined();
    expect(fillTemplate(template!, ['7', '', 'abc'])).toBe('a=7&b=22&sig=abc');
  });

  it('refuses a sentinel that is missing or occurs twice, so a fill never replaces the wrong bytes', () => {
    expect(compileTemplate('partNumber=123&x=9', ['456'])).toBeUndefined();
    expect(compileTemplate('partNumber=123&uploadId=123', ['123'])).toBeUndefined();
    expect(compileTemplate('x=12345', ['234', '1234'])).toBeUndefined();
  });
});
