import type { ErrorView } from './describe-error.js';
import { button, el } from './dom.js';
import { formatBytes, formatSpeed, percentOf } from './format.js';

export type RowState = 'starting' | 'resuming' | 'uploading' | 'paused' | 'done' | 'cancelled' | 'failed';

const STATE_LABELS: Record<RowState, string> = {
  starting: 'Starting…',
  resuming: 'Resuming…',
  uploading: 'Uploading…',
  paused: 'Paused',
  done: 'Uploaded',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export interface RowActions {
  cancel(): void;
  retry(): void;
  dismiss(): void;
  /** Stops sending new parts, keeping those already sent; the row then shows Resume. Without it, no Pause button. */
  pause?: () => void;
  /** Continues a paused upload; the row shows Uploading again. */
  resume?: () => void;
}

/** What the server stored the file as: the key, and the name its catalogue keeps (which a resumed upload may have set elsewhere). */
export interface StoredAs {
  key: string;
  fileName?: string | null;
}

/** One file in the upload list: name, state, progress bar, bytes, percent, speed and its buttons. */
export class UploadRow {
  readonly element: HTMLLIElement;
  private readonly name: HTMLSpanElement;
  private readonly state = el('span', { className: 'upload-state' });
  private readonly bar = el('progress', { attrs: { max: '1', value: '0' } });
  private readonly bytes = el('span', { className: 'upload-bytes' });
  private readonly speed = el('span', { className: 'upload-speed' });
  private readonly note = el('p', { className: 'upload-note' });
  private readonly error = el('p', { className: 'upload-error', attrs: { role: 'alert' } });
  private readonly cancelButton: HTMLButtonElement;
  private readonly pauseButton: HTMLButtonElement | undefined;
  private readonly resumeButton: HTMLButtonElement | undefined;
  private readonly retryButton: HTMLButtonElement;
  private readonly dismissButton: HTMLButtonElement;
  private current: RowState = 'starting';
  /** Whether the shown error is one a retry can fix: only then is Retry offered. */
  private retryable = true;

  constructor(file: File, actions: RowActions) {
    this.bar.setAttribute('aria-label', `Upload progress of ${file.name}`);
    // A long name wraps inside the row; the full one is also its title.
    this.name = el('span', { className: 'upload-name', text: file.name, attrs: { title: file.name } });
    this.cancelButton = this.labelled(button('Cancel', actions.cancel), file.name);
    const { pause, resume } = actions;
    if (pause && resume) {
      this.pauseButton = this.labelled(
        button('Pause', () => {
          pause();
          this.setState('paused');
        }),
        file.name,
      );
      this.resumeButton = this.labelled(
        button(
          'Resume',
          () => {
            resume();
            this.setState('uploading');
          },
          'primary',
        ),
        file.name,
      );
    }
    this.retryButton = this.labelled(button('Retry', actions.retry, 'primary'), file.name);
    this.dismissButton = this.labelled(button('Dismiss', actions.dismiss), file.name);
    this.element = el(
      'li',
      { className: 'upload', attrs: { 'data-file': file.name } },
      el('div', { className: 'upload-head' }, this.name, this.state),
      this.bar,
      el('div', { className: 'upload-meta' }, this.bytes, this.speed),
      this.note,
      this.error,
      el(
        'div',
        { className: 'upload-actions' },
        this.pauseButton,
        this.resumeButton,
        this.cancelButton,
        this.retryButton,
        this.dismissButton,
      ),
    );
    this.setState('starting');
    this.setProgress(0, file.size, undefined);
  }

  get rowState(): RowState {
    return this.current;
  }

  setState(state: RowState, note?: string): void {
    this.current = state;
    this.element.dataset.state = state;
    this.state.textContent = STATE_LABELS[state];
    this.note.textContent = note ?? '';
    this.note.hidden = !note;
    const running = state === 'starting' || state === 'resuming' || state === 'uploading' || state === 'paused';
    this.cancelButton.hidden = !running;
    if (this.pauseButton) this.pauseButton.hidden = state !== 'uploading';
    if (this.resumeButton) this.resumeButton.hidden = state !== 'paused';
    this.dismissButton.hidden = running;
    if (state !== 'failed') this.showError(undefined);
    this.retryButton.hidden = state !== 'failed' || !this.retryable;
    if (state !== 'uploading') this.speed.textContent = '';
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

  /**
   * The upload is stored: the row shows the name the server's catalogue keeps (what the asset
   * list and downloads use), and the key it is stored under.
   */
  finished(stored: StoredAs): void {
    const name = stored.fileName ?? this.name.textContent ?? stored.key;
    this.name.textContent = name;
    this.name.title = `${name}\n${stored.key}`;
    this.element.dataset.key = stored.key;
    this.setState('done', `Stored as ${stored.key}`);
  }

  /** Shows why the upload failed; Retry is offered only when a retry can fix it (the view says what to do otherwise). */
  showError(view: ErrorView | undefined): void {
    this.error.replaceChildren();
    this.error.hidden = !view;
    this.retryable = view?.retryable ?? true;
    this.retryButton.hidden = this.current !== 'failed' || !this.retryable;
    if (!view) return;
    const status = view.status === undefined ? '' : ` · HTTP ${view.status}`;
    this.error.append(el('code', { text: `${view.code}${status}` }), ` ${view.text}`);
  }

  /** "Cancel" says what it does; screen readers hear which file's it is from a list of several. */
  private labelled(control: HTMLButtonElement, fileName: string): HTMLButtonElement {
    control.setAttribute('aria-description', fileName);
    return control;
  }
}
