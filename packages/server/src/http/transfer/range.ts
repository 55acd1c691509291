import type { ByteRange } from '../../storage/store.js';

/**
 * The one reader of `Range` headers, for every download path. It reads the syntax only; the store
 * applies the range to the object (S3 does so itself, so a ranged GET needs no HEAD first to learn
 * the size, which range-parser would). As S3 does, and as RFC 9110 allows, one `bytes=` range is
 * served, and several ranges, other units or an invalid spec (last before first) are ignored: the
 * whole object is sent. `bytes=-0` is read as it is written, a suffix of no bytes, which every
 * store answers as unsatisfiable (416), as range-parser does.
 */
export function parseRange(header: string | undefined): ByteRange | undefined {
  const match = header === undefined ? null : /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffixLength: Number(last) };
  if (last === '') return { start: Number(first) };
  if (Number(last) < Number(first)) return undefined;
  return { start: Number(first), end: Number(last) };
}
