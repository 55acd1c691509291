import { DEFAULT_PART_SIZE, type S3ServiceClient, type UploadResult, type UploadStart } from '@s3-service/client';
import { describeError } from './describe-error.js';
import { createProgressFetch } from './progress-fetch.js';
import type { ResumeRecord, ResumeRecords } from './resume-records.js';
import type { Settings } from './settings.js';
import { SpeedMeter } from './speed.js';
import { UploadProgress } from './upload-progress.js';

export interface UploadTaskContext {
  settings: Settings;
  records: ResumeRecords;
  /** Upload ids running in this page: one upload is never sent twice at once. */
  busy: Set<string>;
  /** A client for these settings that sends part PUTs through `fetch`. */
  connect(fetch: typeof globalThis.fetch): S3ServiceClient;
}

export interface UploadTaskEvents {
  state(state: 'starting' | 'resuming' | 'uploading', note?: string): void;
  progress(loaded: number, total: number, bytesPerSecond: number | undefined): void;
}

/** Objects of no type of their own are stored as bytes; the server's allowlist has the final say. */
const FALLBACK_TYPE = 'application/octet-stream';
/** Progress events stop when the bytes do; the speed shown must still fall to 0 then. */
const TICK_MS = 1000;

/**
 * Uploads one file: continues this browser's unfinished upload of the same file when there is
 * one, else starts a new one. The SDK's `onStart` puts a new upload's ids in localStorage before
 * the first byte moves, so a reload at any moment can resume it. Cancelling removes the upload on
 * the server; a failure keeps it for Retry.
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

interface Run extends UploadTaskContext {
  client: S3ServiceClient;
  meter: Meter;
  events: UploadTaskEvents;
  signal: AbortSignal;
}

async function startOrResume(file: File, run: Run): Promise<UploadResult> {
  const earlier = run.records.matching(file, run.settings, run.busy);
  if (earlier) {
    run.events.state('resuming');
    try {
      return await send(file, earlier, run);
    } catch (error) {
      if (run.signal.aborted || describeError(error).code !== 'INVALID_UPLOAD_ID') throw error;
      run.records.remove(earlier.uploadId);
      run.events.state('starting', 'The unfinished upload was gone from the server; starting over.');
    }
  } else {
    run.events.state('starting');
  }
  return send(file, undefined, run);
}

/**
 * Hands the file to the SDK: with `earlier`, it lists the parts the server has and sends the rest;
 * without, it starts a new upload, which `onStart` records before any part is sent.
 */
async function send(file: File, earlier: ResumeRecord | undefined, run: Run): Promise<UploadResult> {
  let record = earlier;
  if (record) run.busy.add(record.uploadId);
  const type = earlier?.type ?? (file.type || FALLBACK_TYPE);
  try {
    const result = await run.client.upload(file, {
      workspaceId: earlier?.workspaceId ?? run.settings.workspaceId,
      fileType: type,
      partSize: earlier?.partSize ?? DEFAULT_PART_SIZE,
      ...(earlier ? { resume: { uploadId: earlier.uploadId, assetId: earlier.assetId } } : {}),
      signal: run.signal,
      onStart: (started) => {
        if (started.resumed) return;
        record = newRecord(file, type, started, run.settings);
        // A failure to save aborts the new upload (the SDK does that): nothing could resume it.
        run.records.save(record);
        run.busy.add(record.uploadId);
      },
      onProgress: ({ loaded }) => run.meter.stored(loaded),
    });
    if (record) run.records.remove(record.uploadId);
    return result;
  } catch (error) {
    // An abort also aborted the upload on the server (the SDK does that); nothing is left to resume.
    if (run.signal.aborted && record) run.records.remove(record.uploadId);
    throw error;
  } finally {
    if (record) run.busy.delete(record.uploadId);
  }
}

function newRecord(file: File, type: string, started: UploadStart, settings: Settings): ResumeRecord {
  return {
    uploadId: started.uploadId,
    assetId: started.assetId,
    apiUrl: settings.apiUrl,
    workspaceId: started.workspaceId,
    name: file.name,
    size: file.size,
    lastModified: file.lastModified,
    type,
    partSize: started.partSize,
    startedAt: Date.now(),
  };
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
