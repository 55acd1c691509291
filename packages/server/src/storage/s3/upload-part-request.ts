import { randomBytes } from 'node:crypto';
import { type S3Client, type ServiceInputTypes, type ServiceOutputTypes, UploadPartCommand } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/core/protocols';
import type { FinalizeRequestMiddleware, HandlerExecutionContext } from '@smithy/types';
import { LRUCache } from 'lru-cache';

/**
 * The UploadPart request exactly as the SDK would send it (endpoint, path or virtual-hosted
 * bucket, query, headers), stopped just before the SDK signs it. A part number and, when the
 * URL pins the body size, a content length are filled with sentinel values that the caller
 * replaces per part: they are the only bytes in which the URLs of one upload differ.
 */
export interface UploadPartRequest {
  request: HttpRequest;
  /** Region and service name the endpoint rules chose for signing (`us-east-1`, `s3`). */
  signingRegion: string;
  signingName: string;
  /** Digits standing in for the part number; never a real part number (those are at most 10,000). */
  partNumberSentinel: string;
  /** Digits standing in for the content length, present only for pinned requests. */
  contentLengthSentinel?: string;
  /** A base64 SHA-256 standing in for the part's checksum, present only for checksummed requests. */
  checksumSentinel?: string;
}

/** Which request of an upload: with a pinned body size, with a signed checksum, or neither. */
export interface UploadPartTarget {
  bucket: string;
  key: string;
  uploadId: string;
  pinned: boolean;
  checksummed: boolean;
}

/** A request the fast signer cannot reproduce (SigV4a, S3 Express sessions): the SDK signs it itself. */
export class UnsupportedSigningError extends Error {
  override readonly name = 'UnsupportedSigningError';
}

interface AuthScheme {
  name?: string;
  signingName?: string;
  signingRegion?: string;
}

/** What the SDK's middleware leaves in the context for the signer; the keys getSignedUrl reads too. */
type SigningContext = HandlerExecutionContext & {
  signing_region?: string;
  signing_service?: string;
  s3ExpressIdentity?: unknown;
};

/**
 * Runs the SDK's own middleware stack for an UploadPartCommand up to the signing step, the way
 * `getSignedUrl` does, and keeps the unsigned request. This is the costly half of presigning
 * (endpoint rules, serialization: hundreds of microseconds), so it runs once per upload, not per part.
 */
export async function buildUploadPartRequest(client: S3Client, target: UploadPartTarget): Promise<UploadPartRequest> {
  const partNumberSentinel = sentinelDigits();
  const contentLengthSentinel = target.pinned ? sentinelDigits() : undefined;
  const checksumSentinel = target.checksummed ? randomBytes(32).toString('base64') : undefined;
  const command = new UploadPartCommand({
    Bucket: target.bucket,
    Key: target.key,
    UploadId: target.uploadId,
    PartNumber: Number(partNumberSentinel),
    ContentLength: contentLengthSentinel === undefined ? undefined : Number(contentLengthSentinel),
    ChecksumSHA256: checksumSentinel,
  });

  let captured: { request: HttpRequest; context: SigningContext } | undefined;
  const capture: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (_next, context) => async (args) => {
    if (HttpRequest.isInstance(args.request)) captured = { request: args.request, context };
    // Nothing is sent: the chain stops here with an empty answer.
    return { response: {}, output: { $metadata: {} } as ServiceOutputTypes };
  };
  const stack = client.middlewareStack.clone();
  stack.addRelativeTo(capture, { name: 'captureUploadPartRequest', relation: 'before', toMiddleware: 'awsAuthMiddleware', override: true });
  await command.resolveMiddleware(stack, client.config, {})({ input: command.input });
  if (!captured) throw new UnsupportedSigningError('the SDK built no HTTP request for UploadPart');

  const { request, context } = captured;
  const scheme = (context.endpointV2?.properties?.authSchemes as AuthScheme[] | undefined)?.[0];
  if (context.s3ExpressIdentity || (scheme?.name !== undefined && scheme.name !== 'sigv4')) {
    throw new UnsupportedSigningError(`auth scheme ${scheme?.name ?? 's3express'} is signed by the SDK`);
  }
  // Per-attempt bookkeeping headers: getSignedUrl drops them too, they must not be signed into a URL.
  for (const name of ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent']) delete request.headers[name];

  const signingRegion = context.signing_region ?? scheme?.signingRegion ?? (await client.config.region());
  const signingName = context.signing_service ?? scheme?.signingName ?? 's3';
  return { request, signingRegion, signingName, partNumberSentinel, contentLengthSentinel, checksumSentinel };
}

/**
 * Fifteen random digits with a leading non-zero: a valid integer for the SDK's serializers that
 * is all but certain to occur nowhere else in the request (the signer checks that it does not).
 */
function sentinelDigits(): string {
  let digits = String(1 + Math.floor(Math.random() * 9));
  while (digits.length < 15) digits += String(Math.floor(Math.random() * 10));
  return digits;
}

/**
 * Remembers the requests of recently signed uploads: a client signs an upload's parts in many
 * batches (@s3-service/client asks for 100 at a time), and each would otherwise rebuild the same request.
 * Oldest entries go first; an entry is a few hundred bytes.
 */
export class UploadPartRequestCache {
  readonly #entries: LRUCache<string, Promise<UploadPartRequest>>;

  constructor(capacity = 512) {
    this.#entries = new LRUCache({ max: capacity });
  }

  get(client: S3Client, target: UploadPartTarget): Promise<UploadPartRequest> {
    const id = `${target.bucket}\n${target.key}\n${target.uploadId}\n${target.pinned}\n${target.checksummed}`;
    const cached = this.#entries.get(id);
    if (cached) return cached;
    const built = buildUploadPartRequest(client, target);
    this.#entries.set(id, built);
    // A failed build is not remembered: the next batch tries again.
    built.catch(() => {
      if (this.#entries.get(id) === built) this.#entries.delete(id);
    });
    return built;
  }
}
