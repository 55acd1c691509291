import { randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';

const CHUNK = 8 * 1024 * 1024;

/**
 * A file of `size` random bytes (random, so no layer can compress or deduplicate it). Written
 * once per run; later reads come from the page cache, like a file a user just chose.
 */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (let written = 0; written < size; written += CHUNK) {
      const length = Math.min(CHUNK, size - written);
      randomFillSync(chunk, 0, length);
      await handle.write(chunk, 0, length);
    }
  } finally {
    await handle.close();
  }
}
