import { checksumAlgorithm, fileName, fileSize, fileType, partChecksum } from '../../schemas.js';
import { integerQuery, stringQuery } from '../params.js';
import { jsonRoute } from '../route.js';
import { inputErrors, storeRouteErrors } from '../route-errors.js';
import {
  completeUploadBody,
  completeUploadResponse,
  listPartsResponse,
  partUrlResponse,
  startUploadResponse,
  successResponse,
} from '../wire.js';
import { assetParameter, partNumberParameter, uploadIdParameter, workspaceParameter } from './parameters.js';

/** The ids an open upload is named by, taken from start-upload's answer. */
const openUploadQuery = {
  'query.UploadId': '$response.body#/uploadId',
  'query.assetId': '$response.body#/assetId',
  'query.workspaceId': '$request.query.workspaceId',
};

export const startUpload = jsonRoute({
  method: 'get',
  path: '/start-upload',
  operationId: 'startUpload',
  tag: 'upload',
  summary: 'Start a multipart upload',
  description:
    'Creates an upload of a new asset in the workspace. The server picks the assetId; the object will live at ' +
    "`{workspaceId}/digital_assets/{assetId}`. The fileType must be on the server's allowlist (ALLOWED_FILE_TYPES). " +
    "An optional fileName is kept as the asset's name and served back as the download's file name; an optional " +
    "fileSize is held against the workspace's quota from the start (QUOTA_EXCEEDED when it does not fit).",
  access: 'workspace',
  procedure: (caller) => caller.upload.start,
  parameters: [
    workspaceParameter,
    stringQuery('fileType', fileType, 'The MIME type of the file, stored as its Content-Type.', { example: 'image/png' }),
    stringQuery('fileName', fileName, 'The file name to keep: 1-255 characters, no path separators or control characters.', {
      example: 'report.pdf',
      required: false,
    }),
    integerQuery<'fileSize'>('fileSize', fileSize, "The file's size in bytes, reserved against the workspace's quota.", {
      field: 'fileSize',
      example: '12582912',
      required: false,
    }),
    stringQuery(
      'checksumAlgorithm',
      checksumAlgorithm,
      "SHA256: every part is then signed with its checksum (get-upload-url's checksumSha256), the store refuses a body " +
        'with other bytes, and the object gets a COMPOSITE SHA-256.',
      { example: 'SHA256', required: false },
    ),
  ],
  errors: storeRouteErrors(...inputErrors, 'FILE_TYPE_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'QUOTA_EXCEEDED'),
  response: {
    description: 'The upload was created.',
    schema: startUploadResponse,
    links: {
      GetUploadUrl: { operationId: 'getUploadUrl', description: 'Sign a part URL of this upload.', parameters: openUploadQuery },
      ListParts: { operationId: 'listParts', description: 'List the parts stored so far.', parameters: openUploadQuery },
      AbortUpload: { operationId: 'abortUpload', description: 'Cancel this upload.', parameters: openUploadQuery },
      CompleteUpload: {
        operationId: 'completeUpload',
        description: 'Assemble the uploaded parts.',
        requestBody: {
          uploadId: '$response.body#/uploadId',
          assetId: '$response.body#/assetId',
          workspaceId: '$request.query.workspaceId',
        },
      },
    },
  },
  handle: async ({ run }) => {
    const { uploadId, assetId } = await run();
    return { uploadId, assetId };
  },
});

export const getUploadUrl = jsonRoute({
  method: 'get',
  path: '/get-upload-url',
  operationId: 'getUploadUrl',
  tag: 'upload',
  summary: 'Sign the PUT URL of one part',
  description:
    "A presigned URL that accepts the part's bytes with `PUT` for one hour; the answer to that PUT carries the part's " +
    '`ETag` header, which complete-upload needs. Parts other than the last must be at least 5 MiB. For an upload ' +
    "started with checksumAlgorithm, checksumSha256 (the part's base64 SHA-256) is required and the PUT must send " +
    "the answer's `headers`; a body with other bytes is refused (CHECKSUM_MISMATCH, or S3's BadDigest).",
  access: 'workspace',
  procedure: (caller) => caller.upload.signPart,
  parameters: [
    partNumberParameter,
    uploadIdParameter,
    assetParameter,
    workspaceParameter,
    stringQuery<'checksum'>('checksumSha256', partChecksum, "The part's base64 SHA-256, for an upload started with checksumAlgorithm.", {
      field: 'checksum',
      example: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
      required: false,
    }),
  ],
  errors: storeRouteErrors(...inputErrors, 'INVALID_UPLOAD_ID'),
  response: { description: 'The signed URL.', schema: partUrlResponse },
  handle: async ({ run }) => {
    const { url, expiresIn, headers } = await run();
    return headers ? { url, expiresIn, headers } : { url, expiresIn };
  },
});

export const completeUpload = jsonRoute({
  method: 'post',
  path: '/complete-upload',
  operationId: 'completeUpload',
  tag: 'upload',
  summary: 'Assemble the uploaded parts into the object',
  description:
    'Lists every part with the ETag its PUT returned. The object appears at the key whole or not at all. A retried ' +
    'complete of an upload that already completed with the same parts answers the same.',
  access: 'workspace',
  procedure: (caller) => caller.upload.complete,
  parameters: [],
  body: {
    schema: completeUploadBody,
    required: true,
    description: 'The upload and its parts, as `{ ETag, PartNumber }` pairs.',
    fieldNames: { partNumber: 'PartNumber', etag: 'ETag' },
    fields: {
      workspaceId: (field) => field('workspaceId'),
      assetId: (field) => field('assetId'),
      uploadId: (field) => field('uploadId'),
      parts: (field) => {
        const parts = field('parts');
        return Array.isArray(parts) ? parts.map(toProcedurePart) : parts;
      },
    },
  },
  errors: storeRouteErrors(
    ...inputErrors,
    'INVALID_UPLOAD_ID',
    'UPLOAD_FAILED',
    'PAYLOAD_TOO_LARGE',
    'QUOTA_EXCEEDED',
    'FILE_TYPE_MISMATCH',
    'CHECKSUM_MISMATCH',
  ),
  response: {
    description: 'The object exists at `key`.',
    schema: completeUploadResponse,
    links: {
      Download: {
        operationId: 'download',
        description: 'Download the object.',
        parameters: { 'query.key': '$response.body#/key', 'query.workspaceId': '$request.body#/workspaceId' },
      },
      Delete: {
        operationId: 'deleteObject',
        description: 'Delete the object.',
        parameters: { 'query.key': '$response.body#/key', 'query.workspaceId': '$request.body#/workspaceId' },
      },
    },
  },
  handle: async ({ run }) => {
    const { location, key } = await run();
    return { success: true as const, location, key };
  },
});

/** `{ ETag, PartNumber }` as documented, to the procedure's `{ etag, partNumber }`. */
function toProcedurePart(part: unknown): unknown {
  if (typeof part !== 'object' || part === null) return part;
  const { ETag, PartNumber } = part as Record<string, unknown>;
  return { etag: ETag, partNumber: PartNumber };
}

// Added paths (the contract allows additions): resume and cancel for callers without tRPC.

export const listParts = jsonRoute({
  method: 'get',
  path: '/list-parts',
  operationId: 'listParts',
  tag: 'upload',
  summary: 'List the parts stored for an open upload',
  description: 'To resume an interrupted upload: the parts the store already holds, with their ETags and sizes.',
  access: 'workspace',
  procedure: (caller) => caller.upload.listParts,
  parameters: [uploadIdParameter, assetParameter, workspaceParameter],
  errors: storeRouteErrors(...inputErrors, 'INVALID_UPLOAD_ID'),
  response: { description: 'The stored parts, by part number.', schema: listPartsResponse },
  handle: async ({ run }) => {
    const { parts } = await run();
    return { parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag, Size: part.size })) };
  },
});

export const abortUpload = jsonRoute({
  method: 'delete',
  path: '/abort-upload',
  operationId: 'abortUpload',
  tag: 'upload',
  summary: 'Cancel an open upload',
  description: 'Drops the upload and the parts stored for it; its id is then unknown.',
  access: 'workspace',
  procedure: (caller) => caller.upload.abort,
  parameters: [uploadIdParameter, assetParameter, workspaceParameter],
  errors: storeRouteErrors(...inputErrors, 'INVALID_UPLOAD_ID'),
  response: { description: 'The upload is gone.', schema: successResponse },
  handle: async ({ run }) => {
    await run();
    return { success: true as const };
  },
});
