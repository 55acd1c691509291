import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { inputErrors, storeRouteErrors } from '../rest/route-errors.js';
import { assetKeyParameter } from '../rest/wire.js';
import { UPPY_BASE_PATH } from '../router/uppy.js';
import { fileName, fileType, partNumber, uploadId } from '../schemas.js';
import { UPPY_PATHS } from '../uppy/paths.js';
import {
  completeMultipartBody,
  completeMultipartResponse,
  createMultipartBody,
  createMultipartResponse,
  emptyResponse,
  formBody,
  formResponse,
  listPartsResponse,
  paramsResponse,
  signPartResponse,
  signPartsResponse,
} from '../uppy/wire.js';
import { errorResponses } from './error-responses.js';
import { toJsonSchema } from './json-schema.js';
import type { OperationObject, ParameterObject } from './types.js';

export const UPPY_TAG = {
  name: 'uppy',
  description:
    "Companion's S3 protocol, as `@uppy/aws-s3` 6.x calls it with `companionEndpoint: '<origin>/uppy/<capability>'` " +
    '(minted by `POST /s3/uppy-capability`). The capability in the path authorizes every request; no header is needed.',
};

/*
 * The /uppy paths of the document, from the same path table the router mounts (uppy/paths.ts) and
 * the wire schemas (uppy/wire.ts). They are not /s3 routes (another base, the capability instead of
 * a bearer token, a form body), so they are described here rather than through rest/'s route table.
 */

const parameter = (name: string, where: 'path' | 'query', schema: z.ZodType, description: string, required = true): ParameterObject => ({
  name,
  in: where,
  required,
  description,
  schema: toJsonSchema(schema, 'input'),
});

const capabilityParameter = parameter(
  'capability',
  'path',
  z.string().regex(/^[A-Za-z0-9_.-]+$/),
  'The upload capability (a JWT that uppy.capability or POST /s3/uppy-capability minted); a secret, like a signed URL.',
);
const uploadIdParameter = parameter('uploadId', 'path', uploadId, 'The upload id that POST .../s3/multipart returned.');
const keyParameter = parameter(
  'key',
  'query',
  assetKeyParameter,
  "The key that POST .../s3/multipart returned, of the capability's workspace.",
);

/** Every /uppy path: the capability may be invalid or expired, the key another workspace's, the path unknown. */
const uppyErrors = (...specific: ErrorCode[]) => storeRouteErrors(...inputErrors, 'NOT_FOUND', ...specific);

interface UppyOperation {
  path: string;
  method: 'get' | 'post' | 'delete';
  operationId: string;
  summary: string;
  description: string;
  parameters: ParameterObject[];
  body?: { schema: z.ZodType; mediaType: 'application/json' | 'multipart/form-data'; description: string };
  status?: '200' | '201';
  response: { description: string; schema: z.ZodType; headers?: OperationObject['responses'][string]['headers'] };
  errors: ErrorCode[];
}

