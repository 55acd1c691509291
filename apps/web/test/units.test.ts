import { describe, expect, it } from 'vitest';
import { describeError } from '../src/describe-error.js';
import { formatBytes, percentOf } from '../src/format.js';
import { type ResumeRecord, ResumeRecords } from '../src/resume-records.js';
import { normalizeApiUrl, validateSettings } from '../src/settings.js';
import { SpeedMeter } from '../src/speed.js';
import { UploadProgress } from '../src/upload-progress.js';

/** localStorage's contract, in memory. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

describe('the progress shown for an upload', () => {
  it('adds bytes on the wire to stored bytes, and never goes back when a part is retried', () => {
    const progress = new UploadProgress(100);
    expect(progress.sending('part-1', 30)).toBe(30);
    expect(progress.sending('part-2', 20)).toBe(20);
    expect(progress.loaded).toBe(50);
    // Part 1 failed and starts again: its bytes leave the count, the bar holds.
    progress.settled('part-1');
    expect(progress.sending('part-1', 5)).toBe(5);
    expect(progress.loaded).toBe(50);
    progress.settled('part-2');
    progress.setStored(20);
    expect(progress.sending('part-1', 50)).toBe(45);
    expect(progress.loaded).toBe(70);
  });

  it('never shows more than the file', () => {
    const progress = new UploadProgress(10);
    progress.setStored(10);
    progress.sending('late', 10);
    expect(progress.loaded).toBe(10);
  });

  it('says 100 % only once the last byte is there', () => {
    expect(percentOf(996, 1000)).toBe(99);
    expect(percentOf(1000, 1000)).toBe(100);
    expect(percentOf(0, 0)).toBe(100);
    expect(formatBytes(23 * 1024 * 1024)).toBe('23.0 MiB');
    expect(formatBytes(512)).toBe('512 B');
  });
});

describe('errors in words', () => {
  it("reads the SDK's code and status", () => {
    const error = Object.assign(new Error('fileType: text/html may not be stored here'), { code: 'FILE_TYPE_NOT_ALLOWED', status: 400 });
    expect(describeError(error)).toEqual({
      code: 'FILE_TYPE_NOT_ALLOWED',
      status: 400,
      text: 'The server does not accept files of this type. (fileType: text/html may not be stored here)',
    });
  });

  it('reads the code of a raw tRPC error, and calls one without an answer a network error', () => {
    const refused = Object.assign(new Error('no access'), { name: 'TRPCClientError', data: { code: 'FORBIDDEN', httpStatus: 403 } });
    expect(describeError(refused)).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const unreachable = Object.assign(new Error('Failed to fetch'), { name: 'TRPCClientError', data: undefined });
    expect(describeError(unreachable).code).toBe('NETWORK_ERROR');
  });

  it('tells a cancel from a failure', () => {
    expect(describeError(new DOMException('aborted', 'AbortError')).code).toBe('CANCELLED');
  });
});

describe('settings', () => {
  it('uses the page origin for an empty API URL and drops trailing slashes', () => {
    expect(normalizeApiUrl('  ', 'http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
    expect(normalizeApiUrl('https://api.example.com/', 'http://x')).toBe('https://api.example.com');
  });

  it('refuses a workspace id the server would refuse', () => {
    expect(validateSettings({ apiUrl: 'http://127.0.0.1:3000', workspaceId: 'demo', token: '' })).toBeUndefined();
    expect(validateSettings({ apiUrl: 'http://127.0.0.1:3000', workspaceId: '../other', token: '' })).toMatch(/workspace id/);
    expect(validateSettings({ apiUrl: 'ftp://x', workspaceId: 'demo', token: '' })).toMatch(/http/);
  });
});

describe('unfinished uploads kept in localStorage', () => {
  const settings = { apiUrl: 'http://127.0.0.1:3000', workspaceId: 'demo', token: '' };
  const record = (overrides: Partial<ResumeRecord> = {}): ResumeRecord => ({
    uploadId: 'u1',
    assetId: 'a1',
    apiUrl: settings.apiUrl,
    workspaceId: 'demo',
    name: 'film.mp4',
    size: 3,
    lastModified: 1000,
    type: 'video/mp4',
    partSize: 8 * 1024 * 1024,
    startedAt: 5000,
    ...overrides,
  });

  it('matches a file by name, size and modification time, in the same API and workspace, unless it is running', () => {
    const records = new ResumeRecords(new MemoryStorage(), () => 6000);
    records.save(record());
    const file = new File(['abc'], 'film.mp4', { lastModified: 1000 });
    expect(records.matching(file, settings, new Set())?.uploadId).toBe('u1');
    expect(records.matching(file, settings, new Set(['u1']))).toBeUndefined();
    expect(records.matching(file, { ...settings, workspaceId: 'other' }, new Set())).toBeUndefined();
    expect(records.matching(new File(['abc'], 'film.mp4', { lastModified: 2000 }), settings, new Set())).toBeUndefined();
    records.remove('u1');
    expect(records.all()).toEqual([]);
  });

  it('forgets records older than a week and ignores what it cannot read', () => {
    const storage = new MemoryStorage();
    const records = new ResumeRecords(storage, () => 8 * 24 * 60 * 60 * 1000);
    records.save(record());
    expect(records.all()).toEqual([]);
    storage.setItem('s3-service:unfinished-uploads', '{not json');
    expect(records.all()).toEqual([]);
  });
});

describe('the speed shown', () => {
  it('averages the bytes of the last seconds, and falls to 0 when they stop', () => {
    let now = 0;
    const meter = new SpeedMeter(() => now);
    expect(meter.bytesPerSecond()).toBeUndefined();
    meter.add(1000);
    now = 500;
    meter.add(1000);
    now = 1000;
    expect(meter.bytesPerSecond()).toBe(2000);
    now = 10_000;
    expect(meter.bytesPerSecond()).toBe(0);
  });
});
