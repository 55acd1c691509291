/**
 * Tells screen readers what happens to each upload, in one polite status line: "report.pdf:
 * Uploaded". It watches the rows' `data-state`, so whoever drives the rows needs to know nothing
 * of it, and the bars' percentages (which change many times a second) are never read out.
 */
export function announceUploadStates(list: HTMLElement, announcer: HTMLElement): void {
  const said = new WeakMap<Element, string>();
  const announce = (row: HTMLElement) => {
    const state = row.dataset.state;
    // "Starting" is what the person just did; a resumed, paused or finished upload is news.
    if (!state || state === 'starting' || said.get(row) === state) return;
    said.set(row, state);
    const name = row.querySelector('.upload-name')?.textContent ?? row.dataset.file ?? '';
    const label = row.querySelector('.upload-state')?.textContent ?? state;
    const error = state === 'failed' ? row.querySelector('.upload-error code')?.textContent : undefined;
    announcer.textContent = `${name}: ${label}${error ? ` (${error})` : ''}`;
  };
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      if (mutation.target instanceof HTMLElement && mutation.target.parentElement === list) announce(mutation.target);
    }
  }).observe(list, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
}
