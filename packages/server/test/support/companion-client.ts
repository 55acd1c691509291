/**
 * Speaks to `/uppy/<capability>/s3/...` exactly as `@uppy/aws-s3` 6.x's CompanionS3.js does: plain
 * fetch with no headers but content-type, parts PUT to the signed URLs, the ETag read from the
 * PUT's answer, small files as a multipart form POST of `/params`' fields with `file` last.
 * Each call answers status and body instead of throwing, so tests can assert refusals.
 */
export interface CompanionAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

async function answer(response: Response): Promise<CompanionAnswer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, headers: response.headers };
}

export function companion(endpoint: string) {
  const call = async (path: string, init?: RequestInit) => answer(await fetch(`${endpoint}/s3${path}`, init));
  const keyQuery = (key: string) => new URLSearchParams({ key });
  return {
    createMultipartUpload: (filename: string, type: string, metadata: Record<string, string> = {}) =>
      call('/multipart', {
        method: 'POST',
        body: JSON.stringify({ filename, metadata, type }),
        headers: { 'content-type': 'application/json' },
      }),
    signPart: (key: string, uploadId: string, partNumber: number | string) =>
      call(`/multipart/${encodeURIComponent(uploadId)}/${encodeURIComponent(partNumber)}?${keyQuery(key)}`),
    signParts: (key: string, uploadId: string, partNumbers: number[]) =>
      call(`/multipart/${encodeURIComponent(uploadId)}/batch?${new URLSearchParams({ key, partNumbers: partNumbers.join(',') })}`),
    listParts: (key: string, uploadId: string) => call(`/multipart/${encodeURIComponent(uploadId)}?${keyQuery(key)}`),
    complete: (key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>) =>
      call(`/multipart/${encodeURIComponent(uploadId)}/complete?${keyQuery(key)}`, {
        method: 'POST',
        body: JSON.stringify({ parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) }),
        headers: { 'content-type': 'application/json' },
      }),
    abort: (key: string, uploadId: string) => call(`/multipart/${encodeURIComponent(uploadId)}?${keyQuery(key)}`, { method: 'DELETE' }),
    params: (filename: string, type: string, metadata: Record<string, string> = {}) =>
      call(
        `/params?${new URLSearchParams({
          filename,
          type,
          ...Object.fromEntries(Object.entries(metadata).map(([name, value]) => [`metadata[${name}]`, value])),
        })}`,
      ),
    /** Uppy's postObject: the fields, then `file` last; the browser sets the form's content type. */
    postForm: async (url: string, fields: Record<string, string>, data: Blob) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.set(name, value);
      form.set('file', data);
      return answer(await fetch(url, { method: 'POST', body: form }));
    },
  };
}

/** The part PUT of uploadPart: the ETag without its quotes, as Uppy's sanitizeETag leaves it. */
export async function putToUrl(url: string, body: Uint8Array): Promise<{ status: number; etag: string | undefined }> {
  const response = await fetch(url, { method: 'PUT', body: body as Uint8Array<ArrayBuffer> });
  await response.arrayBuffer();
  return { status: response.status, etag: response.headers.get('etag')?.replace(/^"+|"+$/g, '') };
}
