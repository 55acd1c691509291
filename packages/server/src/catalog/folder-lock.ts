import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * PGlite is one process's database: a second process writing the same folder would corrupt it.
 * A lock file with the owner's pid keeps a command (catalog:sync, cleanup-uploads) from opening
 * the folder while the API has it; a lock left by a process that died is taken over.
 */
export class CatalogInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded catalogue in ${dir} is open in process ${pid}; stop that process first, or share a PostgreSQL server (DATABASE_URL)`,
    );
    this.name = 'CatalogInUseError';
  }
}

export async function lockCatalogFolder(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'in-use.pid');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) throw new CatalogInUseError(dir, owner);
      await rm(path, { force: true });
    }
  }
  throw new Error(`cannot take the lock file ${path}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
