import { abortError, eitherSignal, graceSignal, isAbortError } from '../abort.js';
import { codeForStatus, type S3ServiceErrorCode, UploadError } from '../errors.js';
import { parseRetryAfter } from '../retry.js';
import { isNode } from '../runtime.js';
import { partRequestBody } from './part-body.js';
import type { PartPayload } from './source.js';
import { xhrPut } from './xhr-put.js';

export interface PutPartInput {
  fetch: typeof globalThis.fetch;
  url: string;
  /** Headers the signer said the PUT must carry (a checksum, on S3). */
  headers?: Record<string, string>;
  partNumber: number;
  payload: PartPayload;
  streaming: boolean;
  /** Sends a whole (not streamed) body with XMLHttpRequest, whose upload events count its bytes. */
  xhr: boolean;
  /** The upload's abort: the PUT is cut and this rejects with an AbortError. */
  signal: AbortSignal;
  /** The upload's pause: the PUT is cut like by an abort, and answers `paused`. */
  pause?: AbortSignal;
  /** Bytes of this attempt that went out so far. */
  onSent(bytes: number): void;
}

/**
 * What one PUT came to. A failure says what would fix it: `retry` the same URL later (network,
 * 408, 429, 5xx), `resign` (403: the URL may have expired), or nothing (`fail`). `paused`: the
 * upload's pause cut it, and it is to be sent again on resume.
 */
export type PutPartResult =
  | { ok: true; etag: string }
  | { ok: false; action: 'retry' | 'resign' | 'fail'; error: UploadError; retryAfterMs?: number }
  | { ok: false; action: 'paused' };

const RETRY_STATUSES = new Set([408, 429]);

/** How long an abort waits for the answer to a PUT whose body is already all sent. */
const ANSWER_GRACE_MS = 10_000;

/**
 * One PUT of one part to its signed URL; rejects only when aborted. An abort cuts a PUT that
 * is still sending at once (the store then drops the short body), but lets one that has sent
 * everything get its answer: the store is storing that part, and the upload must only be
 * aborted on the server once it has finished, or the part could land after the abort.
 */
export async function putPart(input: PutPartInput): Promise<PutPartResult> {
  const size = payloadSize(input.payload);
  let sent = 0;
  const onSent = (bytes: number) => {
    sent = bytes;
    input.onSent(bytes);
  };
  const { body, init, countsBytes } = partRequestBody(input.payload, input.streaming, onSent);
  const viaXhr = input.xhr && !countsBytes && size > 0;
  const stop = eitherSignal(input.signal, input.pause);
  const request = graceSignal(stop.signal, () => (countsBytes || viaXhr) && sent === size, ANSWER_GRACE_MS);
  const headers = { ...init.headers, ...input.headers };
  const send: PartSender = viaXhr
    ? (url, signal) => xhrPut(url, { body: input.payload, headers, signal }, onSent)
    : (url, signal) => input.fetch(url, { method: 'PUT', body, signal, ...init, headers } as RequestInit);
  try {
    const result = await sendAndRead(input, send, request.signal).catch((error: unknown) => {
      if (!input.signal.aborted && input.pause?.aborted) return { ok: false, action: 'paused' } as const;
      throw error;
    });
    if (input.signal.aborted) throw abortError(input.signal);
    // A part that was stored in the grace an answer gets is kept; any other outcome of a cut PUT is the pause's.
    if (!result.ok && input.pause?.aborted) return { ok: false, action: 'paused' };
    // Whole bodies count once stored (XHR's last upload event may come after its answer, or not at all).
    if (result.ok && !countsBytes) input.onSent(size);
    return result;
  } finally {
    request.dispose();
    stop.dispose();
  }
}

/** One attempt's request: fetch, or XMLHttpRequest for a whole body in a browser. */
type PartSender = (url: string, signal: AbortSignal) => Promise<Response>;

