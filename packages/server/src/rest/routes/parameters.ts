import { assetId, partNumber, uploadId, workspaceId } from '../../schemas.js';
import { integerQuery, stringQuery } from '../params.js';
import { assetKeyParameter } from '../wire.js';

/* Query parameters shared by several /s3 paths, spelled exactly as the REST contract fixes them. */

export const workspaceParameter = stringQuery(
  'workspaceId',
  workspaceId,
  'The workspace the caller acts in; with authorization configured the bearer token must list it.',
  { example: 'acme' },
);

export const assetParameter = stringQuery('assetId', assetId, 'The asset id that start-upload returned.');

export const uploadIdParameter = stringQuery('UploadId', uploadId, 'The upload id that start-upload returned.', { field: 'uploadId' });

export const partNumberParameter = integerQuery('PartNumber', partNumber, 'The 1-based number of the part, 1 to 10000.', {
  field: 'partNumber',
  example: '1',
});

export const keyParameter = stringQuery(
  'key',
  assetKeyParameter,
  'The object key that complete-upload returned: `{workspaceId}/digital_assets/{assetId}` of this same workspace.',
  { example: 'acme/digital_assets/q3Xw2v9TgYy0a1b2c3d4eA' },
);
