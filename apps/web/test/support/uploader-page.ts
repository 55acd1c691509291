import type { BrowserContext, Locator, Page } from 'playwright-core';

export interface PageSettings {
  apiUrl: string;
  workspaceId: string;
}

/** The uploader page as a person uses it: the settings form, the file input, rows and buttons. */
export class UploaderPage {
  /** Part PUTs the page sent, in order, across reloads. */
  readonly partPuts: number[] = [];

  private constructor(readonly page: Page) {
    page.on('request', (request) => {
      if (request.method() !== 'PUT') return;
      const partNumber = new URL(request.url()).searchParams.get('partNumber');
      if (partNumber) this.partPuts.push(Number(partNumber));
    });
  }

  static async open(context: BrowserContext, pageUrl: string, settings: PageSettings): Promise<UploaderPage> {
    const uploader = new UploaderPage(await context.newPage());
    await uploader.page.goto(`${pageUrl}/app/`);
    await uploader.configure(settings);
    return uploader;
  }

  async configure(settings: PageSettings): Promise<void> {
    await this.page.getByLabel('API URL').fill(settings.apiUrl);
    await this.page.getByLabel('Workspace').fill(settings.workspaceId);
    await this.page.getByRole('button', { name: 'Save' }).click();
    await this.page.locator('#settings-status', { hasText: 'Saved.' }).waitFor();
  }

  pick(...paths: string[]): Promise<void> {
    return this.page.setInputFiles('#file-input', paths);
  }

  upload(name: string): Locator {
    return this.page.locator(`#upload-list li[data-file="${name}"]`);
  }

  async waitForState(name: string, state: string): Promise<void> {
    await this.page.locator(`#upload-list li[data-file="${name}"][data-state="${state}"]`).waitFor();
  }

  async percent(name: string): Promise<number> {
    return Number(await this.upload(name).getAttribute('data-percent'));
  }

  /** From now on, keeps every percent each upload row shows, in order (see `percentsSeen`). */
  async recordPercents(): Promise<void> {
    await this.page.evaluate(() => {
      const seen: Record<string, number[]> = {};
      (window as unknown as { percentsSeen: typeof seen }).percentsSeen = seen;
      new MutationObserver((mutations) => {
        for (const mutation of mutations) {
          const row = mutation.target as HTMLElement;
          const name = row.dataset.file;
          if (!name || row.dataset.percent === undefined) continue;
          let list = seen[name];
          if (!list) {
            list = [];
            seen[name] = list;
          }
          const percent = Number(row.dataset.percent);
          if (list.at(-1) !== percent) list.push(percent);
        }
      }).observe(document.getElementById('upload-list')!, { subtree: true, attributes: true, attributeFilter: ['data-percent'] });
    });
  }

  percentsSeen(name: string): Promise<number[]> {
    return this.page.evaluate((file) => (window as unknown as { percentsSeen: Record<string, number[]> }).percentsSeen[file] ?? [], name);
  }

  /** The line of the "Unfinished uploads" panel for this file name. */
  unfinished(name: string): Locator {
    return this.page.locator(`#unfinished li[data-file="${name}"]`);
  }

  /** What this browser keeps in localStorage, by key. */
  storedKeys(): Promise<string[]> {
    return this.page.evaluate(() => Object.keys(localStorage).sort());
  }

  asset(key: string): Locator {
    return this.page.locator(`#assets-table tr[data-key="${key}"]`);
  }
}
