import { randomBytes } from 'node:crypto';
import { join, resolve, sep } from 'node:path';
import { AppError } from '../../errors.js';
import { diskFailure } from './fs-errors.js';

/** 128 random bits as lowercase hex: the only shape of id this driver ever turns into a path. */
const RANDOM_ID = /^[0-9a-f]{32}$/;

export function newRandomId(): string {
  return randomBytes(16).toString('hex');
}

export function isRandomId(value: string): boolean {
  return RANDOM_ID.test(value);
}

/**
 * Refuses any upload id this driver did not mint, before it can reach a path. The message is the
 * same as for an unknown upload so that a probe learns nothing about the folder.
 */
export function checkUploadId(uploadId: string): string {
  if (!isRandomId(uploadId)) throw new AppError('INVALID_UPLOAD_ID', 'upload not found');
  return uploadId;
}

/**
 * Parts are zero-padded so a plain directory listing sorts them. The name carries the size too, so
 * listing an upload's parts needs no stat per part; names without it (written before the size was
 * added) are still read, and their size is then taken from the file. A part of a checksummed
 * upload carries its verified SHA-256 (hex) last, so the checksum commits with the part's rename.
 */
const PART_FILE = /^(\d{5})-([0-9a-f]{32})(?:-(\d{1,15}))?(?:-([0-9a-f]{64}))?\.part$/;

export interface PartFileFacts {
  /** The part's ETag, unquoted: 32 hex characters (see part-receiver.ts for what they hash). */
  etagHex: string;
  size: number;
  /** Base64 SHA-256 of the part. */
  sha256?: string;
}

export function partFileName(partNumber: number, part: PartFileFacts): string {
  const sha256 = part.sha256 === undefined ? '' : `-${Buffer.from(part.sha256, 'base64').toString('hex')}`;
  return `${fiveDigits(partNumber)}-${part.etagHex}-${part.size}${sha256}.part`;
}

export function parsePartFileName(name: string): { partNumber: number; etagHex: string; size?: number; sha256?: string } | undefined {
  const match = PART_FILE.exec(name);
  if (!match) return undefined;
  return {
    partNumber: Number(match[1]),
    etagHex: match[2]!,
    ...(match[3] === undefined ? {} : { size: Number(match[3]) }),
    ...(match[4] === undefined ? {} : { sha256: Buffer.from(match[4], 'hex').toString('base64') }),
  };
}

/** A segment file inside an object's blob folder is named by the part number it came from. */
const SEGMENT_FILE = /^\d{5}$/;

export function segmentFileName(partNumber: number): string {
  return fiveDigits(partNumber);
}

export function isSegmentFileName(name: string): boolean {
  return SEGMENT_FILE.test(name);
}

function fiveDigits(partNumber: number): string {
  return String(partNumber).padStart(5, '0');
}

/** Where everything lives under the data folder; see the layout comment in index.ts. */
export interface Layout {
  readonly root: string;
  readonly folders: readonly string[];
  readonly corsFile: string;
  readonly secretFile: string;
  readonly tempFolder: string;
  tempFile(): string;
  metaFile(key: string): string;
  /** The folder every object's metadata file is under: the key's segments are its subfolders. */
  readonly metaRoot: string;
  /** The folder of metadata files for keys under `prefix` (which ends in `/`). */
  metaFolder(prefix: string): string;
  /** An object's data: its folder of segment files, or (objects written before segments) one file. */
  blobFile(blobId: string): string;
  uploadFolder(uploadId: string): string;
  manifestFile(uploadId: string): string;
  partFile(uploadId: string, partNumber: number, part: PartFileFacts): string;
}

export function createLayout(dir: string): Layout {
  const root = resolve(dir);
  const metaRoot = join(root, 'meta');
  const blobRoot = join(root, 'blobs');
  const uploadRoot = join(root, 'uploads');
  const tempFolder = join(root, 'tmp');
  const bucketFolder = join(root, 'bucket');

  const uploadFolder = (uploadId: string) => join(uploadRoot, checkUploadId(uploadId));

  return {
    root,
    folders: [metaRoot, blobRoot, uploadRoot, tempFolder, bucketFolder],
    corsFile: join(bucketFolder, 'cors.json'),
    secretFile: join(root, '.signing-secret'),
    tempFolder,
    tempFile: () => join(tempFolder, newRandomId()),
    metaFile: (key) => `${insideFolder(metaRoot, key)}.json`,
    metaRoot,
    metaFolder: (prefix) => insideFolder(metaRoot, prefix.replace(/\/$/, '')),
    blobFile: (blobId) => {
      if (!isRandomId(blobId)) throw diskFailure('object metadata names no valid data file');
      return join(blobRoot, blobId);
    },
    uploadFolder,
    manifestFile: (uploadId) => join(uploadFolder(uploadId), 'upload.json'),
    partFile: (uploadId, partNumber, part) => join(uploadFolder(uploadId), partFileName(partNumber, part)),
  };
}

/**
 * Keys were validated by storage/keys.ts already; this second check keeps the driver safe on its
 * own: no empty or dot segments, no backslashes or NULs, and the result must stay under `folder`.
 */
function insideFolder(folder: string, key: string): string {
  const segments = key.split('/');
  const unsafe = segments.some((segment) => segment === '' || segment === '.' || segment === '..' || /[\\\0]/.test(segment));
  const path = resolve(folder, ...segments);
  if (unsafe || !path.startsWith(folder + sep)) {
    throw new AppError('INVALID_PARAMETER', 'key: not a storable object key');
  }
  return path;
}
