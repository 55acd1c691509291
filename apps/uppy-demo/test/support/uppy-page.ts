import type { BrowserContext, Page, Request } from 'playwright-core';

/** What the page logs of Uppy's events (src/main.ts). */
export interface UploadEvent {
  type: 'upload-success' | 'upload-error';
  fileId: string;
  name: string;
  key?: string;
  message?: string;
}

/** A file on disk, picked by its path: the browser reads it itself (a buffer would cross the DevTools pipe in base64). */
export interface TestFile {
  /** Its base name, which Uppy uses as the file's name. */
  name: string;
  path: string;
  size: number;
  sha256: string;
}

interface UppyWindow {
  uppy: {
    getFiles(): Array<{ id: string; name: string; progress: { bytesUploaded: number | false } }>;
    pauseResume(fileId: string): boolean | undefined;
    cancelAll(): void;
    upload(): Promise<unknown>;
  };
  uploadEvents: UploadEvent[];
}

/** The example page as a person uses it (Dashboard's file input and Upload button), plus Uppy's own API for pause and cancel. */
export class UppyPage {
  /** Part PUTs the page sent, by part number, in order: a resumed upload must not send a stored part again. */
  readonly partPuts: number[] = [];
  /** Every request the page made to the Uppy endpoint, as `METHOD /s3/...` (capability left out). */
  readonly endpointCalls: string[] = [];

  private constructor(
    readonly page: Page,
    private readonly endpoint: string,
  ) {
    page.on('request', (request) => this.note(request));
  }

  static async open(
    context: BrowserContext,
    pageUrl: string,
    endpoint: string,
    options: { multipart?: 'default' } = {},
  ): Promise<UppyPage> {
    const query = new URLSearchParams({ endpoint, ...(options.multipart ? { multipart: options.multipart } : {}) });
    const uppyPage = new UppyPage(await context.newPage(), endpoint);
    await uppyPage.page.goto(`${pageUrl}/?${query}`);
    await uppyPage.page.locator('.uppy-Dashboard').waitFor();
    return uppyPage;
  }

  /** Picks the file in the Dashboard (its hidden file input) and answers Uppy's id for it. */
  async add(file: TestFile): Promise<string> {
    await this.page.locator('.uppy-Dashboard-input').first().setInputFiles(file.path);
    return this.page.evaluate((name) => {
      const found = (window as unknown as UppyWindow).uppy.getFiles().find((candidate) => candidate.name === name);
      if (!found) throw new Error(`Uppy has no file named ${name}`);
      return found.id;
    }, file.name);
  }

  /** Dashboard's own "Upload N file(s)" button. */
  async clickUpload(): Promise<void> {
    await this.page.locator('.uppy-StatusBar-actionBtn--upload').click();
  }

  /** Waits for Uppy's upload-success or upload-error of that file. */
  async outcome(fileId: string, timeout = 30_000): Promise<UploadEvent> {
    const handle = await this.page.waitForFunction(
      (id) => (window as unknown as UppyWindow).uploadEvents.find((event) => event.fileId === id),
      fileId,
      { timeout },
    );
    return (await handle.jsonValue()) as UploadEvent;
  }

  events(): Promise<UploadEvent[]> {
    return this.page.evaluate(() => (window as unknown as UppyWindow).uploadEvents);
  }

  /** Uppy's pause/resume toggle for one file (what Dashboard's pause button calls). */
  pauseResume(fileId: string): Promise<boolean | undefined> {
    return this.page.evaluate((id) => (window as unknown as UppyWindow).uppy.pauseResume(id), fileId);
  }

  cancelAll(): Promise<void> {
    return this.page.evaluate(() => (window as unknown as UppyWindow).uppy.cancelAll());
  }

  /** Resolves once the page has sent (not necessarily finished) a PUT of this part number. */
  async waitForPartPut(partNumber: number): Promise<void> {
    if (this.partPuts.includes(partNumber)) return;
    await this.page.waitForRequest((request) => partNumberOf(request) === partNumber);
  }

  /** Resolves once the page has called the endpoint so (e.g. `DELETE /s3/multipart/`) and got an answer. */
  async waitForEndpointAnswer(prefix: string): Promise<void> {
    await this.page.waitForResponse((response) => this.describe(response.request())?.startsWith(prefix) === true);
  }

  private note(request: Request) {
    const partNumber = partNumberOf(request);
    if (partNumber !== undefined) this.partPuts.push(partNumber);
    const call = this.describe(request);
    if (call) this.endpointCalls.push(call);
  }

  private describe(request: Request): string | undefined {
    if (!request.url().startsWith(this.endpoint)) return undefined;
    return `${request.method()} ${new URL(request.url()).pathname.slice(new URL(this.endpoint).pathname.length)}`;
  }
}

function partNumberOf(request: Request): number | undefined {
  if (request.method() !== 'PUT') return undefined;
  const partNumber = new URL(request.url()).searchParams.get('partNumber');
  return partNumber ? Number(partNumber) : undefined;
}
