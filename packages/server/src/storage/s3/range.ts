import type { ByteRange } from '../store.js';

/** The Range header S3 understands for one byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n`. */
export function toRangeHeader(range: ByteRange): string {
  if ('suffixLength' in range) return `bytes=-${range.suffixLength}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}

export interface ContentRange {
  start: number;
  end: number;
  /** The whole object's size; S3 always knows it, so `*` is not expected here. */
  size: number;
}

/**
 * Reads `bytes <start>-<end>/<size>` from a 206 answer. Returns undefined for anything else so the
 * caller can fall back to Content-Length (S3 answers 200 with the whole object when a range
 * covers it entirely or when it ignores the header).
 */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  const match = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [start, end, size] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return end >= start && size > end ? { start, end, size } : undefined;
}
