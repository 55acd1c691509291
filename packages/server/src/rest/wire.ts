import { z } from 'zod';
import { PART_URL_EXPIRES_IN } from '../router/upload.js';
import {
  assetId,
  corsRule,
  etag,
  MAX_PARTS,
  objectKey,
  partNumber,
  partSize,
  uploadExpiryDays,
  uploadId,
  workspaceId,
} from '../schemas.js';
import { assetKey } from '../storage/keys.js';

/*
 * The shapes on the /s3 wire, spelled as REST callers spell them (`PartNumber`, `ETag`,
 * `CORSRules`) and built from the same field schemas the procedures validate with. They feed the
 * OpenAPI document and type-check the handlers' answers; requests are validated by the procedures.
 */

/** A field schema's pattern without its anchors, to compose a larger pattern from it. */
function patternBody(schema: z.ZodType): string {
  const { pattern } = z.toJSONSchema(schema) as { pattern?: string };
  if (!pattern) throw new Error('schema has no pattern to compose');
  return pattern.replace(/^\^/, '').replace(/\$$/, '');
}

/**
 * What `parseAssetKey` accepts, as far as a pattern can say it: `{workspaceId}/digital_assets/
 * {assetId}`. That the first segment equals the workspaceId parameter is checked by the procedure.
 */
const [, assetFolder] = assetKey('w', 'a').split('/');
export const assetKeyParameter = objectKey.regex(new RegExp(`^${patternBody(workspaceId)}/${assetFolder}/${patternBody(assetId)}$`), {
  error: 'must be a key of this workspace',
});

/** `Range: bytes=...`; anything the server cannot use as one range is ignored, not refused. */
export const rangeHeaderValue = z.string();

export const startUploadResponse = z.strictObject({ uploadId, assetId });

export const partUrlResponse = z.strictObject({
  url: z.url(),
  expiresIn: z
    .int()
    .min(1)
    .describe(`Seconds the URL stays valid: ${PART_URL_EXPIRES_IN}.`)
    .meta({ examples: [PART_URL_EXPIRES_IN] }),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('Headers the PUT must send as they are (the checksum, on S3), present only for a checksummed part.'),
});

export const completedPart = z.object({ ETag: etag, PartNumber: partNumber });

export const completeUploadBody = z.object({
  uploadId,
  assetId,
  workspaceId,
  parts: z.array(completedPart).min(1).max(MAX_PARTS),
});

export const completeUploadResponse = z.strictObject({
  success: z.literal(true),
  location: z.string().regex(/^s3:\/\/[^/]+\/.+$/),
  key: objectKey,
});

export const successResponse = z.strictObject({ success: z.literal(true) });

export const listPartsResponse = z.strictObject({
  parts: z.array(z.strictObject({ PartNumber: partNumber, ETag: etag, Size: partSize })),
});

export const bucketConfigResponse = z.strictObject({ CORSRules: z.array(corsRule) });

/** Custom rules are an addition to the documented no-body form, which applies the defaults. */
export const updateBucketConfigBody = z.object({
  CORSRules: z.array(corsRule).min(1).max(100).optional(),
  AbortIncompleteUploadsAfterDays: uploadExpiryDays.optional(),
});

/** The OpenAPI document's own shape, loosely: tools read the rest themselves. */
export const openApiDocumentResponse = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** Headers of a download answer, for the document. */
export const downloadHeaders = {
  contentLength: z.int().min(0),
  etag: z.string(),
  lastModified: z.string(),
  acceptRanges: z.literal('bytes'),
  contentDisposition: z.string().regex(/^attachment/),
  contentRange: z.string().regex(/^bytes [0-9]+-[0-9]+\/[0-9]+$/),
  checksumSha256: z.string().regex(/^[A-Za-z0-9+/]{43}=-[0-9]{1,5}$/),
  checksumType: z.literal('COMPOSITE'),
};
