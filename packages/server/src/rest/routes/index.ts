import type { RestRoute } from '../route.js';
import { getBucketConfig, updateBucketConfig } from './bucket.js';
import { deleteObject, download } from './object.js';
import { abortUpload, completeUpload, getUploadUrl, listParts, startUpload } from './upload.js';
import { mintUppyCapability } from './uppy.js';
import { addWebhook, listWebhooks, removeWebhook, rotateWebhookSecret, updateWebhook } from './webhook.js';

/** The /s3 paths in the contract's order, then the added ones: both the router and the document read this. */
export const apiRoutes: readonly RestRoute[] = [
  getBucketConfig,
  updateBucketConfig,
  startUpload,
  getUploadUrl,
  completeUpload,
  download,
  deleteObject,
  listParts,
  abortUpload,
  ...[listWebhooks, addWebhook, updateWebhook, rotateWebhookSecret, removeWebhook],
  mintUppyCapability,
];
