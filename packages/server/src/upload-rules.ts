import type { UploadRules } from './config.js';
import { AppError } from './errors.js';

/** `image/png; charset=x` is `image/png`: what every check of a type judges. */
export function essenceOf(fileType: string): string {
  return fileType.split(';')[0]!.trim().toLowerCase();
}

/** Patterns may end in `/*`. */
export function assertFileTypeAllowed(fileType: string, rules: UploadRules): void {
  const essence = essenceOf(fileType);
  const allowed = rules.allowedFileTypes.some((pattern) => {
    const lower = pattern.toLowerCase();
    return lower.endsWith('/*') ? essence.startsWith(lower.slice(0, -1)) : essence === lower;
  });
  if (!allowed) throw new AppError('FILE_TYPE_NOT_ALLOWED', `fileType: ${essence} may not be stored here`);
}

/** Refuses an upload whose bytes add up to more than MAX_UPLOAD_BYTES. */
export function assertWithinSizeLimit(totalBytes: number, rules: UploadRules): void {
  if (rules.maxUploadBytes !== undefined && totalBytes > rules.maxUploadBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `the upload is ${totalBytes} bytes; the limit is ${rules.maxUploadBytes}`);
  }
}
