import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const checker = fileURLToPath(new URL('../scripts/check-dist.mjs', import.meta.url));

// The build runs the checker on every dist it writes (packed.test.ts packs a real one); this
// proves it refuses what it is there to refuse.
describe('the dist checker', () => {
  it('refuses a browser entry that reaches Node, and imports of packages the client does not depend on', async () => {
    const bad = await mkdtemp(join(tmpdir(), 's3-client-bad-dist-'));
    try {
      await mkdir(join(bad, 'upload'));
      await writeFile(join(bad, 'index.js'), "export { x } from './upload/x.js';\n");
      await writeFile(
        join(bad, 'upload/x.js'),
        "import { readFile } from 'node:fs/promises';\nimport '@s3-service/server';\nexport const x = readFile;\n",
      );
      await writeFile(join(bad, 'index.d.ts'), '/// <reference types="node" />\nexport type { AppRouter } from \'./contract.js\';\n');
      await writeFile(
        join(bad, 'contract.d.ts'),
        "export type { AppRouter } from '@s3-service/server/contract';\nexport type X = import('express').Request;\n",
      );
      const failed = await run(process.execPath, [checker, bad]).catch((error: { code: number; stderr: string }) => error);
      expect(failed).toMatchObject({ code: 1 });
      const stderr = (failed as { stderr: string }).stderr;
      expect(stderr).toMatch(/upload\/x\.js imports @s3-service\/server, which is not a dependency/);
      expect(stderr).toMatch(/contract\.d\.ts imports @s3-service\/server\/contract, which is not a dependency/);
      expect(stderr).toMatch(/contract\.d\.ts imports express, which is not a dependency/);
      expect(stderr).toMatch(/upload\/x\.js \(reached from index\.js\) imports node:fs\/promises/);
      expect(stderr).toMatch(/index\.d\.ts \(reached from index\.d\.ts\) references Node's types/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('passes a dist whose imports are relative, Node modules outside the browser entry, or declared dependencies', async () => {
    const good = await mkdtemp(join(tmpdir(), 's3-client-good-dist-'));
    try {
      await writeFile(join(good, 'index.js'), "import { createTRPCClient } from '@trpc/client';\nexport const c = createTRPCClient;\n");
      await writeFile(join(good, 'node.js'), "import { open } from 'node:fs/promises';\nexport { open };\n");
      await writeFile(join(good, 'index.d.ts'), "export type { AnyTRPCRouter } from '@trpc/server';\n");
      const { stdout } = await run(process.execPath, [checker, good]);
      expect(stdout).toMatch(/dist check passed/);
    } finally {
      await rm(good, { recursive: true, force: true });
    }
  });
});
