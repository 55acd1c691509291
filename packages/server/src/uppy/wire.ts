import { z } from 'zod';
import { PART_URL_EXPIRES_IN } from '../router/upload.js';
import { assetId, etag, fileName, fileType, MAX_PARTS, objectKey, partNumber, partSize, uploadId, workspaceId } from '../schemas.js';

/*
 * The shapes on Uppy's wire (Companion's S3 protocol, as `@uppy/aws-s3` 6.x reads them), built from
 * the field schemas the procedures validate with. They feed the OpenAPI document (openapi/uppy.ts);
 * requests are validated by the procedures.
 */

/** What uppy.capability and POST /s3/uppy-capability answer. */
export const capabilityResponse = z.strictObject({
  endpoint: z.url().describe('`companionEndpoint` for @uppy/aws-s3: `<origin>/uppy/<capability>`.'),
  capability: z.string().describe('The capability alone (a JWT): a secret, like a signed URL.'),
  expiresAt: z.iso.datetime().describe('When the capability, and every request made with it, stops working.'),
});

export const capabilityBody = z.object({
  workspaceId,
  expiresInSeconds: z.int().min(1).optional().describe('Default 3600; at most UPPY_CAPABILITY_MAX_SECONDS (86400 unless configured).'),
});

/** Uppy sends the file's own name and type; metadata (Uppy's meta fields) is accepted and not kept. */
export const createMultipartBody = z.object({
  filename: fileName.describe("The file's name, kept as the asset's name."),
  type: fileType.describe("The file's MIME type; it must be on the allowlist."),
  metadata: z.record(z.string(), z.unknown()).optional().describe("Uppy's meta fields; not stored."),
});

export const createMultipartResponse = z.strictObject({
  key: objectKey.describe('The key the server chose: `{workspaceId}/digital_assets/{assetId}`. Uppy sends it back as `key`.'),
  uploadId,
  assetId,
});

export const signPartResponse = z.strictObject({
  url: z.url().describe('Accepts the part with PUT; its answer carries the ETag header.'),
  expires: z.literal(PART_URL_EXPIRES_IN).describe('Seconds the URL stays valid.'),
});

export const signPartsResponse = z.strictObject({
  presignedUrls: z.record(z.string().regex(/^[1-9][0-9]{0,4}$/), z.url()).describe('A URL per part number asked for.'),
});

export const listPartsResponse = z.array(z.strictObject({ PartNumber: partNumber, ETag: etag, Size: partSize })).max(MAX_PARTS);

export const completeMultipartBody = z.object({
  parts: z
    .array(z.object({ PartNumber: partNumber, ETag: etag }))
    .min(1)
    .max(MAX_PARTS),
});

export const completeMultipartResponse = z.strictObject({
  location: z.string().describe('`s3://<bucket>/<key>`.'),
  bucket: z.string(),
  key: objectKey,
  assetId,
});

export const emptyResponse = z.strictObject({});

export const paramsResponse = z.strictObject({
  method: z.literal('POST'),
  url: z.url().describe('`<endpoint>/s3/form`: where Uppy POSTs the form.'),
  fields: z.strictObject({ key: objectKey, uploadId }).describe('Sent ahead of `file` in the form.'),
});

export const formBody = z.object({
  key: objectKey,
  uploadId,
  file: z.string().meta({ contentMediaType: 'application/octet-stream' }).describe('Last, after the fields.'),
});

export const formResponse = z.strictObject({
  location: z.string(),
  bucket: z.string(),
  key: objectKey,
  assetId,
});
