import { describeError } from './describe-error.js';
import { button, el } from './dom.js';
import { formatBytes, formatDate } from './format.js';
import type { ResumeRecord } from './resume-records.js';

/**
 * Uploads of this browser that stopped half-way (a reload, a closed tab, a failure): picking the
 * same file again continues one; Discard removes it and its stored parts from the server.
 */
export function renderUnfinished(
  container: HTMLElement,
  records: readonly ResumeRecord[],
  discard: (record: ResumeRecord) => Promise<void>,
): void {
  container.hidden = records.length === 0;
  if (records.length === 0) {
    container.replaceChildren();
    return;
  }
  const items = records.map((record) => {
    const error = el('span', { className: 'bad' });
    const discardButton = button('Discard', () => {
      discardButton.disabled = true;
      discard(record).catch((failure: unknown) => {
        const view = describeError(failure);
        error.textContent = `${view.code}: ${view.text}`;
        discardButton.disabled = false;
      });
    });
    return el(
      'li',
      { attrs: { 'data-file': record.name } },
      el('span', { className: 'upload-name', text: record.name }),
      el('span', { className: 'hint', text: ` ${formatBytes(record.size)} · started ${formatDate(new Date(record.startedAt))} ` }),
      discardButton,
      error,
    );
  });
  container.replaceChildren(
    el('h3', { text: 'Unfinished uploads' }),
    el('p', { className: 'hint', text: 'Pick the same file again to continue where it stopped; only the missing parts are sent.' }),
    el('ul', {}, ...items),
  );
}
