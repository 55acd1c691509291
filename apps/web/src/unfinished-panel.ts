import type { S3ServiceClient } from '@s3-service/client';
import { describeError } from './describe-error.js';
import { button, el } from './dom.js';
import { formatBytes, formatDate } from './format.js';
import type { OpenUpload } from './open-uploads.js';
import type { Settings } from './settings.js';

export interface UnfinishedPanelOptions {
  container: HTMLElement;
  /** Upload ids running in this page: they have a row of their own, not a line here. */
  busy: ReadonlySet<string>;
  connection(): { client: S3ServiceClient; settings: Settings };
}

/** The newest open uploads shown; the rest are still found when their file is picked. */
const SHOWN = 20;

/**
 * The workspace's uploads that stopped half-way (a reload, a closed tab, a failure, another
 * browser), as the server lists them: picking the same file again continues one; Discard removes
 * it and its stored parts from the server.
 */
export class UnfinishedPanel {
  /** A refresh asked for while one is running runs once more after it, with the newest settings. */
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly options: UnfinishedPanelOptions) {}

  refresh(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.load().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
  }

  private async load(): Promise<void> {
    const { client, settings } = this.options.connection();
    try {
      const page = await client.trpc.upload.listOpen.query({ workspaceId: settings.workspaceId, limit: SHOWN });
      // An answer for settings changed meanwhile is dropped: the refresh queued by the change follows.
      if (this.options.connection().settings !== settings) return;
      const uploads = page.uploads.filter((upload) => !this.options.busy.has(upload.uploadId));
      this.render(uploads, page.nextCursor !== null);
    } catch (error) {
      if (this.options.connection().settings !== settings) return;
      const view = describeError(error);
      this.options.container.hidden = false;
      this.options.container.replaceChildren(
        el('p', { className: 'bad', text: `Could not list the unfinished uploads: ${view.code}. ${view.text}` }),
      );
    }
  }

  private render(uploads: readonly OpenUpload[], more: boolean): void {
    const { container } = this.options;
    container.hidden = uploads.length === 0;
    if (uploads.length === 0) {
      container.replaceChildren();
      return;
    }
    container.replaceChildren(
      el('h3', { text: 'Unfinished uploads' }),
      el('p', {
        className: 'hint',
        text: `Pick the same file again, in this browser or another, to continue where it stopped; only the missing parts are sent.${
          more ? ` The ${SHOWN} newest are shown.` : ''
        }`,
      }),
      el('ul', {}, ...uploads.map((upload) => this.item(upload))),
    );
  }

  private item(upload: OpenUpload): HTMLLIElement {
    const error = el('span', { className: 'bad' });
    const discardButton = button('Discard', () => {
      discardButton.disabled = true;
      this.discard(upload).then(
        () => this.refresh(),
        (failure: unknown) => {
          const view = describeError(failure);
          error.textContent = `${view.code}: ${view.text}`;
          discardButton.disabled = false;
        },
      );
    });
    const name = upload.fileName ?? upload.assetId;
    return el(
      'li',
      { attrs: { 'data-file': name, 'data-upload-id': upload.uploadId, 'data-asset-id': upload.assetId } },
      el('span', { className: 'upload-name', text: name }),
      el('span', { className: 'hint', text: ` ${describeOpenUpload(upload)} ` }),
      discardButton,
      error,
    );
  }

  private async discard(upload: OpenUpload): Promise<void> {
    const { client, settings } = this.options.connection();
    try {
      await client.abortUpload({ workspaceId: settings.workspaceId, uploadId: upload.uploadId, assetId: upload.assetId });
    } catch (error) {
      // Already gone on the server: the next listing leaves it out, which is all that is left to do.
      if ((error as { code?: unknown }).code !== 'INVALID_UPLOAD_ID') throw error;
    }
  }
}

/** `23.0 MiB · 2 of 3 parts (16.0 MiB) sent · started Dec 2, 2026, 10:04 AM`; what the server does not know is left out. */
export function describeOpenUpload(upload: OpenUpload): string {
  const parts =
    upload.fileSize !== null && upload.partSize !== null
      ? `${upload.partsDone} of ${Math.max(1, Math.ceil(upload.fileSize / upload.partSize))} parts`
      : `${upload.partsDone} ${upload.partsDone === 1 ? 'part' : 'parts'}`;
  return [
    upload.fileSize === null ? undefined : formatBytes(upload.fileSize),
    `${parts} (${formatBytes(upload.bytesDone)}) sent`,
    `started ${formatDate(upload.startedAt)}`,
  ]
    .filter(Boolean)
    .join(' · ');
}
