import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { AssetEventOf } from '../events/asset-event.js';
import { parseChecksum } from '../storage/checksum.js';
import type { AssetRecord, NewUpload, UploadRecord } from './catalog.js';
import { type EventRecordingMode, isoTime, recordEvent, recordedEvents } from './event-statements.js';
import { rows } from './rows.js';

/*
 * The catalogue's writes, one SQL statement each. A statement is atomic on its own, so none needs
 * a transaction (BEGIN and COMMIT would be two more round trips each), and every quota decision is
 * an UPDATE of the workspace's row: PostgreSQL locks that row and judges the condition again on
 * its newest version (READ COMMITTED's re-check), so two uploads racing for the last bytes, on any
 * number of instances, are judged one after the other. Rows are locked uploads first, then
 * workspaces, in every statement, so no two statements wait for each other in a cycle.
 *
 * A statement that changes what a workspace owns also records its event (event-statements.ts) in
 * the outbox, in the same statement: none is lost, and none is recorded for a change that failed.
 */

type Database = PgDatabase<PgQueryResultHKT>;

/** What a statement changed, and the events and webhook deliveries it recorded for it. */
export interface Recorded {
  changed: boolean;
  events: number;
  deliveries: number;
}

export type { EventRecordingMode };

function recorded(changed: boolean, row: Record<string, unknown> | undefined): Recorded {
  return { changed, events: Number(row?.events ?? 0), deliveries: Number(row?.deliveries ?? 0) };
}

/** `coalesce(quota_bytes, default)`: the quota in force, null for none. */
const quotaInForce = (defaultQuota: number | undefined) => sql`coalesce(workspaces.quota_bytes, ${defaultQuota ?? null}::bigint)`;

/** The row every quota statement updates; made once per workspace. */
export async function ensureWorkspace(db: Database, workspaceId: string): Promise<void> {
  await rows(db, sql`insert into workspaces (id) values (${workspaceId}) on conflict (id) do nothing`);
}

/** Reserves the declared size and records the open upload, only if the quota holds it; false when it does not (or the workspace has no row yet). */
export async function insertUploadWithinQuota(
  db: Database,
  upload: NewUpload,
  reservedBytes: number,
  defaultQuota?: number,
): Promise<boolean> {
  const inserted = await rows(
    db,
    sql`with reserved as (
      update workspaces set reserved_bytes = reserved_bytes + ${reservedBytes}::bigint
      where id = ${upload.workspaceId}
        and (${quotaInForce(defaultQuota)} is null
          or stored_bytes + reserved_bytes + ${reservedBytes}::bigint <= ${quotaInForce(defaultQuota)})
      returning id
    )
    insert into uploads (workspace_id, upload_id, asset_id, key, file_name, file_type, declared_size, part_size,
      reserved_bytes, started_by, started_at, state, checksum_algorithm)
    select ${upload.workspaceId}, ${upload.uploadId}, ${upload.assetId}, ${upload.key}, ${upload.fileName}, ${upload.fileType},
      ${upload.declaredSize}::bigint, ${upload.partSize}::bigint, ${reservedBytes}::bigint, ${upload.startedBy}, ${upload.startedAt}, 'open',
      ${upload.checksumAlgorithm ?? null}
    from reserved
    returning upload_id`,
  );
  return inserted.length > 0;
}

/** The open upload's row, locked (its newest version), as the CTE `upload` with its reservation as `held`. */
const lockedOpenUpload = (workspaceId: string, uploadId: string) => sql`upload as (
      select reserved_bytes as held from uploads
      where workspace_id = ${workspaceId} and upload_id = ${uploadId} and state = 'open'
      for update
    )`;

export type ReserveOutcome = 'not-open' | 'held' | 'grown' | 'over-quota';

