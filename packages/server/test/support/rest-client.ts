import { request as httpRequest, type IncomingMessage } from 'node:http';
import { putPart } from './bytes.js';

export interface RestAnswer {
  status: number;
  /** The JSON body, or the text when it is not JSON. */
  body: any;
  text: string;
  headers: Headers;
}

export interface RestInit {
  query?: Record<string, string>;
  json?: unknown;
  /** A raw body, for bodies that are not valid JSON. */
  body?: string;
  headers?: Record<string, string>;
}

/** One call to the documented /s3 paths (or any path): JSON in, JSON (or text) out. */
export async function rest(baseUrl: string, method: string, path: string, init: RestInit = {}): Promise<RestAnswer> {
  const url = new URL(path, baseUrl);
  for (const [name, value] of Object.entries(init.query ?? {})) url.searchParams.append(name, value);
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed, text, headers: response.headers };
}

export interface StartedUpload {
  workspaceId: string;
  assetId: string;
  uploadId: string;
  key: string;
  parts: Array<{ PartNumber: number; ETag: string }>;
}

/** start-upload, then one signed PUT per part: everything of the documented flow but the complete. */
export async function uploadParts(baseUrl: string, workspaceId: string, parts: readonly Buffer[]): Promise<StartedUpload> {
  const started = await rest(baseUrl, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'application/octet-stream' } });
  if (started.status !== 200) throw new Error(`start-upload answered ${started.status}: ${JSON.stringify(started.body)}`);
  const { uploadId, assetId } = started.body as { uploadId: string; assetId: string };
  const done: StartedUpload['parts'] = [];
  for (const [index, part] of parts.entries()) {
    const query = { workspaceId, assetId, UploadId: uploadId, PartNumber: String(index + 1) };
    const signed = await rest(baseUrl, 'GET', '/s3/get-upload-url', { query });
    if (signed.status !== 200) throw new Error(`get-upload-url answered ${signed.status}`);
    const put = await putPart(signed.body.url as string, part);
    if (put.status !== 200 || !put.etag) throw new Error(`part ${index + 1}: PUT answered ${put.status}`);
    done.push({ PartNumber: index + 1, ETag: put.etag });
  }
  return { workspaceId, assetId, uploadId, key: `${workspaceId}/digital_assets/${assetId}`, parts: done };
}

export function completeUpload(baseUrl: string, upload: StartedUpload): Promise<RestAnswer> {
  const { workspaceId, assetId, uploadId, parts } = upload;
  return rest(baseUrl, 'POST', '/s3/complete-upload', { json: { workspaceId, assetId, uploadId, parts } });
}

export function downloadUrl(baseUrl: string, workspaceId: string, key: string): string {
  const url = new URL('/s3/download', baseUrl);
  url.searchParams.set('workspaceId', workspaceId);
  url.searchParams.set('key', key);
  return url.toString();
}

/**
 * A GET on its own connection (no keep-alive pool), so a test controls exactly when the socket
 * reads and when it goes away. Resolves with the response once the headers arrived.
 */
export function openDownload(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, resolve);
    req.once('error', reject);
    req.end();
  });
}
