import { capabilityBody, capabilityResponse } from '../../uppy/wire.js';
import { jsonRoute } from '../route.js';
import { inputErrors, storeRouteErrors } from '../route-errors.js';

export const mintUppyCapability = jsonRoute({
  method: 'post',
  path: '/uppy-capability',
  operationId: 'mintUppyCapability',
  tag: 'upload',
  summary: 'Mint an Uppy endpoint for the workspace',
  description:
    'A `companionEndpoint` for `@uppy/aws-s3` 6.x (`<origin>/uppy/<capability>`): whoever holds it may upload into the workspace ' +
    'until it expires, through the `/uppy/{capability}/s3/...` paths, with every check of the upload paths. Uppy sends no ' +
    'headers of its own, so the capability travels in the path. Every request checks it: mint it to outlive the uploads ' +
    'it serves (at most UPPY_CAPABILITY_MAX_SECONDS); to renew it, install the plugin afresh with the new endpoint while no ' +
    'upload runs (setOptions does not reach the client @uppy/aws-s3 6.3 built at install).',
  access: 'workspace',
  procedure: (caller) => caller.uppy.capability,
  parameters: [],
  body: {
    schema: capabilityBody,
    required: true,
    description: 'The workspace, and optionally how long the capability lives.',
    fieldNames: {},
    fields: {
      workspaceId: (field) => field('workspaceId'),
      expiresInSeconds: (field) => field('expiresInSeconds'),
    },
  },
  errors: storeRouteErrors(...inputErrors, 'NOT_SUPPORTED'),
  response: { description: 'The endpoint and when it expires.', schema: capabilityResponse },
  handle: async ({ run }) => run(),
});
