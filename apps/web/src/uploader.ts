import type { S3ServiceClient, UploadResult } from '@s3-service/client';
import { describeError } from './describe-error.js';
import type { Settings } from './settings.js';
import { type StoredAs, UploadRow } from './upload-row.js';
import { keptForResume, PauseSwitch, uploadFile } from './upload-task.js';

export interface UploaderOptions {
  list: HTMLUListElement;
  /** Upload ids running in this page. */
  busy: Set<string>;
  settings(): Settings;
  connect(settings: Settings): S3ServiceClient;
  /** An upload finished: the asset list should show it. */
  uploaded(result: UploadResult): void;
  /** An upload started or ended: the list of unfinished ones changes. */
  changed(): void;
}

/** Runs one upload per picked file, all at once, each with its own row and its Pause, Resume and Cancel buttons. */
export class Uploader {
  constructor(private readonly options: UploaderOptions) {}

  add(files: Iterable<File>): void {
    for (const file of files) this.start(file);
  }

  private start(file: File): void {
    let controller = new AbortController();
    let pause = new PauseSwitch();
    const row: UploadRow = new UploadRow(file, {
      cancel: () => controller.abort(),
      retry: () => {
        controller = new AbortController();
        pause = new PauseSwitch();
        void this.run(file, row, controller.signal, pause);
      },
      dismiss: () => row.element.remove(),
      // Paused, the upload stays open on the server with the parts it has; Cancel still removes it.
      pause: () => pause.pause(),
      resume: () => pause.resume(),
    });
    this.options.list.prepend(row.element);
    void this.run(file, row, controller.signal, pause);
  }

  /** Settings are read when a run starts: a later change of workspace does not move it. */
  private async run(file: File, row: UploadRow, signal: AbortSignal, pause: PauseSwitch): Promise<void> {
    const settings = this.options.settings();
    const client = this.options.connect(settings);
    try {
      const result = await uploadFile(
        file,
        { settings, busy: this.options.busy, client },
        {
          state: (state, note) => {
            // A row paused before its first bytes moved stays paused when they do.
            row.setState(state === 'uploading' && pause.paused ? 'paused' : state, note);
            this.options.changed();
          },
          progress: (loaded, total, speed) => row.setProgress(loaded, total, speed),
        },
        signal,
        pause,
      );
      row.setProgress(result.size, result.size, undefined);
      row.finished(await storedAs(client, settings.workspaceId, result));
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

/**
 * The name the server's catalogue keeps for the stored file (a resumed upload may have been named
 * by the browser that started it); the key alone if the server cannot say right now.
 */
async function storedAs(client: S3ServiceClient, workspaceId: string, result: UploadResult): Promise<StoredAs> {
  try {
    const head = await client.head({ workspaceId, key: result.key });
    return { key: result.key, fileName: head.fileName };
  } catch {
    return { key: result.key };
  }
}
