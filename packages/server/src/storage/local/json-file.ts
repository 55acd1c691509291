import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { diskFailure, isMissing, storageFailed } from './fs-errors.js';

/**
 * Reads one of the driver's own JSON files: `undefined` when it does not exist, S3_ERROR when it
 * cannot be read or does not hold what `schema` says (a damaged folder is a store failure).
 */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw storageFailed(`reading ${what}`, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw diskFailure(`${what} is damaged`);
  return parsed.data;
}
