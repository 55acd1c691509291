import { normalizeApiUrl, type Settings, validateSettings } from './settings.js';

/**
 * Fills the settings form and reports a valid submission. Changes apply on Save only, so a
 * half-typed URL never reaches the uploader or the asset list.
 */
export function bindSettingsForm(form: HTMLFormElement, initial: Settings, onSave: (settings: Settings) => void): void {
  const field = (name: keyof Settings) => form.elements.namedItem(name) as HTMLInputElement;
  const status = form.querySelector('output')!;
  field('apiUrl').value = initial.apiUrl;
  field('apiUrl').placeholder = location.origin;
  field('workspaceId').value = initial.workspaceId;
  field('token').value = initial.token;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next: Settings = {
      apiUrl: normalizeApiUrl(field('apiUrl').value, location.origin),
      workspaceId: field('workspaceId').value.trim(),
      token: field('token').value.trim(),
    };
    const problem = validateSettings(next);
    status.classList.toggle('bad', problem !== undefined);
    if (problem) {
      status.textContent = problem;
      return;
    }
    field('apiUrl').value = next.apiUrl;
    status.textContent = 'Saved.';
    onSave(next);
  });
}
