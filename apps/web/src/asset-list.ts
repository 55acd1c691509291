import type { AssetEvent, S3ServiceClient } from '@s3-service/client';
import { describeError } from './describe-error.js';
import { button, el } from './dom.js';
import { formatBytes, formatDate } from './format.js';
import type { Settings } from './settings.js';

type ObjectPage = Awaited<ReturnType<S3ServiceClient['trpc']['object']['list']['query']>>;
type Asset = ObjectPage['objects'][number];
/** What a row shows: a listed asset, or one an asset.created event just announced. */
type ShownAsset = Pick<Asset, 'key' | 'assetId' | 'fileName' | 'size' | 'contentType' | 'etag' | 'lastModified'>;

export interface AssetListOptions {
  body: HTMLTableSectionElement;
  status: HTMLElement;
  more: HTMLButtonElement;
  /** Shows only the assets whose name contains its text (ignoring case). */
  filter: HTMLInputElement;
  /** `newest` or `name`, as object.list orders them. */
  order: HTMLSelectElement;
  connection(): { client: S3ServiceClient; settings: Settings };
}

/** What object.list is asked besides the page: the order and the name filter. */
interface AssetQuery {
  order: 'newest' | 'name';
  nameContains?: string;
}

const PAGE_SIZE = 20;
/** How long a Delete button waits for its confirming second click. */
const CONFIRM_MS = 4000;
/** Typing in the filter asks the server once the keys rest this long. */
const FILTER_DELAY_MS = 250;

/**
 * The workspace's assets from the server's catalogue, a page at a time (object.list), under the
 * names they were uploaded with, each with Download and Delete; filtered and ordered by the server.
 */
export class AssetList {
  private cursor: string | null = null;
  /** The filter and order the cursor belongs to: Load more continues them, whatever the fields say now. */
  private query: AssetQuery = { order: 'newest' };
  private shown = 0;
  /** Bumped by every reload: answers to an older request are dropped. */
  private generation = 0;

