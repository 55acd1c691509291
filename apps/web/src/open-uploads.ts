import { DEFAULT_PART_SIZE, type RouterOutputs, type S3ServiceClient } from '@s3-service/client';

/** An unfinished upload of the workspace, as the server lists it (upload.listOpen). */
export type OpenUpload = RouterOutputs['upload']['listOpen']['uploads'][number];

/** The server's largest page of open uploads. */
const PAGE_LIMIT = 100;
/** How far a picked file is looked for: a workspace with more open uploads than this starts anew. */
const MAX_PAGES = 10;

/** Objects of no type of their own are stored as bytes; the server's allowlist has the final say. */
export const FALLBACK_TYPE = 'application/octet-stream';

/** The type the page starts an upload of this file with. */
export function fileTypeOf(file: File): string {
  return file.type || FALLBACK_TYPE;
}

/**
 * Whether picking `file` continues `upload`. The server knows the name, size and type it was
 * started with, not the file's modification time, so that is what must agree: then any browser
 * can take the upload up, not only the one that started it.
 */
export function continues(upload: OpenUpload, file: File): boolean {
  return upload.fileName === file.name && upload.fileSize === file.size && upload.fileType === fileTypeOf(file);
}

/** The part size a resume must cut the file into: the one the upload was started with. */
export function resumePartSize(upload: OpenUpload): number {
  return upload.partSize ?? DEFAULT_PART_SIZE;
}

/**
 * Claims the workspace's newest unfinished upload that `file` continues: it is added to `busy`
 * (uploads running in this page) in the same step as it is found, so two picks of one file never
 * send the same upload twice. The caller deletes it from `busy` when its run ends.
 */
export async function claimUploadToContinue(
  client: S3ServiceClient,
  workspaceId: string,
  file: File,
  busy: Set<string>,
  signal?: AbortSignal,
): Promise<OpenUpload | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await client.trpc.upload.listOpen.query({ workspaceId, limit: PAGE_LIMIT, ...(cursor ? { cursor } : {}) }, { signal });
    const found = answer.uploads.find((upload) => !busy.has(upload.uploadId) && continues(upload, file));
    if (found) busy.add(found.uploadId);
    if (found || answer.nextCursor === null) return found;
    cursor = answer.nextCursor;
  }
  return undefined;
}
