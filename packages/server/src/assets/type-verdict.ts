import { essenceOf } from '../upload-rules.js';
import type { SniffedType } from './sniff-type.js';

/**
 * What complete does with a declared type once the bytes were looked at: keep it, record the
 * type the bytes have instead (the same kind of file under a more exact name), or refuse.
 */
export type TypeVerdict = { verdict: 'keep' } | { verdict: 'record'; fileType: string } | { verdict: 'refuse'; reason: string };

type Family = 'image' | 'av' | 'document' | 'archive' | 'text' | 'executable' | `other:${string}`;

/** Formats that are never text: markup or a script behind one of these is a disguise. */
const BINARY_FAMILIES = new Set<Family>(['image', 'av', 'document', 'archive']);

/** Families whose detected subtype names the file better than what the browser guessed from its extension. */
const RECORDED_FAMILIES = new Set<Family>(['image', 'av', 'document']);

const DOCUMENT_TYPES = new Set([
  'application/pdf',
  'application/rtf',
  'application/msword',
  'application/epub+zip',
  'application/x-cfb',
  'text/rtf',
]);
const DOCUMENT_PREFIXES = ['application/vnd.ms-', 'application/vnd.openxmlformats-officedocument.', 'application/vnd.oasis.opendocument.'];

const ARCHIVE_TYPES = new Set([
  'application/zip',
  'application/x-zip-compressed',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/vnd.rar',
  'application/x-bzip2',
  'application/x-xz',
  'application/zstd',
  'application/x-lzip',
]);

const EXECUTABLE_TYPES = new Set([
  'application/x-elf',
  'application/x-mach-binary',
  'application/x-msdownload',
  'application/x-executable',
  'application/x-dosexec',
  'application/vnd.microsoft.portable-executable',
]);

/** Text formats under `application/`. */
const TEXT_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-httpd-php',
]);

/**
 * Generic containers the specific formats are made of: with only the head at hand, file-type may
 * see a .docx as the ZIP it is, or a .doc as its OLE compound file.
 */
function isContainerOf(detected: string, declared: Family): boolean {
  if (detected === 'application/zip') return declared === 'document' || declared === 'archive';
  if (detected === 'application/x-cfb') return declared === 'document';
  return false;
}

function familyOf(essence: string): Family {
  if (essence.startsWith('image/')) return 'image';
  if (essence.startsWith('video/') || essence.startsWith('audio/')) return 'av';
  if (DOCUMENT_TYPES.has(essence) || DOCUMENT_PREFIXES.some((prefix) => essence.startsWith(prefix))) return 'document';
  if (ARCHIVE_TYPES.has(essence)) return 'archive';
  if (EXECUTABLE_TYPES.has(essence)) return 'executable';
  if (essence.startsWith('text/') || TEXT_TYPES.has(essence) || /\+(?:json|xml)$/.test(essence)) return 'text';
  return `other:${essence}`;
}

/** Markup and scripts are text whatever their names say (an SVG is text, not an image). */
function sniffedFamily(sniffed: SniffedType): Family {
  return sniffed.kind === 'markup' || sniffed.kind === 'script' ? 'text' : familyOf(sniffed.mime);
}

/**
 * Judges a declared type by what the bytes are. `application/octet-stream` claims nothing, so
 * nothing contradicts it; bytes that tell nothing leave the declared type to the allowlist.
 */
export function judgeType(declared: string, sniffed: SniffedType | undefined): TypeVerdict {
  const essence = essenceOf(declared);
  if (!sniffed || essence === 'application/octet-stream' || essence === sniffed.mime) return { verdict: 'keep' };
  const claimed = familyOf(essence);
  const actual = sniffedFamily(sniffed);
  const refuse = (what: string): TypeVerdict => ({ verdict: 'refuse', reason: `declared ${essence}, but the bytes are ${what}` });
  if (sniffed.kind === 'markup' || sniffed.kind === 'script') {
    return BINARY_FAMILIES.has(claimed)
      ? refuse(`${sniffed.kind === 'markup' ? 'markup' : 'a script'} (${sniffed.mime})`)
      : { verdict: 'keep' };
  }
  if (isContainerOf(sniffed.mime, claimed)) return { verdict: 'keep' };
  if (actual !== claimed) return refuse(sniffed.kind === 'executable' ? `an executable (${sniffed.mime})` : sniffed.mime);
  return RECORDED_FAMILIES.has(actual) ? { verdict: 'record', fileType: sniffed.mime } : { verdict: 'keep' };
}
