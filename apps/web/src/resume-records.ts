import type { Settings } from './settings.js';

/**
 * An upload that may still be unfinished on the server. The file itself cannot be kept (a page
 * may not reopen a file on its own), so picking a file with the same name, size and
 * modification time is what takes the upload up again.
 */
export interface ResumeRecord {
  uploadId: string;
  assetId: string;
  apiUrl: string;
  workspaceId: string;
  name: string;
  size: number;
  lastModified: number;
  type: string;
  /** The resumed upload must cut the file into the same parts. */
  partSize: number;
  startedAt: number;
}

const STORAGE_KEY = 's3-service:unfinished-uploads';
/** Older records are forgotten; a store may well have dropped the upload by then. */
const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** The unfinished uploads of this browser, in localStorage so that they outlive a reload. */
export class ResumeRecords {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly storage: Storage,
    private readonly now: () => number = Date.now,
  ) {}

  all(): ResumeRecord[] {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(STORAGE_KEY) ?? '[]');
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(isRecord).filter((record) => this.now() - record.startedAt < MAX_AGE_MS);
    } catch {
      return [];
    }
  }

  /** The records of the API and workspace in use. */
  forSettings(settings: Settings): ResumeRecord[] {
    return this.all().filter((record) => record.apiUrl === settings.apiUrl && record.workspaceId === settings.workspaceId);
  }

  /** The unfinished upload this file would continue, if any (and not one of `busy`). */
  matching(file: File, settings: Settings, busy: ReadonlySet<string>): ResumeRecord | undefined {
    return this.forSettings(settings).find(
      (record) =>
        !busy.has(record.uploadId) && record.name === file.name && record.size === file.size && record.lastModified === file.lastModified,
    );
  }

  save(record: ResumeRecord): void {
    this.write([...this.all().filter((other) => other.uploadId !== record.uploadId), record]);
  }

  remove(uploadId: string): void {
    this.write(this.all().filter((record) => record.uploadId !== uploadId));
  }

  /** Called after every change. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private write(records: ResumeRecord[]): void {
    this.storage.setItem(STORAGE_KEY, JSON.stringify(records));
    for (const listener of this.listeners) listener();
  }
}

function isRecord(value: unknown): value is ResumeRecord {
  const record = value as Partial<ResumeRecord> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.uploadId === 'string' &&
    typeof record.assetId === 'string' &&
    typeof record.apiUrl === 'string' &&
    typeof record.workspaceId === 'string' &&
    typeof record.name === 'string' &&
    typeof record.size === 'number' &&
    typeof record.lastModified === 'number' &&
    typeof record.partSize === 'number' &&
    typeof record.startedAt === 'number'
  );
}
