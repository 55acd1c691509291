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
  summary: "Set the bucket's CORS rules",
  description:
    'Without a body, applies the documented defaults: methods GET, POST, PUT, DELETE from any origin with any header, ' +
    'exposing ETag (browsers must read each part\'s ETag). A body `{ "CORSRules": [...] }` sets custom rules instead; ' +
    'a rule must allow PUT and every rule that does must expose ETag, and the `null` origin is refused. ' +
    'With authorization configured, the bearer token needs the admin role.',
  access: 'admin',
  parameters: [],
  body: {
    schema: updateBucketConfigBody,
    required: false,
    description: 'Optional custom rules; no body applies the defaults.',
    fieldNames: { rules: 'CORSRules' },
    toInput: (field) => {
      const rules = field('CORSRules');
      return rules === undefined ? {} : { rules };
    },
  },
  errors: storeRouteErrors(...inputErrors, 'PAYLOAD_TOO_LARGE'),
  response: { description: 'The rules are in place.', schema: successResponse },
  handle: async ({ call }) => {
    await call((caller, input) => caller.bucket.updateCors(input));
    return { success: true as const };
  },
});