/** Grows an open upload's reservation to `bytes` when the quota allows; never shrinks it. */
export async function growReservation(
  db: Database,
  workspaceId: string,
  uploadId: string,
  bytes: number,
  defaultQuota?: number,
): Promise<ReserveOutcome> {
  const [row] = await rows(
    db,
    sql`with ${lockedOpenUpload(workspaceId, uploadId)}, grown as (
      update workspaces set reserved_bytes = workspaces.reserved_bytes + (${bytes}::bigint - upload.held)
      from upload
      where workspaces.id = ${workspaceId} and ${bytes}::bigint > upload.held
        and (${quotaInForce(defaultQuota)} is null
          or workspaces.stored_bytes + workspaces.reserved_bytes + (${bytes}::bigint - upload.held) <= ${quotaInForce(defaultQuota)})
      returning workspaces.id
    ), marked as (
      update uploads set reserved_bytes = ${bytes}::bigint from grown
      where uploads.workspace_id = ${workspaceId} and uploads.upload_id = ${uploadId}
      returning 1
    )
    select (select held from upload) as held, (select count(*) from marked) as grown`,
  );
  if (row?.held === null || row?.held === undefined) return 'not-open';
  if (Number(row.grown) > 0) return 'grown';
  return bytes <= Number(row.held) ? 'held' : 'over-quota';
}

/** Ends an open upload and gives its reservation back, recording `upload.aborted` or `upload.expired`; an upload already ended is left alone. */
export async function endUpload(
  db: Database,
  workspaceId: string,
  uploadId: string,
  state: 'aborted' | 'expired',
  at: Date,
  actor: string | null,
  mode: EventRecordingMode,
): Promise<Recorded> {
  const data = sql`jsonb_build_object('key', ended.key, 'assetId', ended.asset_id, 'uploadId', ended.upload_id,
        'fileName', ended.file_name, 'contentType', coalesce(nullif(ended.file_type, ''), 'application/octet-stream'),
        'startedAt', ${isoTime(sql`ended.started_at`)}${state === 'aborted' ? sql`, 'abortedBy', ${actor}::text` : sql``})`;
  const events = recordEvent(mode, {
    type: state === 'aborted' ? 'upload.aborted' : 'upload.expired',
    from: sql`ended`,
    workspaceId,
    subject: sql`ended.key`,
    data,
    occurredAt: at,
  });
  const [row] = await rows(
    db,
    sql`with ${lockedOpenUpload(workspaceId, uploadId)}, ended as (
      update uploads set state = ${state}, reserved_bytes = 0, finished_at = ${at} from upload
      where uploads.workspace_id = ${workspaceId} and uploads.upload_id = ${uploadId}
      returning upload.held, uploads.key, uploads.asset_id, uploads.upload_id, uploads.file_name, uploads.file_type, uploads.started_at
    ), freed as (
      update workspaces set reserved_bytes = reserved_bytes - (select held from ended)
      where id = ${workspaceId} and exists (select 1 from ended)
      returning 1
    ), ${events}
    select (select count(*) from ended) as ended, ${recordedEvents}`,
  );
  return recorded(Number(row?.ended) > 0, row);
}

/** The asset's insert (kept if the key has a row) and the workspace's counters, as CTEs for one statement. */
const assetInsert = (asset: AssetRecord, onlyIf = sql`true`) => sql`added as (
      insert into assets (key, workspace_id, asset_id, file_name, file_type, size, etag, checksum, created_at, created_by)
      select ${asset.key}, ${asset.workspaceId}, ${asset.assetId}, ${asset.fileName}, ${asset.fileType}, ${asset.size}::bigint,
        ${asset.etag}, ${asset.checksum}, ${asset.createdAt}::timestamptz, ${asset.createdBy}
      where ${onlyIf}
      on conflict (key) do nothing
      returning key, size
    )`;

/** The `data` of the `asset.created` event of a completed upload. */
function createdData(upload: UploadRecord, asset: AssetRecord): AssetEventOf<'asset.created'>['data'] {
  const checksum = parseChecksum(asset.checksum);
  return {
    key: asset.key,
    assetId: asset.assetId,
    uploadId: upload.uploadId,
    fileName: asset.fileName,
    contentType: asset.fileType,
    size: asset.size,
    etag: asset.etag,
    checksum: checksum ? { algorithm: checksum.algorithm, type: checksum.type, value: checksum.value } : null,
    createdBy: asset.createdBy,
  };
}

/**
 * Marks the upload completed, adds its asset and moves its reservation into the stored bytes, in
 * one statement, recording `asset.created`; a repeat adds nothing and records nothing.
 * `changed`: whether the asset row was added. An upload an abort has already ended (it won a race
 * with this complete) is left as it is: `refused`. An expired one is not: expiry only records that
 * the store no longer had the upload, which is also what a complete that assembled it leaves.
 */
