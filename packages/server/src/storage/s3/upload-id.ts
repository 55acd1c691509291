import { AppError } from '../../errors.js';

/**
 * Upload ids reach S3 from callers. Real ids are opaque tokens, never `.` or `..` path segments,
 * but S3-compatible servers that store uploads as folders may join the id onto a path:
 * versitygw v1.7.0 (posix) resolves `../..` as an open upload and AbortMultipartUpload then
 * deletes the folder it points at. Such ids are refused before any request is sent.
 */
export function assertPlausibleUploadId(uploadId: string): void {
  if (uploadId.split(/[/\\]/).some((segment) => segment === '.' || segment === '..')) {
    throw new AppError('INVALID_UPLOAD_ID', 'upload not found: it is unknown, finished, aborted or of another key');
  }
}
