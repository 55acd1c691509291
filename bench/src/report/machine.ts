import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, availableParallelism, cpus, homedir, loadavg, release, totalmem, type } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
  loadAtStart: number;
  loadAtEnd?: number;
  versions: Record<string, string>;
}

const repositoryRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** Packages whose speed the figures depend on, resolved from the package that uses each. */
const TRACKED: Array<[name: string, from: string]> = [
  ['@aws-sdk/client-s3', 'packages/server'],
  ['@aws-sdk/s3-request-presigner', 'packages/server'],
  ['@smithy/signature-v4', 'packages/server'],
  ['@aws-sdk/lib-storage', 'bench'],
  ['@trpc/server', 'packages/server'],
  ['express', 'packages/server'],
  ['superjson', 'packages/server'],
  ['zod', 'packages/server'],
  ['autocannon', 'bench'],
];

export async function describeMachine(): Promise<MachineInfo> {
  const versions: Record<string, string> = {};
  for (const [name, from] of TRACKED) versions[name] = packageVersion(name, join(repositoryRoot, from)) ?? 'not installed';
  versions.versitygw = (await versitygwVersion()) ?? 'not found';
  const [first] = cpus();
  return {
    cpu: first?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: `${type()} ${release()} ${arch()}`,
    node: process.version,
    loadAtStart: loadavg()[0] ?? 0,
    versions,
  };
}

export function currentLoad(): number {
  return loadavg()[0] ?? 0;
}

/** Walks up from the resolved entry point: not every package exports its package.json. */
function packageVersion(name: string, fromDir: string): string | undefined {
  try {
    let dir = dirname(createRequire(join(fromDir, 'package.json')).resolve(name));
    while (dir !== dirname(dir)) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (manifest.name === name) return manifest.version;
      }
      dir = dirname(dir);
    }
  } catch {
    // Not installed for that package: reported as such.
  }
  return undefined;
}

/**
 * The same places the S3 test support looks (VERSITYGW_BIN, PATH, ~/go/bin). A `go install`ed
 * binary says "Version: git", so the module version comes from its build info instead.
 */
async function versitygwVersion(): Promise<string | undefined> {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const binary = [
    process.env.VERSITYGW_BIN,
    ...pathDirs.map((dir) => join(dir, 'versitygw')),
    join(homedir(), 'go', 'bin', 'versitygw'),
  ].find((candidate): candidate is string => candidate !== undefined && existsSync(candidate));
  if (!binary) return undefined;
  const buildInfo = await run('go', ['version', '-m', binary]);
  const moduleVersion = buildInfo?.match(/\bmod\s+github\.com\/versity\/versitygw\s+(v\S+)/)?.[1];
  return moduleVersion ?? (await run(binary, ['--version']))?.match(/v?\d+\.\d+\.\d+/)?.[0] ?? 'unknown version';
}

function run(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(command, args, { timeout: 5_000 }, (error, stdout) => done(error ? undefined : stdout));
  });
}
