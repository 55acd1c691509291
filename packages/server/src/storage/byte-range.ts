import { AppError } from '../errors.js';
import type { ByteRange } from './store.js';

/**
 * Turns a requested range into the inclusive byte span to serve, as S3 does: an end past the
 * object is clamped, a suffix longer than the object means all of it, and a start at or past the
 * end, a suffix of no bytes, or any range of an empty object is RANGE_NOT_SATISFIABLE.
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

/** A suffix of no bytes can be refused without asking the store: nothing could satisfy it. */
export function assertNotEmptySuffix(range: ByteRange | undefined): void {
  if (range && 'suffixLength' in range && range.suffixLength === 0) throw unsatisfiable(range, undefined);
}

/** RANGE_NOT_SATISFIABLE, with the object's size when it is known: a 416 names it in its Content-Range. */
export class UnsatisfiableRangeError extends AppError {
  constructor(
    message: string,
    readonly objectSize: number | undefined,
  ) {
    super('RANGE_NOT_SATISFIABLE', message);
  }
}

function unsatisfiable(range: ByteRange, size: number | undefined): UnsatisfiableRangeError {
  const asked = 'suffixLength' in range ? `last ${range.suffixLength} bytes` : `bytes ${range.start}-${range.end ?? ''}`;
  const object = size === undefined ? 'the object' : `the object of ${size} bytes`;
  return new UnsatisfiableRangeError(`range ${asked} lies outside ${object}`, size);
}
