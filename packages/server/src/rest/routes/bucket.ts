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
  parameters: [],
  errors: storeRouteErrors(),
  response: { description: "The bucket's CORS rules.", schema: bucketConfigResponse },
  handle: ({ call }) => call((caller) => caller.bucket.getCors()),
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
    'With authorization configured, the bearer token needs the admin role.',
  access: 'admin',
  parameters: [],
  body: {
    schema: updateBucketConfigBody,
    required: false,
    description: 'Optional custom rules (absent: the defaults) and lifecycle cleanup; no body applies the default rules.',
    fieldNames: { rules: 'CORSRules', abortIncompleteUploadsAfterDays: 'AbortIncompleteUploadsAfterDays' },
    toInput: (field) => {
      const input: Record<string, unknown> = {};
      const rules = field('CORSRules');
      const days = field('AbortIncompleteUploadsAfterDays');
      if (rules !== undefined) input.rules = rules;
      if (days !== undefined) input.abortIncompleteUploadsAfterDays = days;
      return input;
    },
  },
  errors: storeRouteErrors(...inputErrors, 'PAYLOAD_TOO_LARGE'),
  response: { description: 'The rules are in place.', schema: successResponse },
  handle: async ({ call }) => {
    await call((caller, input) => caller.bucket.updateConfig(input));
    return { success: true as const };
  },
});
