import './style.css';
import { connect } from './api.js';
import { AssetList } from './asset-list.js';
import { el, required } from './dom.js';
import { LiveEvents } from './live-events.js';
import { loadSettings, type Settings, saveSettings } from './settings.js';
import { bindSettingsForm } from './settings-form.js';
import { UnfinishedPanel } from './unfinished-panel.js';
import { announceUploadStates } from './upload-announcer.js';
import { Uploader } from './uploader.js';

/**
 * Wires the three panels of index.html (settings, upload, assets) to one set of settings. Only the
 * settings live in localStorage: names and unfinished uploads come from the server, so another
 * browser sees and resumes the same ones.
 */
function main(): void {
  let settings: Settings = loadSettings(localStorage, location.origin);
  let client = connect(settings);
  const connection = () => ({ client, settings });
  const busy = new Set<string>();

  const assets = new AssetList({
    body: required<HTMLTableSectionElement>('#assets-table tbody'),
    status: required('#assets-status'),
    more: required<HTMLButtonElement>('#assets-more'),
    filter: required<HTMLInputElement>('#assets-filter'),
    order: required<HTMLSelectElement>('#assets-order'),
    connection,
  });
  const workspaceLabel = required('#assets-workspace');
  // Another tab's upload appears in the list without a refresh (the workspace's live events).
  const indicator = el('span', { className: 'live-indicator', attrs: { id: 'assets-live', 'aria-live': 'off' } });
  workspaceLabel.after(' ', indicator);
  const live = new LiveEvents({ indicator, onEvent: (event) => assets.applyEvent(event), resync: () => void assets.reload() });
  const unfinished = new UnfinishedPanel({ container: required<HTMLElement>('#unfinished'), busy, connection });

  const uploadList = required<HTMLUListElement>('#upload-list');
  announceUploadStates(uploadList, required<HTMLElement>('#upload-announcer'));
  const uploader = new Uploader({
    list: uploadList,
    busy,
    settings: () => settings,
    connect,
    uploaded: () => void assets.reload(),
    changed: () => unfinished.refresh(),
  });

  const applySettings = () => {
    client = connect(settings);
    workspaceLabel.textContent = settings.workspaceId;
    live.follow(client, settings.workspaceId);
    unfinished.refresh();
    void assets.reload();
  };

  bindSettingsForm(required<HTMLFormElement>('#settings-form'), settings, (next) => {
    settings = next;
    saveSettings(localStorage, settings);
    applySettings();
  });
  bindFilePicker(required<HTMLInputElement>('#file-input'), required<HTMLElement>('#dropzone'), (files) => uploader.add(files));
  required<HTMLButtonElement>('#assets-refresh').addEventListener('click', () => {
    unfinished.refresh();
    void assets.reload();
  });
  applySettings();
}

/** Files come from the input or from a drop anywhere on the zone. */
function bindFilePicker(input: HTMLInputElement, zone: HTMLElement, pick: (files: File[]) => void): void {
  input.addEventListener('change', () => {
    pick([...(input.files ?? [])]);
    // Cleared so that choosing the same file again (to resume it) fires `change` again.
    input.value = '';
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    pick([...(event.dataTransfer?.files ?? [])]);
  });
}

main();
