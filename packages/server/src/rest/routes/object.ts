import { writeObject } from '../../http/transfer/object-writer.js';
import { rangeHeader } from '../params.js';
import { jsonRoute, streamRoute } from '../route.js';
import { inputErrors, storeRouteErrors } from '../route-errors.js';
import { downloadHeaders, rangeHeaderValue, successResponse } from '../wire.js';
import { keyParameter, workspaceParameter } from './parameters.js';

export const download = streamRoute({
  method: 'get',
  path: '/download',
  operationId: 'download',
  tag: 'object',
  summary: 'Download an object as a byte stream',
  description:
    'Streams the object with its stored content type and length, always as an attachment. One `Range: bytes=` range ' +
    'answers 206 with Content-Range; a range that starts past the end answers 416. Several ranges, other units or a ' +
    'malformed Range are ignored and the whole object is sent, as RFC 9110 allows.',
  access: 'workspace',
  procedure: (caller) => caller.download.open,
  parameters: [
    keyParameter,
    workspaceParameter,
    rangeHeader(rangeHeaderValue, 'One byte range: `bytes=first-last`, `bytes=first-` or `bytes=-suffixLength`.'),
  ],
  errors: storeRouteErrors(...inputErrors, 'NOT_FOUND', 'RANGE_NOT_SATISFIABLE'),
  response: {
    description: "The object's bytes, with the Content-Type it was uploaded with.",
    headers: {
      'Content-Length': { description: 'Bytes in this answer.', schema: downloadHeaders.contentLength },
      ETag: { description: "The object's ETag, quoted; multipart objects end in `-<part count>`.", schema: downloadHeaders.etag },
      'Last-Modified': { description: 'When the object was completed (HTTP date).', schema: downloadHeaders.lastModified },
      'Accept-Ranges': { description: 'Single byte ranges are served.', schema: downloadHeaders.acceptRanges },
      'Content-Disposition': {
        description: 'Always an attachment, named with the fileName given at start-upload (RFC 6266), else the asset id.',
        schema: downloadHeaders.contentDisposition,
      },
      'Content-Range': {
        description: 'The range served: `bytes first-last/size`.',
        schema: downloadHeaders.contentRange,
        partialOnly: true,
      },
      'x-amz-checksum-sha256': {
        description:
          "For objects uploaded with checksumAlgorithm SHA256: S3's COMPOSITE checksum, the base64 SHA-256 of the parts' " +
          'SHA-256 digests, then `-<part count>`. Only with the whole object.',
        schema: downloadHeaders.checksumSha256,
        wholeOnly: true,
      },
      'x-amz-checksum-type': {
        description: 'COMPOSITE, beside x-amz-checksum-sha256.',
        schema: downloadHeaders.checksumType,
        wholeOnly: true,
      },
    },
  },
  handle: async ({ req, res, run, logger, downloadIdleTimeoutMs }) => {
    await writeObject(req, res, run, { idleTimeoutMs: downloadIdleTimeoutMs, logger });
  },
});

export const deleteObject = jsonRoute({
  method: 'delete',
  path: '/delete',
  operationId: 'deleteObject',
  tag: 'object',
  summary: 'Delete an object',
  description: 'Deleting a key that holds no object also succeeds, as in S3.',
  access: 'workspace',
  procedure: (caller) => caller.object.delete,
  parameters: [keyParameter, workspaceParameter],
  errors: storeRouteErrors(...inputErrors),
  response: { description: 'No object is at the key any more.', schema: successResponse },
  handle: async ({ run }) => {
    await run();
    return { success: true as const };
  },
});
