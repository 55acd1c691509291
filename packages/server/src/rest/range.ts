import type { ByteRange } from '../storage/store.js';

/**
 * One `bytes=` range of a Range header. Anything else (several ranges, other units, garbage) is
 * ignored and the whole object is served, as RFC 9110 allows.
 */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  const match = header && /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return Number(last) > 0 ? { suffixLength: Number(last) } : undefined;
  const start = Number(first);
  if (last === '') return { start };
  const end = Number(last);
  return end >= start ? { start, end } : undefined;
}