  constructor(private readonly options: AssetListOptions) {
    options.more.addEventListener('click', () => void this.load(false));
    let typing: ReturnType<typeof setTimeout> | undefined;
    options.filter.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => void this.reload(), FILTER_DELAY_MS);
    });
    options.order.addEventListener('change', () => void this.reload());
  }

  reload(): Promise<void> {
    return this.load(true);
  }

  private async load(fromStart: boolean): Promise<void> {
    const { client, settings } = this.options.connection();
    const generation = fromStart ? ++this.generation : this.generation;
    this.options.more.disabled = true;
    if (fromStart) this.setStatus('Loading…');
    if (fromStart) this.query = this.fieldsQuery();
    try {
      const page = await client.trpc.object.list.query({
        workspaceId: settings.workspaceId,
        limit: PAGE_SIZE,
        ...this.query,
        ...(fromStart || !this.cursor ? {} : { cursor: this.cursor }),
      });
      if (generation !== this.generation) return;
      if (fromStart) {
        this.options.body.replaceChildren();
        this.shown = 0;
      }
      for (const asset of page.objects) this.options.body.append(this.row(asset));
      this.shown += page.objects.length;
      this.cursor = page.nextCursor;
      this.options.more.hidden = page.nextCursor === null;
      this.updateCount();
    } catch (error) {
      if (generation !== this.generation) return;
      // Rows of the previous workspace (or token) must not pass for this one's.
      if (fromStart) {
        this.options.body.replaceChildren();
        this.options.more.hidden = true;
        this.shown = 0;
      }
      const view = describeError(error);
      this.setStatus(`Could not list the assets: ${view.code}${view.status ? ` · HTTP ${view.status}` : ''}. ${view.text}`, true);
    } finally {
      this.options.more.disabled = false;
    }
  }

  /**
   * Another tab's (or person's) change, from the workspace's live events: a new asset appears
   * where the list's order puts it, a deleted one goes, without asking the server again. An
   * event for a row already there (this page's own upload, listed by a reload) changes nothing.
   */
  applyEvent(event: AssetEvent): void {
    if (event.type === 'asset.deleted') {
      const row = this.rowOf(event.data.key);
      if (!row) return;
      row.remove();
      this.shown -= 1;
      this.updateCount();
      return;
    }
    if (event.type !== 'asset.created' || this.rowOf(event.data.key)) return;
    const { key, assetId, fileName, size, contentType, etag } = event.data;
    const name = (fileName ?? assetId).toLowerCase();
    const { nameContains } = this.query;
    if (nameContains !== undefined && !(fileName ?? '').toLowerCase().includes(nameContains.toLowerCase())) return;
    const row = this.row({ key, assetId, fileName, size, contentType, etag, lastModified: new Date(event.timestamp) });
    const body = this.options.body;
    if (this.query.order === 'newest') {
      body.prepend(row);
    } else {
      const after = [...body.rows].find((other) => (other.dataset.name ?? '') > name);
      if (after) body.insertBefore(row, after);
      // Past the last row shown, it belongs to a page not loaded yet: Load more will bring it.
      else if (this.options.more.hidden) body.append(row);
      else return;
    }
    this.shown += 1;
    this.updateCount();
  }

  private rowOf(key: string): HTMLTableRowElement | undefined {
    return [...this.options.body.rows].find((row) => row.dataset.key === key);
  }

  private fieldsQuery(): AssetQuery {
    const nameContains = this.options.filter.value.trim();
    return { order: this.options.order.value === 'name' ? 'name' : 'newest', ...(nameContains ? { nameContains } : {}) };
  }

  private row(asset: ShownAsset): HTMLTableRowElement {
    const { assetId, fileName: name } = asset;
    const error = el('span', { className: 'bad' });
    const download = button('Download', () => void this.download(asset.key, error));
    const remove = button('Delete', () => void this.remove(row, asset.key, remove, error), 'danger');
    const row = el(
      'tr',
      { attrs: { 'data-key': asset.key, 'data-name': (name ?? assetId).toLowerCase() } },
      // The workspace is in the heading: the asset id is the part of the key worth showing.
      el(
        'td',
        // The name as the server's catalogue keeps it (what a download is saved as); the whole of it, key and ETag on hover.
        { className: 'asset-name', attrs: { title: `${name ?? assetId}\n${asset.key}\nETag ${asset.etag}` } },
        el('span', { text: name ?? assetId }),
        name ? el('code', { className: 'asset-key', text: assetId }) : null,
      ),
      el('td', { className: 'num', text: formatBytes(asset.size) }),
      el('td', { text: asset.contentType }),
      el('td', { className: 'date', text: formatDate(asset.lastModified), attrs: { title: asset.lastModified.toISOString() } }),
      el('td', { className: 'actions' }, download, remove, error),
    );
    return row;
  }

  /** A signed URL of the store, opened as a link: the store sends it as an attachment under the asset's name, so the page stays. */
  private async download(key: string, error: HTMLElement): Promise<void> {
    const { client, settings } = this.options.connection();
    error.textContent = '';
    try {
      const { url } = await client.downloadUrl({ workspaceId: settings.workspaceId, key });
      const link = el('a', { attrs: { href: url, rel: 'noopener' } });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (failure) {
      const view = describeError(failure);
      error.textContent = `${view.code}: ${view.text}`;
    }
  }

  /** The first click arms the button, a second within a few seconds deletes: no modal dialog needed. */
  private async remove(row: HTMLTableRowElement, key: string, control: HTMLButtonElement, error: HTMLElement): Promise<void> {
    if (control.dataset.armed !== 'true') {
      control.dataset.armed = 'true';
      control.textContent = 'Confirm delete';
      setTimeout(() => {
        control.dataset.armed = 'false';
        control.textContent = 'Delete';
      }, CONFIRM_MS);
      return;
    }
    const { client, settings } = this.options.connection();
    control.disabled = true;
    error.textContent = '';
    try {
      await client.delete({ workspaceId: settings.workspaceId, key });
      row.remove();
      this.shown -= 1;
      this.updateCount();
    } catch (failure) {
      const view = describeError(failure);
      error.textContent = `${view.code}: ${view.text}`;
      control.disabled = false;
    }
  }

  private updateCount(): void {
    const filtered = this.query.nameContains !== undefined;
    if (this.shown === 0 && this.options.more.hidden)
      this.setStatus(filtered ? 'No asset names match.' : 'No assets in this workspace yet.');
    else this.setStatus(`${this.shown} shown${this.options.more.hidden ? '' : '; more below'}.`);
  }

  private setStatus(text: string, bad = false): void {
    this.options.status.textContent = text;
    this.options.status.classList.toggle('bad', bad);
  }
}
