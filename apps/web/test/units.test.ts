import { DEFAULT_PART_SIZE, type S3ServiceClient, type UploadHandle, type UploadResult } from '@s3-service/client';
import { describe, expect, it } from 'vitest';
import { describeError } from '../src/describe-error.js';
import { formatBytes, percentOf } from '../src/format.js';
import { claimUploadToContinue, continues, type OpenUpload, resumePartSize } from '../src/open-uploads.js';
import { normalizeApiUrl, validateSettings } from '../src/settings.js';
import { SpeedMeter } from '../src/speed.js';
import { describeOpenUpload } from '../src/unfinished-panel.js';
import { UploadProgress } from '../src/upload-progress.js';
import { PauseSwitch } from '../src/upload-task.js';

describe('the progress shown for an upload', () => {
  it("follows the SDK's bytes, and counts for the speed only those that went out, not a resume's stored parts", () => {
    const progress = new UploadProgress(100);
    // A resume: parts the server had arrive at once, and are no speed.
    expect(progress.update({ loaded: 40, kept: true })).toBe(0);
    expect(progress.loaded).toBe(40);
    expect(progress.update({ loaded: 55 })).toBe(15);
    expect(progress.update({ loaded: 70 })).toBe(15);
    expect(progress.loaded).toBe(70);
  });

  it('never goes back, and never shows more than the file', () => {
    const progress = new UploadProgress(10);
    progress.update({ loaded: 6 });
    expect(progress.update({ loaded: 4 })).toBe(0);
    expect(progress.loaded).toBe(6);
    progress.update({ loaded: 12 });
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

describe("a row's pause switch", () => {
  /** A stand-in for the SDK's handle that records what the switch did to it. */
  function handle(): UploadHandle & { calls: string[] } {
    const calls: string[] = [];
    return Object.assign(new Promise<UploadResult>(() => {}), {
      calls,
      paused: false,
      pause: () => void calls.push('pause'),
      resume: () => void calls.push('resume'),
    });
  }

  it('drives the upload it holds, and starts the next one paused when the row is paused', () => {
    const toggle = new PauseSwitch();
    toggle.pause();
    expect(toggle.paused).toBe(true);
    // The resume of an upload the server lost falls back to a new one: it begins paused, like the row.
    const first = handle();
    toggle.drive(first);
    expect(first.calls).toEqual(['pause']);
    toggle.resume();
    expect(first.calls).toEqual(['pause', 'resume']);
    const second = handle();
    toggle.drive(second);
    expect(second.calls).toEqual([]);
    toggle.pause();
    expect(second.calls).toEqual(['pause']);
    expect(first.calls).toEqual(['pause', 'resume']);
  });
});

describe('errors in words', () => {
  it("reads the SDK's code and status", () => {
    const error = Object.assign(new Error('fileType: text/html may not be stored here'), { code: 'FILE_TYPE_NOT_ALLOWED', status: 400 });
    expect(describeError(error)).toEqual({
      code: 'FILE_TYPE_NOT_ALLOWED',
      status: 400,
      text: 'The server does not accept files of this type. Choose a file of another type, or ask for this type to be allowed. (fileType: text/html may not be stored here)',
      retryable: false,
    });
  });

  it('reads the code of a raw tRPC error, and calls one without an answer a network error', () => {
    const refused = Object.assign(new Error('no access'), { name: 'TRPCClientError', data: { code: 'FORBIDDEN', httpStatus: 403 } });
    expect(describeError(refused)).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const unreachable = Object.assign(new Error('Failed to fetch'), { name: 'TRPCClientError', data: undefined });
    expect(describeError(unreachable).code).toBe('NETWORK_ERROR');
  });

  it("puts this release's refusals in words: a changed part, a file that is not what it claims, too much at once", () => {
    for (const code of ['CHECKSUM_MISMATCH', 'FILE_TYPE_MISMATCH', 'REQUEST_TOO_LARGE', 'NOT_SUPPORTED']) {
      const view = describeError(Object.assign(new Error('details'), { code, status: 400 }));
      expect(view.code).toBe(code);
      expect(view.text).toMatch(/^[A-Z].+\. \(details\)$/);
      expect(view.text).not.toMatch(/^details/);
    }
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

describe('unfinished uploads the server lists', () => {
  const MiB = 1024 * 1024;
  const open = (overrides: Partial<OpenUpload> = {}): OpenUpload => ({
    uploadId: 'u1',
    assetId: 'a1',
    key: 'demo/digital_assets/a1',
    fileName: 'film.mp4',
    fileType: 'video/mp4',
    fileSize: 3,
    partSize: 8 * MiB,
    partsDone: 0,
    bytesDone: 0,
    startedAt: new Date(5000),
    startedBy: null,
    ...overrides,
  });
  const film = new File(['abc'], 'film.mp4', { type: 'video/mp4', lastModified: 1000 });

  it("continues an upload of the same name, size and type, whatever this browser's file dates say", () => {
    expect(continues(open(), film)).toBe(true);
    expect(continues(open(), new File(['abc'], 'film.mp4', { type: 'video/mp4', lastModified: 9999 }))).toBe(true);
    expect(continues(open(), new File(['abcd'], 'film.mp4', { type: 'video/mp4' }))).toBe(false);
    expect(continues(open(), new File(['abc'], 'other.mp4', { type: 'video/mp4' }))).toBe(false);
    expect(continues(open(), new File(['abc'], 'film.mp4', { type: 'video/webm' }))).toBe(false);
    // A file of no type was started as bytes; an upload the server knows no name or size of matches nothing.
    expect(continues(open({ fileType: 'application/octet-stream' }), new File(['abc'], 'film.mp4'))).toBe(true);
    expect(continues(open({ fileName: null }), film)).toBe(false);
    expect(continues(open({ fileSize: null }), film)).toBe(false);
  });

  it("resumes with the upload's own part size, else the SDK's default", () => {
    expect(resumePartSize(open({ partSize: 16 * MiB }))).toBe(16 * MiB);
    expect(resumePartSize(open({ partSize: null }))).toBe(DEFAULT_PART_SIZE);
  });

  it('pages through the open uploads for a match, skips the ones running here, and claims what it finds', async () => {
    const pages: Record<string, { uploads: OpenUpload[]; nextCursor: string | null }> = {
      first: { uploads: [open({ uploadId: 'running' }), open({ uploadId: 'u2', fileName: 'other.mp4' })], nextCursor: 'c2' },
      c2: { uploads: [open({ uploadId: 'u3' }), open({ uploadId: 'u4' })], nextCursor: null },
    };
    const asked: unknown[] = [];
    const client = {
      trpc: {
        upload: {
          listOpen: {
            query: async (input: { workspaceId: string; cursor?: string; limit?: number }) => {
              asked.push(input);
              return pages[input.cursor ?? 'first'];
            },
          },
        },
      },
    } as unknown as S3ServiceClient;
    const busy = new Set(['running']);

    expect((await claimUploadToContinue(client, 'demo', film, busy))?.uploadId).toBe('u3');
    expect(asked).toEqual([
      { workspaceId: 'demo', limit: 100 },
      { workspaceId: 'demo', limit: 100, cursor: 'c2' },
    ]);
    expect(busy).toEqual(new Set(['running', 'u3']));
    // A second pick of the same file meanwhile takes the next one, never the same upload twice.
    expect((await claimUploadToContinue(client, 'demo', film, busy))?.uploadId).toBe('u4');
    expect(await claimUploadToContinue(client, 'demo', film, busy)).toBeUndefined();
  });

  it('says how far an upload got, leaving out what the server does not know', () => {
    expect(describeOpenUpload(open({ fileSize: 23 * MiB, partsDone: 2, bytesDone: 16 * MiB }))).toMatch(
      /^23\.0 MiB · 2 of 3 parts \(16\.0 MiB\) sent · started \S/,
    );
    expect(describeOpenUpload(open({ fileSize: null, partSize: null, partsDone: 1, bytesDone: 512 }))).toMatch(
      /^1 part \(512 B\) sent · started \S/,
    );
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
