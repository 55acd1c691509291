import type { S3ServiceClient, UploadResult } from '@s3-service/client';
import { describeError } from './describe-error.js';
import type { Settings } from './settings.js';
import { UploadRow } from './upload-row.js';
import { keptForResume, uploadFile } from './upload-task.js';

export interface UploaderOptions {
  list: HTMLUListElement;
  /** Upload ids running in this page. */
  busy: Set<string>;
  settings(): Settings;
  connect(settings: Settings, fetch?: typeof globalThis.fetch): S3ServiceClient;
  /** An upload finished: the asset list should show it. */
  uploaded(result: UploadResult): void;
  /** An upload started or ended: the list of unfinished ones changes. */
  changed(): void;
}

/** Runs one upload per picked file, all at once, each with its own row and Cancel button. */
export class Uploader {
  constructor(private readonly options: UploaderOptions) {}

  add(files: Iterable<File>): void {
    for (const file of files) this.start(file);
  }

  private start(file: File): void {
    let controller = new AbortController();
    const row: UploadRow = new UploadRow(file, {
      cancel: () => controller.abort(),
      retry: () => {
        controller = new AbortController();
        void this.run(file, row, controller.signal);
      },
      dismiss: () => row.element.remove(),
    });
    this.options.list.prepend(row.element);
    void this.run(file, row, controller.signal);
  }

  /** Settings are read when a run starts: a later change of workspace does not move it. */
  private async run(file: File, row: UploadRow, signal: AbortSignal): Promise<void> {
    const settings = this.options.settings();
    try {
      const result = await uploadFile(
        file,
        {
          settings,
          busy: this.options.busy,
          connect: (fetch) => this.options.connect(settings, fetch),
        },
        {
          state: (state, note) => {
            row.setState(state, note);
            this.options.changed();
          },
          progress: (loaded, total, speed) => row.setProgress(loaded, total, speed),
        },
        signal,
      );
      row.setProgress(result.size, result.size, undefined);
      row.setState('done', `Stored as ${result.key}`);
      this.options.uploaded(result);
    } catch (error) {
      const view = describeError(error);
      if (view.code === 'CANCELLED') {
        row.setState('cancelled', 'Nothing was kept on the server.');
      } else {
        row.setState(
          'failed',
          keptForResume(error)
            ? 'What was sent is kept: Retry (or picking the file again, even after a reload or in another browser) continues from there.'
            : undefined,
        );
        row.showError(view);
      }
    } finally {
      this.options.changed();
    }
  }
}
