import { AppError } from '../errors.js';

/**
 * Listing cursors: the sort values of the last row a page returned, so the next page starts just
 * after it however many rows were added or removed meanwhile. Opaque to callers (base64url JSON);
 * anything that does not decode to the expected shape is INVALID_PARAMETER.
 */
export function encodeCursor(values: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor<const T extends ReadonlyArray<'string' | 'number'>>(
  cursor: string,
  shape: T,
): { [K in keyof T]: T[K] extends 'number' ? number : string } {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  const fits = Array.isArray(values) && values.length === shape.length && values.every((value, index) => typeof value === shape[index]);
  if (!fits) throw new AppError('INVALID_PARAMETER', 'cursor: must be a cursor returned by the previous page of this listing');
  return values as never;
}
