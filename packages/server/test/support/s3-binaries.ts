import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Where a test S3 server's binary is: the variable `.ci/run` exports (VERSITYGW_BIN, MINIO_BIN),
 * then PATH, then the Go bin folders `go install` writes to.
 */
export async function findBinary(name: string, envVariable: string): Promise<string | undefined> {
  const named = process.env[envVariable];
  const candidates = named ? [named] : [];
  candidates.push(
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, name)),
  );
  const gopath = await goPath();
  if (gopath) candidates.push(join(gopath, 'bin', name));
  candidates.push(join(homedir(), 'go', 'bin', name));
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `go env GOPATH`, or undefined when Go is not installed. */
function goPath(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('go', ['env', 'GOPATH'], { timeout: 5_000 }, (error, stdout) => {
      // GOPATH may list several folders; `go install` writes to the first.
      resolve(error ? undefined : stdout.trim().split(delimiter)[0] || undefined);
    });
  });
}