const operations: UppyOperation[] = [
  {
    path: UPPY_PATHS.createMultipart,
    method: 'post',
    operationId: 'uppyCreateMultipartUpload',
    summary: 'Start a multipart upload (Uppy)',
    description: "upload.start: the server picks the key; `filename` is kept as the asset's name.",
    parameters: [capabilityParameter],
    body: { schema: createMultipartBody, mediaType: 'application/json', description: 'The file Uppy is about to send.' },
    response: { description: 'The upload was created.', schema: createMultipartResponse },
    errors: uppyErrors('FILE_TYPE_NOT_ALLOWED', 'QUOTA_EXCEEDED', 'PAYLOAD_TOO_LARGE'),
  },
  {
    path: UPPY_PATHS.signParts,
    method: 'get',
    operationId: 'uppySignParts',
    summary: 'Sign several part URLs (Companion batch signing)',
    description: 'upload.signParts, for clients that sign parts in batches (older Uppy).',
    parameters: [
      capabilityParameter,
      uploadIdParameter,
      keyParameter,
      parameter(
        'partNumbers',
        'query',
        z.string().regex(/^[1-9][0-9]{0,4}(,[1-9][0-9]{0,4})*$/),
        'Part numbers, comma-separated: `1,2,3`.',
      ),
    ],
    response: { description: 'A signed PUT URL per part number.', schema: signPartsResponse },
    errors: uppyErrors('INVALID_UPLOAD_ID'),
  },
  {
    path: UPPY_PATHS.signPart,
    method: 'get',
    operationId: 'uppySignPart',
    summary: 'Sign the PUT URL of one part (Uppy)',
    description: "upload.signPart: PUT the part's bytes to `url`; its answer's ETag header goes into complete.",
    parameters: [
      capabilityParameter,
      uploadIdParameter,
      parameter('partNumber', 'path', partNumber, 'The part number, 1 to 10000.'),
      keyParameter,
    ],
    response: { description: 'The signed URL.', schema: signPartResponse },
    errors: uppyErrors('INVALID_UPLOAD_ID'),
  },
  {
    path: UPPY_PATHS.listParts,
    method: 'get',
    operationId: 'uppyListParts',
    summary: 'List the stored parts, to resume (Uppy)',
    description: 'upload.listParts: what a paused or interrupted upload already sent.',
    parameters: [capabilityParameter, uploadIdParameter, keyParameter],
    response: { description: 'The stored parts, by part number.', schema: listPartsResponse },
    errors: uppyErrors('INVALID_UPLOAD_ID'),
  },
  {
    path: UPPY_PATHS.completeMultipart,
    method: 'post',
    operationId: 'uppyCompleteMultipartUpload',
    summary: 'Assemble the parts (Uppy)',
    description: 'upload.complete, with every check of complete-upload (size, quota, the bytes against the declared type).',
    parameters: [capabilityParameter, uploadIdParameter, keyParameter],
    body: { schema: completeMultipartBody, mediaType: 'application/json', description: 'Every part with the ETag its PUT returned.' },
    response: { description: 'The object exists at `key`.', schema: completeMultipartResponse },
    errors: uppyErrors(
      'INVALID_UPLOAD_ID',
      'UPLOAD_FAILED',
      'PAYLOAD_TOO_LARGE',
      'QUOTA_EXCEEDED',
      'FILE_TYPE_MISMATCH',
      'CHECKSUM_MISMATCH',
    ),
  },
  {
    path: UPPY_PATHS.abortMultipart,
    method: 'delete',
    operationId: 'uppyAbortMultipartUpload',
    summary: 'Cancel an upload (Uppy)',
    description: 'upload.abort: the upload and its parts are gone.',
    parameters: [capabilityParameter, uploadIdParameter, keyParameter],
    response: { description: 'The upload is gone.', schema: emptyResponse },
    errors: uppyErrors('INVALID_UPLOAD_ID'),
  },
  {
    path: UPPY_PATHS.params,
    method: 'get',
    operationId: 'uppyFormParameters',
    summary: 'Start a small-file upload (Uppy)',
    description:
      "upload.start, answered as a POST form for Uppy's non-multipart path: Uppy then POSTs the fields and the file to `url`. " +
      'No presigned POST to S3: the upload is completed by the server, with every check.',
    parameters: [
      capabilityParameter,
      parameter('filename', 'query', fileName, "The file's name, kept as the asset's name."),
      parameter('type', 'query', fileType, "The file's MIME type; it must be on the allowlist."),
    ],
    response: { description: 'Where and what to POST.', schema: paramsResponse },
    errors: uppyErrors('FILE_TYPE_NOT_ALLOWED', 'QUOTA_EXCEEDED'),
  },
  {
    path: UPPY_PATHS.form,
    method: 'post',
    operationId: 'uppyFormUpload',
    summary: 'Upload a small file in one form POST (Uppy)',
    description:
      'The file is stored into the upload that `/params` started, in 5 MiB parts, then completed (upload.complete). At most ' +
      'UPPY_FORM_MAX_BYTES (100 MiB unless configured) and MAX_UPLOAD_BYTES; any failure ends the upload, nothing is kept.',
    parameters: [capabilityParameter],
    body: { schema: formBody, mediaType: 'multipart/form-data', description: "`/params`' fields, then `file`." },
    status: '201',
    response: {
      description: 'The object exists at `key`.',
      schema: formResponse,
      headers: { ETag: { description: "The object's ETag.", required: true, schema: { type: 'string' } } },
    },
    errors: uppyErrors('INVALID_UPLOAD_ID', 'UPLOAD_FAILED', 'PAYLOAD_TOO_LARGE', 'QUOTA_EXCEEDED', 'FILE_TYPE_MISMATCH'),
  },
];

/** Express's `:name` segments as OpenAPI's `{name}`. */
const openApiPath = (path: string) => `${UPPY_BASE_PATH}${path.replace(/:([A-Za-z]+)/g, '{$1}')}`;

function toOperation(operation: UppyOperation): OperationObject {
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    description: operation.description,
    tags: [UPPY_TAG.name],
    // The capability in the path is the credential; no bearer token.
    security: [],
    parameters: operation.parameters,
    ...(operation.body
      ? {
          requestBody: {
            description: operation.body.description,
            required: true,
            content: { [operation.body.mediaType]: { schema: toJsonSchema(operation.body.schema, 'input') } },
          },
        }
      : {}),
    responses: {
      [operation.status ?? '200']: {
        description: operation.response.description,
        ...(operation.response.headers ? { headers: operation.response.headers } : {}),
        content: { 'application/json': { schema: toJsonSchema(operation.response.schema, 'output') } },
      },
      ...errorResponses(operation.errors),
    },
  };
}

/** The /uppy paths, merged into the document beside the /s3 ones. */
export function buildUppyPaths(): Record<string, Record<string, OperationObject>> {
  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const operation of operations) {
    const path = openApiPath(operation.path);
    paths[path] = { ...paths[path], [operation.method]: toOperation(operation) };
  }
  return paths;
}
