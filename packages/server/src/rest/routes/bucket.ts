import { jsonRoute } from '../route.js';
import { inputErrors, storeRouteErrors } from '../route-errors.js';
import { bucketConfigResponse, successResponse, updateBucketConfigBody } from '../wire.js';

export const getBucketConfig = jsonRoute({
  method: 'get',
  path: '/getBucketConfig',
  operationId: 'getBucketConfig',
  tag: 'bucket',
  summary: "Read the bucket's CORS rules",
  description: 'With authorization configured, the bearer token needs the admin role.',
  access: 'admin',
  procedure: (caller) => caller.bucket.getCors,
  parameters: [],
  errors: storeRouteErrors('NOT_SUPPORTED'),
  response: { description: "The bucket's CORS rules.", schema: bucketConfigResponse },
  handle: ({ run }) => run(),
});

export const updateBucketConfig = jsonRoute({
  method: 'post',
  path: '/updateBucketConfig',
  operationId: 'updateBucketConfig',
  tag: 'bucket',
  summary: "Set the bucket's CORS rules, and optionally S3's cleanup of abandoned uploads",
  description:
    'Without a body, applies the documented defaults: methods GET, POST, PUT, DELETE from any origin with any header, ' +
    'exposing ETag (browsers must read each part\'s ETag). A body `{ "CORSRules": [...] }` sets custom rules instead; ' +
    'a rule must allow PUT and every rule that does must expose ETag, and the `null` origin is refused. ' +
    '`AbortIncompleteUploadsAfterDays` (1 to 3650) also has S3 abort multipart uploads left unfinished that many days ' +
    "after they started (a lifecycle rule of its own; the bucket's other lifecycle rules are kept); without it, " +
    'lifecycle is left alone. The local-disk store has no lifecycle rules and refuses the field (INVALID_PARAMETER): ' +
    'it cleans up with UPLOAD_CLEANUP_INTERVAL_MINUTES instead. ' +
    'An S3-compatible server without the bucket CORS API (MinIO) refuses the rules with 501 NOT_SUPPORTED and nothing changes: ' +
    'its CORS is configured on the server itself. ' +
    'With authorization configured, the bearer token needs the admin role.',
  access: 'admin',
  procedure: (caller) => caller.bucket.updateConfig,
  parameters: [],
  body: {
    schema: updateBucketConfigBody,
    required: false,
    description: 'Optional custom rules (absent: the defaults) and lifecycle cleanup; no body applies the default rules.',
    fieldNames: { rules: 'CORSRules', abortIncompleteUploadsAfterDays: 'AbortIncompleteUploadsAfterDays' },
    fields: {
      rules: (field) => field('CORSRules'),
      abortIncompleteUploadsAfterDays: (field) => field('AbortIncompleteUploadsAfterDays'),
    },
  },
  errors: storeRouteErrors(...inputErrors, 'PAYLOAD_TOO_LARGE', 'NOT_SUPPORTED'),
  response: { description: 'The rules are in place.', schema: successResponse },
  handle: async ({ run }) => {
    await run();
    return { success: true as const };
  },
});
