import './style.css';
import { connect } from './api.js';
import { AssetList } from './asset-list.js';
import { required } from './dom.js';
import { KnownNames } from './known-names.js';
import { ResumeRecords } from './resume-records.js';
import { loadSettings, type Settings, saveSettings } from './settings.js';
import { bindSettingsForm } from './settings-form.js';
import { renderUnfinished } from './unfinished-panel.js';
import { Uploader } from './uploader.js';

/** Wires the three panels of index.html (settings, upload, assets) to one set of settings. */
function main(): void {
  let settings: Settings = loadSettings(localStorage, location.origin);
  let client = connect(settings);
  const records = new ResumeRecords(localStorage);
  const names = new KnownNames(localStorage);
  const busy = new Set<string>();

  const assets = new AssetList({
    body: required<HTMLTableSectionElement>('#assets-table tbody'),
    status: required('#assets-status'),
    more: required<HTMLButtonElement>('#assets-more'),
    names,
    connection: () => ({ client, settings }),
  });
  const workspaceLabel = required('#assets-workspace');
  const unfinished = required<HTMLElement>('#unfinished');

  const showUnfinished = () =>
    renderUnfinished(
      unfinished,
      records.forSettings(settings).filter((record) => !busy.has(record.uploadId)),
      async (record) => {
        try {
          await client.abortUpload({ workspaceId: record.workspaceId, uploadId: record.uploadId, assetId: record.assetId });
        } catch (error) {
          // Already gone on the server: forgetting it here is all that is left to do.
          if ((error as { code?: unknown }).code !== 'INVALID_UPLOAD_ID') throw error;
        }
        records.remove(record.uploadId);
      },
    );
  records.onChange(showUnfinished);

  const uploader = new Uploader({
    list: required<HTMLUListElement>('#upload-list'),
    records,
    busy,
    settings: () => settings,
    connect,
    uploaded: (result, file) => {
      names.remember(result.assetId, file.name);
      void assets.reload();
    },
    changed: showUnfinished,
  });

  const applySettings = () => {
    client = connect(settings);
    workspaceLabel.textContent = settings.workspaceId;
    showUnfinished();
    void assets.reload();
  };

  bindSettingsForm(required<HTMLFormElement>('#settings-form'), settings, (next) => {
    settings = next;
    saveSettings(localStorage, settings);
    applySettings();
  });
  bindFilePicker(required<HTMLInputElement>('#file-input'), required<HTMLElement>('#dropzone'), (files) => uploader.add(files));
  required<HTMLButtonElement>('#assets-refresh').addEventListener('click', () => void assets.reload());
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
