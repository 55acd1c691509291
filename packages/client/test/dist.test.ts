import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const checker = join(packageDir, 'scripts/check-dist.mjs');
const tsc = join(packageDir, 'node_modules/typescript/bin/tsc');

describe('the built package', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 's3-client-dist-'));
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], { cwd: packageDir });
  });
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('has no runtime import of the server and no Node module in the browser entry', async () => {
    const { stdout } = await run(process.execPath, [checker, out]);
    expect(stdout).toMatch(/dist check passed/);
  });

  it('loads in Node and exports the public names', async () => {
    const entry = (await import(join(out, 'index.js'))) as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(
      ['DEFAULT_CONCURRENCY', 'DEFAULT_PART_SIZE', 'MAX_PARTS', 'MAX_PART_SIZE', 'MIN_PART_SIZE', 'S3ServiceError', 'UploadError', 'createS3ServiceClient'].sort(),
    );
    const node = (await import(join(out, 'node.js'))) as Record<string, unknown>;
    expect(typeof node.downloadToFile).toBe('function');
  });

  it('the checker does catch a browser entry that reaches Node or the server', async () => {
    const bad = await mkdtemp(join(tmpdir(), 's3-client-bad-dist-'));
    try {
      await mkdir(join(bad, 'upload'));
      await writeFile(join(bad, 'index.js'), "export { x } from './upload/x.js';\n");
      await writeFile(join(bad, 'upload/x.js'), "import { readFile } from 'node:fs/promises';\nimport '@s3-service/server';\nexport const x = readFile;\n");
      await writeFile(join(bad, 'index.d.ts'), '/// <reference types="node" />\nexport {};\n');
      const failed = await run(process.execPath, [checker, bad]).catch((error: { code: number; stderr: string }) => error);
      expect(failed).toMatchObject({ code: 1 });
      const stderr = (failed as { stderr: string }).stderr;
      expect(stderr).toMatch(/upload\/x\.js imports @s3-service\/server at runtime/);
      expect(stderr).toMatch(/upload\/x\.js \(reached from index\.js\) imports node:fs\/promises/);
      expect(stderr).toMatch(/references Node's types/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
