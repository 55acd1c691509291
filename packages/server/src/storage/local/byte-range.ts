import { AppError } from '../../errors.js';
import type { ByteRange } from '../store.js';

/**
 * Turns a requested range into the inclusive byte span to serve, as S3 does: an end past the
 * object is clamped, a suffix longer than the object means all of it, and a start at or past the
 * end (or any range of an empty object) is RANGE_NOT_SATISFIABLE.
 */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  if ('suffixLength' in range) {
    if (!Number.isSafeInteger(range.suffixLength) || range.suffixLength <= 0 || size === 0) throw unsatisfiable(range, size);
    return { start: Math.max(0, size - range.suffixLength), end: size - 1 };
  }
  const { start } = range;
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  const whole = Number.isSafeInteger(start) && (range.end === undefined || Number.isSafeInteger(range.end));
  if (!whole || start < 0 || start >= size || end < start) throw unsatisfiable(range, size);
  return { start, end };
}

/**
 * Reads a `Range` header. Only one `bytes=` range is supported, as by S3; anything else (several
 * ranges, other units, a malformed spec) is ignored and the whole object served, which HTTP allows.
 */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffixLength: Number(last) };
  if (last === '') return { start: Number(first) };
  if (Number(last) < Number(first)) return undefined;
  return { start: Number(first), end: Number(last) };
}

function unsatisfiable(range: ByteRange, size: number): AppError {
  const asked = 'suffixLength' in range ? `last ${range.suffixLength} bytes` : `bytes ${range.start}-${range.end ?? ''}`;
  return new AppError('RANGE_NOT_SATISFIABLE', `range ${asked} lies outside the object of ${size} bytes`);
}
