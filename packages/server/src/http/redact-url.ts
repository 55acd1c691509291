/** Query parameters that grant access by themselves: whoever reads them can use the URL. */
const SECRET_PARAMETERS = new Set(['signature', 'x-amz-signature', 'x-amz-credential', 'x-amz-security-token']);

/**
 * Uppy's endpoints carry an upload capability as their first path segment (`/uppy/<capability>/s3/...`):
 * it grants uploads into a workspace by itself, like a signature.
 */
const CAPABILITY_PATH = /^\/uppy\/[^/?#]+/;

/**
 * The URL with the values of signing parameters replaced, for logs. Signed part and download URLs
 * of the local store come back to this server; a log reader must not be able to replay them.
 */
export function redactUrl(original: string): string {
  const url = original.replace(CAPABILITY_PATH, '/uppy/[capability]');
  const query = url.indexOf('?');
  if (query === -1) return url;
  const redacted = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      return SECRET_PARAMETERS.has(safeDecode(name).toLowerCase()) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, query)}?${redacted}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
