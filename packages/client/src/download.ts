import { abortError } from './abort.js';
import { fromErrorResponse, S3ServiceError } from './errors.js';
import type { HttpContext } from './http.js';

export interface DownloadInput {
  key: string;
  workspaceId: string;
  /** Inclusive byte range, e.g. to continue a cut-off download; the answer is then 206. */
  range?: { start: number; end?: number };
  signal?: AbortSignal;
}

/**
 * GET /s3/download: the object as a streaming Response (body, Content-Type, Content-Length,
 * ETag). tRPC cannot carry a byte stream, so this one call uses the documented REST path.
 */
export async function downloadObject(http: HttpContext, input: DownloadInput): Promise<Response> {
  const query = new URLSearchParams({ key: input.key, workspaceId: input.workspaceId });
  const headers = await http.headers();
  if (input.range) headers.range = `bytes=${input.range.start}-${input.range.end ?? ''}`;
  let response: Response;
  try {
    response = await http.fetch(`${http.baseUrl}/s3/download?${query}`, { headers, signal: input.signal });
  } catch (error) {
    if (input.signal?.aborted) throw abortError(input.signal);
    throw new S3ServiceError('NETWORK_ERROR', `could not reach the service: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw await fromErrorResponse(response);
  return response;
}