async function sendAndRead(input: PutPartInput, send: PartSender, signal: AbortSignal): Promise<PutPartResult> {
  const { partNumber } = input;
  let response: Response;
  try {
    response = await send(input.url, signal);
  } catch (error) {
    if (signal.aborted || isAbortError(error)) throw abortError(input.signal);
    const corsHint = isNode() ? '' : "; in a browser a CORS refusal looks the same: check the bucket's CORS rules";
    const message = `part ${partNumber}: the PUT got no answer (${describe(error)})${corsHint}`;
    return { ok: false, action: 'retry', error: new UploadError('NETWORK_ERROR', message, { partNumber, cause: error }) };
  }

  if (response.ok) {
    // The answer is read to the end so that the connection goes back to the pool.
    await response.arrayBuffer().catch(() => undefined);
    const etag = response.headers.get('etag');
    if (!etag) return { ok: false, action: 'fail', error: missingEtag(partNumber, response.status) };
    return { ok: true, etag };
  }

  const refusal = await readRefusal(response);
  const error = new UploadError(refusal.code, `part ${partNumber}: the store answered HTTP ${response.status}: ${refusal.message}`, {
    status: response.status,
    partNumber,
  });
  // Bytes that changed on the way: the part's own bytes, sent again, can pass.
  if (RETRY_STATUSES.has(response.status) || response.status >= 500 || refusal.code === 'CHECKSUM_MISMATCH') {
    return { ok: false, action: 'retry', error, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }
  if (response.status === 403) return { ok: false, action: 'resign', error };
  return { ok: false, action: 'fail', error };
}

/**
 * A browser reads only the response headers that CORS exposes; the part was stored, but without
 * its ETag it cannot be listed in `complete`.
 */
function missingEtag(partNumber: number, status: number): UploadError {
  return new UploadError(
    'MISSING_ETAG',
    `part ${partNumber}: the store answered ${status} without a readable ETag header. In a browser the bucket's CORS rules ` +
      'must expose it (ExposeHeaders: ["ETag"]); POST /s3/updateBucketConfig applies rules that do.',
    { status, partNumber },
  );
}

/** S3 (and S3-compatible stores) name their errors in XML; this service's store in JSON. */
const s3Codes: Readonly<Record<string, S3ServiceErrorCode>> = {
  NoSuchUpload: 'INVALID_UPLOAD_ID',
  AccessDenied: 'FORBIDDEN',
  SignatureDoesNotMatch: 'INVALID_SIGNATURE',
  ExpiredToken: 'INVALID_SIGNATURE',
  EntityTooLarge: 'PAYLOAD_TOO_LARGE',
  // A body whose bytes are not the signed checksum's: S3 and versitygw, MinIO.
  BadDigest: 'CHECKSUM_MISMATCH',
  XAmzContentChecksumMismatch: 'CHECKSUM_MISMATCH',
  SlowDown: 'S3_ERROR',
  InternalError: 'S3_ERROR',
  ServiceUnavailable: 'S3_ERROR',
};

async function readRefusal(response: Response): Promise<{ code: S3ServiceErrorCode; message: string }> {
  const text = (await response.text().catch(() => '')).slice(0, 4096);
  const fallback = { code: refusalCodeForStatus(response.status), message: response.statusText || 'no details' };
  try {
    const body = JSON.parse(text) as { code?: unknown; error?: unknown };
    if (typeof body.code === 'string') {
      return { code: body.code as S3ServiceErrorCode, message: typeof body.error === 'string' ? body.error : fallback.message };
    }
  } catch {
    // not JSON: perhaps S3's XML
  }
  const s3Code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  if (s3Code) {
    const s3Message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    return { code: s3Codes[s3Code] ?? fallback.code, message: `${s3Code}${s3Message ? `: ${s3Message}` : ''}` };
  }
  return fallback;
}

/** A part refused for a reason nobody named: the store would not take it. */
function refusalCodeForStatus(status: number): S3ServiceErrorCode {
  const code = codeForStatus(status);
  return code === 'UNEXPECTED_RESPONSE' ? 'UPLOAD_FAILED' : code;
}

function payloadSize(payload: PartPayload): number {
  return payload instanceof Blob ? payload.size : payload.byteLength;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause?.message;
  const message = error instanceof Error ? error.message : String(error);
  return typeof cause === 'string' ? `${message}: ${cause}` : message;
}
