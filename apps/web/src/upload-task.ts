import {
  DEFAULT_PART_SIZE,
  type S3ServiceClient,
  UploadError,
  type UploadHandle,
  type UploadProgress as UploadReport,
  type UploadResult,
} from '@s3-service/client';
import { describeError } from './describe-error.js';
import { claimUploadToContinue, fileTypeOf, type OpenUpload, resumePartSize } from './open-uploads.js';
import type { Settings } from './settings.js';
import { SpeedMeter } from './speed.js';
import { UploadProgress } from './upload-progress.js';

export interface UploadTaskContext {
  settings: Settings;
  /** Upload ids running in this page: one upload is never sent twice at once. */
  busy: Set<string>;
  /** A client for these settings. */
  client: S3ServiceClient;
}

export interface UploadTaskEvents {
  state(state: 'starting' | 'resuming' | 'uploading', note?: string): void;
  progress(loaded: number, total: number, bytesPerSecond: number | undefined): void;
}

/** Progress events stop when the bytes do (a stall, a pause); the speed shown must still fall to 0 then. */
const TICK_MS = 1000;

/**
 * The Pause and Resume of one row. It outlives the SDK call it drives: a resume of an upload the
 * server no longer has falls back to a new upload, a second call, which starts paused if the row
 * was paused meanwhile.
 */
export class PauseSwitch {
  private handle: UploadHandle | undefined;
  private pausedNow = false;

  get paused(): boolean {
    return this.pausedNow;
  }

  pause(): void {
    this.pausedNow = true;
    this.handle?.pause();
  }

  resume(): void {
    this.pausedNow = false;
    this.handle?.resume();
  }

  /** From now on pausing holds `handle`. */
  drive(handle: UploadHandle): UploadHandle {
    this.handle = handle;
    if (this.pausedNow) handle.pause();
    return handle;
  }
}

/**
 * Uploads one file: continues the workspace's unfinished upload of the same file when the server
 * lists one (started in this browser or in any other), else starts a new one, which the server
 * records with the file's name, size and part size. Cancelling removes the upload on the server;
 * a failure keeps it for Retry, or for picking the file again anywhere. Pausing keeps it too.
 */
export async function uploadFile(
  file: File,
  context: UploadTaskContext,
  events: UploadTaskEvents,
  signal: AbortSignal,
  pause: PauseSwitch = new PauseSwitch(),
): Promise<UploadResult> {
  const meter = new Meter(file.size, events);
  const ticker = setInterval(() => meter.tick(), TICK_MS);
  try {
    return await startOrResume(file, { ...context, meter, events, signal, pause });
  } finally {
    clearInterval(ticker);
  }
}

/** Whether a failed upload is still open on the server, so that Retry (or a new pick) continues it. */
export function keptForResume(error: unknown): boolean {
  return error instanceof UploadError && error.uploadId !== undefined && error.code !== 'INVALID_UPLOAD_ID';
}

interface Run extends UploadTaskContext {
  meter: Meter;
  events: UploadTaskEvents;
  signal: AbortSignal;
  pause: PauseSwitch;
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
    return await run.pause.drive(
      run.client.upload(file, {
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
        onProgress: (report) => run.meter.update(report),
      }),
    );
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

  /** The SDK's report: bytes on the wire as they go (XMLHttpRequest's upload events), and parts a resumed upload already had. */
  update(report: UploadReport): void {
    this.speed.add(this.progress.update(report));
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
