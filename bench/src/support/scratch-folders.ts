import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Temporary folders of one measurement under the run's scratch folder, removed together. */
export function scratchFolders(scratch: string, prefix: string) {
  const dirs: string[] = [];
  return {
    async make(name: string): Promise<string> {
      const dir = await mkdtemp(join(scratch, `${prefix}-${name}-`));
      dirs.push(dir);
      return dir;
    },
    async removeAll(): Promise<void> {
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}
