/**
 * A bare page with `@s3-service/client` as an app bundles it, for tests of the SDK itself in
 * Chromium (no uploader page around it). A test picks a file into #file, starts an upload with
 * `sdkPage.start`, and reads what the SDK reported with `sdkPage.report`.
 */
import { createS3ServiceClient, type PartRetry, type UploadHandle, type UploadProgress, type UploadResult } from '@s3-service/client';

export interface StartOptions {
  apiUrl: string;
  workspaceId: string;
  partSize?: number;
  concurrency?: number;
  /** Pauses the upload (once) as soon as `loaded` reaches this many bytes. */
  pauseAt?: number;
}

export interface RunReport {
  progress: UploadProgress[];
  retries: PartRetry[];
  paused: boolean;
  result?: UploadResult;
  error?: { name: string; code?: string; message: string };
}

interface Run {
  handle: UploadHandle;
  report: RunReport;
}

const runs: Run[] = [];

const sdkPage = {
  /** Starts an upload of the picked file; returns its index for `report`, `pause` and `resume`. */
  start(options: StartOptions): number {
    const file = document.querySelector<HTMLInputElement>('#file')?.files?.[0];
    if (!file) throw new Error('pick a file into #file first');
    const client = createS3ServiceClient({ url: options.apiUrl });
    const report: RunReport = { progress: [], retries: [], paused: false };
    let pausedOnce = false;
    const handle = client.upload(file, {
      workspaceId: options.workspaceId,
      ...(options.partSize ? { partSize: options.partSize } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      onProgress: (progress) => {
        report.progress.push(progress);
        if (options.pauseAt !== undefined && !pausedOnce && progress.loaded >= options.pauseAt) {
          pausedOnce = true;
          handle.pause();
        }
      },
      onRetry: (retry) => void report.retries.push(retry),
    });
    handle.then(
      (result) => {
        report.result = result;
      },
      (error: { name: string; code?: string; message: string }) => {
        report.error = { name: error.name, message: error.message, ...(error.code ? { code: error.code } : {}) };
      },
    );
    runs.push({ handle, report });
    return runs.length - 1;
  },

  report(run: number): RunReport {
    const { handle, report } = runs[run]!;
    return { ...report, paused: handle.paused };
  },

  pause(run: number): void {
    runs[run]!.handle.pause();
  },

  resume(run: number): void {
    runs[run]!.handle.resume();
  },
};

export type SdkPage = typeof sdkPage;

(window as unknown as { sdkPage: SdkPage }).sdkPage = sdkPage;
document.body.dataset.ready = 'true';
