import type { AppRouter } from '../../../../packages/server/src/router/index.js';

/** A procedure's output type, read from the router itself (no tRPC client in this package). */
type Output<P> = P extends { _def: { $types: { output: infer O } } } ? O : never;

export type ObjectHead = Output<AppRouter['object']['head']>;
export type OpenUpload = Output<AppRouter['upload']['listOpen']>['uploads'][number];
export type UppyCapability = Output<AppRouter['uppy']['capability']>;

/**
 * What the test checks on the server side, spoken to the API over HTTP as any app's backend
 * would: tRPC's wire format (superjson envelopes, plain JSON values inside) and the REST download.
 */
export class Api {
  constructor(readonly url: string) {}

  /** What an app's backend does before it renders the page: mint the workspace's Uppy endpoint. */
  mintUppyEndpoint(workspaceId: string, expiresInSeconds?: number): Promise<UppyCapability> {
    return this.mutation('uppy.capability', { workspaceId, ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }) });
  }

  /** The object's catalogue entry, or undefined when there is none (NOT_FOUND). */
  async head(workspaceId: string, key: string): Promise<ObjectHead | undefined> {
    try {
      return await this.query<ObjectHead>('object.head', { workspaceId, key });
    } catch (error) {
      if (error instanceof TrpcError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  async listObjects(workspaceId: string): Promise<ObjectHead[]> {
    return (await this.query<{ objects: ObjectHead[] }>('object.list', { workspaceId, limit: 100 })).objects;
  }

  async listOpen(workspaceId: string): Promise<OpenUpload[]> {
    return (await this.query<{ uploads: OpenUpload[] }>('upload.listOpen', { workspaceId, limit: 100 })).uploads;
  }

  /** The object's bytes through the documented GET /s3/download. */
  async download(workspaceId: string, key: string): Promise<Buffer> {
    const answer = await fetch(`${this.url}/s3/download?${new URLSearchParams({ workspaceId, key })}`);
    if (answer.status !== 200) throw new Error(`GET /s3/download answered ${answer.status}: ${await answer.text()}`);
    return Buffer.from(await answer.arrayBuffer());
  }

  private async query<T>(path: string, input: unknown): Promise<T> {
    const query = new URLSearchParams({ input: JSON.stringify({ json: input }) });
    return this.answer<T>(path, await fetch(`${this.url}/trpc/${path}?${query}`));
  }

  private async mutation<T>(path: string, input: unknown): Promise<T> {
    const body = JSON.stringify({ json: input });
    return this.answer<T>(
      path,
      await fetch(`${this.url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
  }

  private async answer<T>(path: string, response: Response): Promise<T> {
    const body = (await response.json()) as {
      result?: { data: { json: T } };
      error?: { json: { message: string; data?: { code?: string } } };
    };
    if (body.result) return body.result.data.json;
    throw new TrpcError(path, response.status, body.error?.json.data?.code ?? 'UNKNOWN', body.error?.json.message ?? '');
  }
}

export class TrpcError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${path}: ${status} ${code}: ${message}`);
  }
}
