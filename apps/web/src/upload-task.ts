import { DEFAULT_PART_SIZE, type S3ServiceClient, UploadError, type UploadResult } from '@s3-service/client';
import { describeError } from './describe-error.js';
import { claimUploadToContinue, fileTypeOf, type OpenUpload, resumePartSize } from './open-uploads.js';
import { createProgressFetch } from './progress-fetch.js';
import type { Settings } from './settings.js';
import { SpeedMeter } from './speed.js';
import { UploadProgress } from './upload-progress.js';

export interface UploadTaskContext {
  settings: Settings;
  /** Upload ids running in this page: one upload is never sent twice at once. */
  busy: Set<string>;
  /** A client for these settings that sends part PUTs through `fetch`. */
  connect(fetch: typeof globalThis.fetch): S3ServiceClient;
}

export interface UploadTaskEvents {
  state(state: 'starting' | 'resuming' | 'uploading', note?: string): void;
  progress(loaded: number, total: number, bytesPerSecond: number | undefined): void;
}

/** Progress events stop when the bytes do; the speed shown must still fall to 0 then. */
const TICK_MS = 1000;

/**
 * Uploads one file: continues the workspace's unfinished upload of the same file when the server
 * lists one (started in this browser or in any other), else starts a new one, which the server
 * records with the file's name, size and part size. Cancelling removes the upload on the server;
 * a failure keeps it for Retry, or for picking the file again anywhere.
 */
export async function uploadFile(
  file: File,
  context: UploadTaskContext,
  events: UploadTaskEvents,
  signal: AbortSignal,
): Promise<UploadResult> {
  const meter = new Meter(file.size, events);
  const client = context.connect(
    createProgressFetch({
      onSent: (url, sent) => meter.sending(url, sent),
      onSettled: (url) => meter.settled(url),
    }),
  );
  const ticker = setInterval(() => meter.tick(), TICK_MS);
  try {
    return await startOrResume(file, { ...context, client, meter, events, signal });
  } finally {
    clearInterval(ticker);
  }
}

/** Whether a failed upload is still open on the server, so that Retry (or a new pick) continues it. */
export function keptForResume(error: unknown): boolean {
  return error instanceof UploadError && error.uploadId !== undefined && error.code !== 'INVALID_UPLOAD_ID';
}

interface Run extends UploadTaskContext {
  client: S3ServiceClient;
  meter: Meter;
  events: UploadTaskEvents;
  signal: AbortSignal;
}

async function startOrResume(file: File, run: Run): Promise<UploadResult> {
  const earlier = await claimUploadToContinue(run.client, run.settings.workspaceId, file, run.busy, run.signal);
  if (earlier) {
    run.events.state('resuming');
    try {
      return await send(file, earlier, run);
    } catch (error) {
      if (run.signal.aborted || describeError(error).code !== 'INVALID_UPLOAD_ID') throw error;
      run.events.state('starting', 'The unfinished upload was gone from the server; starting over.');
    }
  } else {
    run.events.state('starting');
  }
  return send(file, undefined, run);
}

/**
 * Hands the file to the SDK: with `earlier` (already claimed in `busy`), it lists the parts the
 * server has and sends the rest, cut at the upload's own part size; without, it starts a new
 * upload. Either way the upload leaves `busy` when the call ends.
 */
async function send(file: File, earlier: OpenUpload | undefined, run: Run): Promise<UploadResult> {
  let uploadId = earlier?.uploadId;
  try {
    return await run.client.upload(file, {
      workspaceId: run.settings.workspaceId,
      fileType: fileTypeOf(file),
      fileName: file.name,
      partSize: earlier ? resumePartSize(earlier) : DEFAULT_PART_SIZE,
      ...(earlier ? { resume: { uploadId: earlier.uploadId, assetId: earlier.assetId } } : {}),
      signal: run.signal,
      onStart: (started) => {
        if (started.resumed) return;
        uploadId = started.uploadId;
        run.busy.add(uploadId);
      },
      onProgress: ({ loaded }) => run.meter.stored(loaded),
    });
  } finally {
    if (uploadId) run.busy.delete(uploadId);
  }
}

/** Bytes and speed of one upload, reported to the row as they change. */
class Meter {
  private readonly progress: UploadProgress;
  private readonly speed = new SpeedMeter();
  private running = false;

  constructor(
    private readonly total: number,
    private readonly events: UploadTaskEvents,
  ) {
    this.progress = new UploadProgress(total);
  }

  sending(url: string, sent: number): void {
    this.speed.add(this.progress.sending(url, sent));
    this.report();
  }

  settled(url: string): void {
    this.progress.settled(url);
  }

  /** The SDK's count: parts stored, including those a resumed upload already had. */
  stored(loaded: number): void {
    this.progress.setStored(loaded);
    this.report();
  }

  tick(): void {
    if (this.running) this.report();
  }

  private report(): void {
    // A resumed upload counts as running from its first report, once the SDK has listed the stored parts.
    if (!this.running) {
      this.running = true;
      this.events.state('uploading');
    }
    this.events.progress(this.progress.loaded, this.total, this.speed.bytesPerSecond());
  }
}
