import { hash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { formatUrl } from '@aws-sdk/core/util';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/core/protocols';
import {
  ALGORITHM_IDENTIFIER,
  AMZ_DATE_QUERY_PARAM,
  createScope,
  getCanonicalHeaders,
  getPayloadHash,
  getSigningKey,
  SIGNATURE_QUERY_PARAM,
  SignatureV4,
} from '@smithy/signature-v4';
import type { AwsCredentialIdentity, HeaderBag, HttpRequest as HttpRequestShape } from '@smithy/types';
import { SHA256_HEADER } from '../checksum.js';
import { prefixedHmacSha256 } from '../hmac-sha256.js';
import { compileTemplate, fillTemplate, type TextTemplate } from './text-template.js';
import type { UploadPartRequest } from './upload-part-request.js';

/**
 * Signs one part's URL: synchronous, a few microseconds. A plan compiled for a pinned request
 * needs every part's content length, one for a checksummed request every part's checksum.
 */
export type PartUrlPlan = (partNumber: number, contentLength?: number, checksum?: string) => string;

export interface PlanOptions {
  credentials: AwsCredentialIdentity;
  signingDate: Date;
  expiresIn: number;
}

/** Slots shared by the canonical-request and URL templates. */
const PART_NUMBER = 0;
const CONTENT_LENGTH = 1;
const SIGNATURE = 2;
const CHECKSUM = 3;

const SHA256_HEX_LENGTH = 64;

/**
 * The two steps of SigV4 presigning that are protected in SignatureV4, opened up so they can
 * run once per batch. S3 signs paths as they are (no second escaping), as the SDK's presigner does.
 */
class CanonicalForms extends SignatureV4 {
  canonicalRequestOf(request: HttpRequestShape, headers: HeaderBag, payloadHash: string): string {
    return this.createCanonicalRequest(request, headers, payloadHash);
  }

  stringToSignOf(longDate: string, scope: string, canonicalRequest: string): Promise<string> {
    return this.createStringToSign(longDate, scope, canonicalRequest, ALGORITHM_IDENTIFIER);
  }
}

/**
 * Prepares the signing of many parts of one upload with one identity and signing time.
 *
 * The SDK presigns the request once, with sentinel digits for the part number (and content
 * length). Its URL and its canonical request are then cut at those sentinels. Per part what is
 * left is what SigV4 cannot share between parts: SHA-256 of the canonical request and the HMAC
 * of the string to sign with the signing key the SDK derived (its key blocks and the constant
 * head of the string to sign prepared once, see hmac-sha256.ts).
 *
 * Before the plan is used it must reproduce the SDK's own signature of the sentinel request;
 * when it cannot (a future SDK that canonicalizes differently, a sentinel found twice), the
 * answer is undefined and the caller lets the SDK sign every part.
 */
export async function compilePartUrlPlan(
  client: S3Client,
  template: UploadPartRequest,
  options: PlanOptions,
): Promise<PartUrlPlan | undefined> {
  const { credentials, signingDate, expiresIn } = options;
  const { signingRegion, signingName } = template;
  const pinned = template.contentLengthSentinel !== undefined;
  const checksummed = template.checksumSentinel !== undefined;
  // Slot order: PART_NUMBER, CONTENT_LENGTH, SIGNATURE (URL only), CHECKSUM.
  const sentinels = [template.partNumberSentinel, template.contentLengthSentinel, undefined, template.checksumSentinel];

  // What getSignedUrl does per part, done once: the SDK's presigner with the resolved identity.
  const presigner = new S3RequestPresigner({ ...client.config, credentials, signingName, region: signingRegion });
  const unsignableHeaders = new Set<string>();
  // The checksum stays a header (not hoisted into the query like other x-amz-* ones): S3 checks
  // the body against a checksum header only, and signing it binds the URL to those bytes.
  const unhoistableHeaders = checksummed ? new Set([SHA256_HEADER]) : undefined;
  const signed = [...(pinned ? ['content-length'] : []), ...(checksummed ? [SHA256_HEADER] : [])];
  const signableHeaders = signed.length > 0 ? new Set(signed) : undefined;
  const sentinelRequest = HttpRequest.clone(template.request);
  const presigned = await presigner.presign(sentinelRequest, {
    expiresIn,
    signingDate,
    signingRegion,
    signingService: signingName,
    unsignableHeaders,
    ...(signableHeaders ? { signableHeaders } : {}),
    ...(unhoistableHeaders ? { unhoistableHeaders } : {}),
  });
  const sdkSignature = presigned.query?.[SIGNATURE_QUERY_PARAM];
  const longDate = presigned.query?.[AMZ_DATE_QUERY_PARAM];
  if (typeof sdkSignature !== 'string' || typeof longDate !== 'string') return undefined;

  // The canonical request and string to sign the SDK just signed, rebuilt from its own parts:
  // the presigner filled `unsignableHeaders` and the payload-hash header on the way.
  const forms = new CanonicalForms({ ...client.config, credentials, region: signingRegion, service: signingName, uriEscapePath: false });
  const payloadHash = await getPayloadHash(sentinelRequest, client.config.sha256);
  const canonicalHeaders = getCanonicalHeaders(presigned, unsignableHeaders, signableHeaders);
  const canonicalRequest = forms.canonicalRequestOf(presigned, canonicalHeaders, payloadHash);
  const shortDate = longDate.slice(0, 8);
  const stringToSign = await forms.stringToSignOf(longDate, createScope(shortDate, signingRegion, signingName), canonicalRequest);
  const signingKey = await getSigningKey(client.config.sha256, credentials, shortDate, signingRegion, signingName);
  // The string to sign ends in the canonical request's hash; all before it is the same for every part.
  const stringToSignHead = stringToSign.slice(0, stringToSign.lastIndexOf('\n') + 1);
  const sign = prefixedHmacSha256(signingKey, stringToSignHead, SHA256_HEX_LENGTH);
  if (sign(stringToSign.slice(stringToSignHead.length)) !== sdkSignature) return undefined;

  const canonical = compileTemplate(canonicalRequest, sentinels);
  const sentinelUrl = formatUrl(presigned);
  // The content length and checksum travel as signed headers, not in the URL; should an SDK ever
  // hoist one, it is filled there too (the checksum URL-encoded, as the query holds it).
  const lengthInUrl = template.contentLengthSentinel !== undefined && sentinelUrl.includes(template.contentLengthSentinel);
  const checksumInUrl = template.checksumSentinel !== undefined && sentinelUrl.includes(encodeURIComponent(template.checksumSentinel));
  if (checksumInUrl) return undefined;
  const url = compileTemplate(sentinelUrl, [
    template.partNumberSentinel,
    lengthInUrl ? template.contentLengthSentinel : undefined,
    sdkSignature,
  ]);
  if (!canonical || !url) return undefined;
  return planFrom(canonical, url, sign);
}

/** One-shot hashing: for a canonical request of a few hundred bytes it beats copying a hash state. */
function planFrom(canonical: TextTemplate, url: TextTemplate, sign: (canonicalHash: string) => string): PartUrlPlan {
  const values = ['', '', '', ''];
  return (partNumber, contentLength, checksum) => {
    values[PART_NUMBER] = String(partNumber);
    values[CONTENT_LENGTH] = contentLength === undefined ? '' : String(contentLength);
    values[CHECKSUM] = checksum ?? '';
    values[SIGNATURE] = sign(hash('sha256', fillTemplate(canonical, values), 'hex'));
    return fillTemplate(url, values);
  };
}
