import type { ErrorView } from './describe-error.js';
import { button, el } from './dom.js';
import { formatBytes, formatSpeed, percentOf } from './format.js';

export type RowState = 'starting' | 'resuming' | 'uploading' | 'done' | 'cancelled' | 'failed';

const STATE_LABELS: Record<RowState, string> = {
  starting: 'Starting…',
  resuming: 'Resuming…',
  uploading: 'Uploading…',
  done: 'Uploaded',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export interface RowActions {
  cancel(): void;
  retry(): void;
  dismiss(): void;
}

/** One file in the upload list: name, state, progress bar, bytes, percent, speed and its buttons. */
export class UploadRow {
  readonly element: HTMLLIElement;
  private readonly state = el('span', { className: 'upload-state' });
  private readonly bar = el('progress', { attrs: { max: '1', value: '0' } });
  private readonly bytes = el('span', { className: 'upload-bytes' });
  private readonly speed = el('span', { className: 'upload-speed' });
  private readonly note = el('p', { className: 'upload-note' });
  private readonly error = el('p', { className: 'upload-error', attrs: { role: 'alert' } });
  private readonly cancelButton: HTMLButtonElement;
  private readonly retryButton: HTMLButtonElement;
  private readonly dismissButton: HTMLButtonElement;
  private current: RowState = 'starting';

  constructor(file: File, actions: RowActions) {
    this.bar.setAttribute('aria-label', `Upload progress of ${file.name}`);
    this.cancelButton = button('Cancel', actions.cancel);
    this.retryButton = button('Retry', actions.retry, 'primary');
    this.dismissButton = button('Dismiss', actions.dismiss);
    this.element = el(
      'li',
      { className: 'upload', attrs: { 'data-file': file.name } },
      el('div', { className: 'upload-head' }, el('span', { className: 'upload-name', text: file.name }), this.state),
      this.bar,
      el('div', { className: 'upload-meta' }, this.bytes, this.speed),
      this.note,
      this.error,
      el('div', { className: 'upload-actions' }, this.cancelButton, this.retryButton, this.dismissButton),
    );
    this.setState('starting');
    this.setProgress(0, file.size, undefined);
  }

  setState(state: RowState, note?: string): void {
    this.current = state;
    this.element.dataset.state = state;
    this.state.textContent = STATE_LABELS[state];
    this.note.textContent = note ?? '';
    this.note.hidden = !note;
    const running = state === 'starting' || state === 'resuming' || state === 'uploading';
    this.cancelButton.hidden = !running;
    this.retryButton.hidden = state !== 'failed';
    this.dismissButton.hidden = running;
    if (state !== 'failed') this.showError(undefined);
    if (!running) this.speed.textContent = '';
  }

  setProgress(loaded: number, total: number, bytesPerSecond: number | undefined): void {
    const percent = percentOf(loaded, total);
    // max 1 keeps the bar valid for an empty file (max 0 would be an indeterminate bar).
    this.bar.value = total > 0 ? Math.min(loaded / total, 1) : loaded >= total ? 1 : 0;
    this.bar.setAttribute('aria-valuetext', `${percent} %`);
    this.element.dataset.percent = String(percent);
    this.bytes.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} · ${percent} %`;
    if (this.current === 'uploading') {
      this.speed.textContent = formatSpeed(bytesPerSecond);
      // Every byte is out; the store is putting the parts together.
      if (loaded >= total) this.state.textContent = 'Finishing…';
    }
  }

  showError(view: ErrorView | undefined): void {
    this.error.replaceChildren();
    this.error.hidden = !view;
    if (!view) return;
    const status = view.status === undefined ? '' : ` · HTTP ${view.status}`;
    this.error.append(el('code', { text: `${view.code}${status}` }), ` ${view.text}`);
  }
}
