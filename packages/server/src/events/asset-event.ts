import { z } from 'zod';

/*
 * What the service tells apps, in one shape everywhere: the body of a webhook delivery, an event of
 * the live subscription and the argument of an embedding app's `onAssetEvent`. The envelope is the
 * Standard Webhooks one (`type`, `timestamp`, `data`) with the event's id and workspace beside them.
 */

const checksum = z
  .object({
    algorithm: z.enum(['SHA256']),
    type: z.enum(['COMPOSITE', 'FULL_OBJECT']),
    value: z.string(),
  })
  .nullable()
  .describe("S3's checksum of the object, when it was uploaded with checksummed parts");

const who = z.string().nullable().describe("the token's subject of whoever caused it; null without tokens or for the cleanup job");

const envelope = {
  /** `evt_` and 32 hex digits; also the `webhook-id` header of each delivery. */
  id: z.string().describe('`evt_` and 32 hex digits: unique, and the `webhook-id` of every delivery of this event'),
  timestamp: z.iso.datetime({ offset: true }).describe('when it happened (ISO 8601)'),
  workspaceId: z.string(),
};

export const assetCreatedEvent = z
  .object({
    ...envelope,
    type: z.literal('asset.created'),
    data: z.object({
      key: z.string(),
      assetId: z.string(),
      uploadId: z.string(),
      fileName: z.string().nullable(),
      contentType: z.string(),
      size: z.number().int().nonnegative(),
      etag: z.string(),
      checksum,
      createdBy: who,
    }),
  })
  .describe('an upload was completed and its object stored');

export const assetDeletedEvent = z
  .object({
    ...envelope,
    type: z.literal('asset.deleted'),
    data: z.object({
      key: z.string(),
      assetId: z.string(),
      fileName: z.string().nullable(),
      contentType: z.string(),
      size: z.number().int().nonnegative(),
      deletedBy: who,
    }),
  })
  .describe('an asset was deleted');

const uploadData = {
  key: z.string(),
  assetId: z.string(),
  uploadId: z.string(),
  fileName: z.string().nullable(),
  contentType: z.string(),
  startedAt: z.iso.datetime({ offset: true }),
};

export const uploadAbortedEvent = z
  .object({ ...envelope, type: z.literal('upload.aborted'), data: z.object({ ...uploadData, abortedBy: who }) })
  .describe('an open upload was aborted by its caller, or refused at complete (its bytes were not of its type)');

export const uploadExpiredEvent = z
  .object({ ...envelope, type: z.literal('upload.expired'), data: z.object(uploadData) })
  .describe('an open upload outlived UPLOAD_TTL_HOURS and the cleanup job aborted it');

export const assetEvent = z.discriminatedUnion('type', [assetCreatedEvent, assetDeletedEvent, uploadAbortedEvent, uploadExpiredEvent]);

export type AssetEvent = z.infer<typeof assetEvent>;
export type AssetEventType = AssetEvent['type'];
export type AssetEventOf<T extends AssetEventType> = Extract<AssetEvent, { type: T }>;
