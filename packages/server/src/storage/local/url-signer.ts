import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../../errors.js';
import { MAX_PARTS } from '../../schemas.js';
import { SHA256_BASE64 } from '../checksum.js';
import { keyedHmacSha256 } from '../hmac-sha256.js';

/** Signed URLs name the object under this path, e.g. `/storage/objects/<ws>/digital_assets/<id>`. */
export const SIGNED_OBJECT_PATH = '/storage/objects';

/** What a signature grants: one part PUT of one upload, or one object GET. */
export type Grant =
  | { method: 'PUT'; key: string; uploadId: string; partNumber: number; contentLength?: number; checksum?: string }
  | { method: 'GET'; key: string; fileName?: string; contentType?: string };

export interface UrlSignerOptions {
  secret: Buffer;
  publicUrl: () => string;
  now: () => number;
}

const EXPIRES = /^\d{1,15}$/;
const PART_NUMBER = /^[1-9]\d{0,4}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/** What a part URL may pin besides its part: the body's exact length and its SHA-256. */
export interface PartPins {
  contentLength?: number | undefined;
  /** Base64 SHA-256 of the body. */
  checksum?: string | undefined;
}

/**
 * Signs and checks the driver's own presigned URLs: HMAC-SHA256 over the method, key, upload id,
 * part number and expiry, so changing any of them, or using the URL late, is refused. Query names
 * follow S3 (`uploadId`, `partNumber`) so the URLs read like the ones the S3 driver hands out.
 */
export class UrlSigner {
  readonly #options: UrlSignerOptions;
  readonly #hmac: (text: string) => Buffer;

  constructor(options: UrlSignerOptions) {
    this.#options = options;
    this.#hmac = keyedHmacSha256(options.secret);
  }

  partUrl(key: string, uploadId: string, partNumber: number, expiresIn: number, pins: PartPins = {}): string {
    const grant: Grant = { method: 'PUT', key, uploadId, partNumber };
    if (pins.contentLength !== undefined) grant.contentLength = pins.contentLength;
    if (pins.checksum !== undefined) grant.checksum = pins.checksum;
    return this.#url(grant, expiresIn);
  }

  getUrl(key: string, expiresIn: number, options: { fileName?: string | undefined; contentType?: string | undefined } = {}): string {
    const grant: Grant = { method: 'GET', key };
    if (options.fileName !== undefined) grant.fileName = options.fileName;
    if (options.contentType !== undefined) grant.contentType = options.contentType;
    return this.#url(grant, expiresIn);
  }

  /** Checks a PUT to `key` with the URL's query; returns the part it grants. */
  verifyPart(key: string, query: URLSearchParams): { uploadId: string; partNumber: number; contentLength?: number; checksum?: string } {
    const uploadId = single(query, 'uploadId');
    const partNumber = single(query, 'partNumber');
    const contentLength = query.has('contentLength') ? single(query, 'contentLength') : '';
    const checksum = query.has('checksumSha256') ? single(query, 'checksumSha256') : '';
    if (uploadId === undefined || partNumber === undefined || !PART_NUMBER.test(partNumber) || Number(partNumber) > MAX_PARTS) {
      throw invalidSignature('the URL is not a signed part URL');
    }
    if (contentLength === undefined || (contentLength !== '' && !EXPIRES.test(contentLength))) {
      throw invalidSignature('the URL is not a signed part URL');
    }
    if (checksum === undefined || (checksum !== '' && !SHA256_BASE64.test(checksum))) {
      throw invalidSignature('the URL is not a signed part URL');
    }
    const grant = {
      method: 'PUT',
      key,
      uploadId,
      partNumber: Number(partNumber),
      ...(contentLength === '' ? {} : { contentLength: Number(contentLength) }),
      ...(checksum === '' ? {} : { checksum }),
    } as const;
    this.#verify(grant, query);
    return grant;
  }

  /** The name and type a GET was signed with come back from here, so no one can change a download by editing the URL. */
  verifyGet(key: string, query: URLSearchParams): { fileName?: string; contentType?: string } {
    const fileName = query.has('name') ? single(query, 'name') : '';
    const contentType = query.has('type') ? single(query, 'type') : '';
    if (fileName === undefined || contentType === undefined) throw invalidSignature('the URL is not a signed URL');
    const served: { fileName?: string; contentType?: string } = {};
    if (fileName !== '') served.fileName = fileName;
    if (contentType !== '') served.contentType = contentType;
    this.#verify({ method: 'GET', key, ...served }, query);
    return served;
  }

  #url(grant: Grant, expiresIn: number): string {
    const expires = Math.floor(this.#options.now() / 1000) + expiresIn;
    const query = new URLSearchParams();
    if (grant.method === 'PUT') {
      query.set('uploadId', grant.uploadId);
      query.set('partNumber', String(grant.partNumber));
      if (grant.contentLength !== undefined) query.set('contentLength', String(grant.contentLength));
      if (grant.checksum !== undefined) query.set('checksumSha256', grant.checksum);
    } else {
      if (grant.fileName !== undefined) query.set('name', grant.fileName);
      if (grant.contentType !== undefined) query.set('type', grant.contentType);
    }
    query.set('expires', String(expires));
    query.set('signature', this.#sign(grant, expires).toString('hex'));
    const base = this.#options.publicUrl().replace(/\/+$/, '');
    return `${base}${SIGNED_OBJECT_PATH}/${encodeKey(grant.key)}?${query}`;
  }

  /** The signature is checked before the expiry, which is only trustworthy once signed. */
  #verify(grant: Grant, query: URLSearchParams): void {
    const expires = single(query, 'expires');
    const signature = single(query, 'signature');
    if (expires === undefined || signature === undefined || !EXPIRES.test(expires) || !SIGNATURE.test(signature)) {
      throw invalidSignature('the URL is not a signed URL');
    }
    const expected = this.#sign(grant, Number(expires));
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      throw invalidSignature('the signature does not match the URL');
    }
    if (this.#options.now() / 1000 > Number(expires)) {
      throw invalidSignature('the signed URL has expired');
    }
  }

  /** A JSON array as the signed text: no choice of field values can shift one field into another. */
  #sign(grant: Grant, expires: number): Buffer {
    const fields = grant.method === 'PUT' ? [grant.uploadId, grant.partNumber] : ['', 0];
    // v1 URLs (no pinned length) keep their exact signed text, so URLs signed before stay valid.
    // A checksum is signed as a tagged string, which no length (a number) or name can equal.
    const pinned =
      grant.method === 'PUT'
        ? [
            ...(grant.contentLength !== undefined ? [grant.contentLength] : []),
            ...(grant.checksum !== undefined ? [`sha256:${grant.checksum}`] : []),
          ]
        : [
            ...(grant.fileName !== undefined ? [grant.fileName] : []),
            // An object, which no name (a string) can be mistaken for.
            ...(grant.contentType !== undefined ? [{ type: grant.contentType }] : []),
          ];
    const text = JSON.stringify(['s3-service/local/v1', grant.method, grant.key, ...fields, expires, ...pinned]);
    return this.#hmac(text);
  }
}

/** Each key segment is percent-encoded on its own so the slashes stay path separators. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** A repeated parameter is as suspect as a missing one. */
function single(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

function invalidSignature(reason: string): AppError {
  return new AppError('INVALID_SIGNATURE', reason);
}
