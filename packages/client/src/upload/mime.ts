/**
 * A short extension table for the common cases. It only fills in `fileType` when the caller gave
 * none and the input has no type of its own. It lists only types the server's default allowlist
 * accepts: a page or script type (html, svg, json) would be refused there, and such files are
 * better stored as application/octet-stream anyway, so they are not guessed.
 */
const typesByExtension: Readonly<Record<string, string>> = {
  avif: 'image/avif',
  csv: 'text/csv',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  gif: 'image/gif',
  gz: 'application/gzip',
  heic: 'image/heic',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  m4a: 'audio/mp4',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  pdf: 'application/pdf',
  png: 'image/png',
  tar: 'application/x-tar',
  txt: 'text/plain',
  wav: 'audio/wav',
  webm: 'video/webm',
  webp: 'image/webp',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  zip: 'application/zip',
};

export const DEFAULT_FILE_TYPE = 'application/octet-stream';

/** The type a file name's extension suggests, e.g. `photo.JPG` -> image/jpeg. */
export function fileTypeFromName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const base = name.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return typesByExtension[base.slice(dot + 1).toLowerCase()];
}