export async function completeUploadRecord(
  db: Database,
  upload: UploadRecord,
  asset: AssetRecord,
  mode: EventRecordingMode,
): Promise<Recorded & { refused: boolean }> {
  const events = recordEvent(mode, {
    type: 'asset.created',
    from: sql`added`,
    workspaceId: asset.workspaceId,
    subject: sql`added.key`,
    data: sql`${JSON.stringify(createdData(upload, asset))}::jsonb`,
    occurredAt: asset.createdAt,
  });
  const [row] = await rows(
    db,
    sql`with upload as (
      select state, reserved_bytes as held from uploads
      where workspace_id = ${upload.workspaceId} and upload_id = ${upload.uploadId}
      for update
    ), done as (
      insert into uploads (workspace_id, upload_id, asset_id, key, file_name, file_type, declared_size, part_size,
        reserved_bytes, started_by, started_at, finished_at, state, etag)
      select ${upload.workspaceId}, ${upload.uploadId}, ${upload.assetId}, ${upload.key}, ${upload.fileName}, ${upload.fileType},
        ${upload.declaredSize}::bigint, ${upload.partSize}::bigint, 0, ${upload.startedBy}, ${upload.startedAt}::timestamptz,
        ${asset.createdAt}::timestamptz, 'completed', ${asset.etag}
      -- Reading the locked row first: a row this statement has already changed could not be locked any more.
      where (select count(*) from upload) >= 0
      on conflict (workspace_id, upload_id) do update
        set state = 'completed', reserved_bytes = 0, etag = excluded.etag, finished_at = excluded.finished_at
        where uploads.state <> 'aborted'
      returning 1
    ), ${assetInsert(asset, sql`not exists (select 1 from upload where state = 'aborted')`)}, counted as (
      insert into workspaces (id, stored_bytes, asset_count)
      values (${upload.workspaceId}, coalesce((select sum(size) from added), 0), (select count(*) from added)::int)
      on conflict (id) do update set
        stored_bytes = workspaces.stored_bytes + excluded.stored_bytes,
        asset_count = workspaces.asset_count + excluded.asset_count,
        reserved_bytes = workspaces.reserved_bytes - coalesce((select held from upload where state = 'open'), 0)
      returning 1
    ), ${events}
    select (select count(*) from added) as added, (select count(*) from done) as done, (select count(*) from counted) as counted,
      (select count(*) from upload where state = 'aborted') as refused, ${recordedEvents}`,
  );
  return { ...recorded(Number(row?.added) > 0, row), refused: Number(row?.refused) > 0 };
}

/** Adds an asset found in the store, unless its key has a row; returns whether it was added. */
export async function insertAsset(db: Database, asset: AssetRecord): Promise<boolean> {
  const [row] = await rows(
    db,
    sql`with ${assetInsert(asset)}, counted as (
      insert into workspaces (id, stored_bytes, asset_count)
      select ${asset.workspaceId}, size, 1 from added
      on conflict (id) do update set
        stored_bytes = workspaces.stored_bytes + excluded.stored_bytes,
        asset_count = workspaces.asset_count + excluded.asset_count
      returning 1
    )
    select (select count(*) from added) as added, (select count(*) from counted) as counted`,
  );
  return Number(row?.added) > 0;
}

/** Removes the asset's row and its bytes from the workspace's counters, recording `asset.deleted`; `changed`: whether there was one. */
export async function removeAsset(
  db: Database,
  workspaceId: string,
  key: string,
  actor: string | null,
  at: Date,
  mode: EventRecordingMode,
): Promise<Recorded> {
  const events = recordEvent(mode, {
    type: 'asset.deleted',
    from: sql`gone`,
    workspaceId,
    subject: sql`gone.key`,
    data: sql`jsonb_build_object('key', gone.key, 'assetId', gone.asset_id, 'fileName', gone.file_name,
            'contentType', gone.file_type, 'size', gone.size, 'deletedBy', ${actor}::text)`,
    occurredAt: at,
  });
  const [row] = await rows(
    db,
    sql`with gone as (
      delete from assets where workspace_id = ${workspaceId} and key = ${key}
      returning key, asset_id, file_name, file_type, size
    ), counted as (
      update workspaces set stored_bytes = stored_bytes - (select size from gone), asset_count = asset_count - 1
      where id = ${workspaceId} and exists (select 1 from gone)
      returning 1
    ), ${events}
    select (select count(*) from gone) as removed, (select count(*) from counted) as counted, ${recordedEvents}`,
  );
  return recorded(Number(row?.removed) > 0, row);
}
