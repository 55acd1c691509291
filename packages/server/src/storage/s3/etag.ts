/**
 * S3 wants part etags quoted in CompleteMultipartUpload, browsers read them quoted from the PUT
 * response, and some clients strip the quotes: accept both, always hand S3 and callers the quoted form.
 */
export function quoteEtag(etag: string): string {
  const bare = etag.trim().replace(/^"(.*)"$/, '$1');
  return `"${bare}"`;
}
