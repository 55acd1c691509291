import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { type CorsRule, corsRule } from '../../schemas.js';
import { writeFileAtomic } from './files.js';
import { translateFsErrors } from './fs-errors.js';
import { readJsonFile } from './json-file.js';
import type { Layout } from './layout.js';

const corsRules = z.array(corsRule);

/** The stored rules, or `[]` when none are stored (where S3 answers NoSuchCORSConfiguration). */
export async function readCorsRules(layout: Layout): Promise<CorsRule[]> {
  return (await readJsonFile(layout.corsFile, corsRules, 'the bucket CORS rules')) ?? [];
}

/** Replaces the rules in one rename; an empty list removes them, like S3's DeleteBucketCors. */
export async function writeCorsRules(layout: Layout, rules: readonly CorsRule[]): Promise<void> {
  // Checked here too so that a bad caller cannot store rules that every later read would reject.
  const parsed = corsRules.safeParse(rules);
  if (!parsed.success) throw new AppError('INVALID_PARAMETER', `CORSRules: ${z.prettifyError(parsed.error)}`);
  await translateFsErrors('storing the bucket CORS rules', async () => {
    if (parsed.data.length === 0) await rm(layout.corsFile, { force: true });
    else await writeFileAtomic(layout, layout.corsFile, `${JSON.stringify(parsed.data, null, 2)}\n`);
  });
}
