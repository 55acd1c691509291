import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer, type TestServer } from './support/client.js';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./outside-app/', import.meta.url));
const typescriptVersion = JSON.parse(await readFile(join(packageDir, 'node_modules/typescript/package.json'), 'utf8')).version as string;

/** Runs a command, resolving with its output; a failure rejects with stdout and stderr in the message. */
async function sh(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  try {
    return await run(file, args, { ...options, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`);
  }
}

/**
 * The package as a user gets it: `pnpm pack` (which builds it), installed with npm into a new
 * project outside this workspace, with its own TypeScript and no workspace link anywhere.
 */
describe('the packed client, installed into an app outside the workspace', () => {
  let work: string;
  let app: string;
  let tarball: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3-client-outside-'));
    app = join(work, 'app');
    await sh('pnpm', ['pack', '--pack-destination', work], { cwd: packageDir });
    tarball = join(work, (await readdir(work)).find((name) => name.endsWith('.tgz'))!);
    await mkdir(app);
    for (const name of await readdir(fixture)) await copyFile(join(fixture, name), join(app, name));
    const manifest = {
      name: 'outside-app',
      private: true,
      type: 'module',
      dependencies: { '@s3-service/client': `file:${tarball}` },
      devDependencies: { typescript: typescriptVersion },
    };
    await writeFile(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await sh('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: app });
  }, 240_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds built JavaScript, declarations, maps with their sources, the license and the readme; no TypeScript source, no server', async () => {
    const { stdout } = await sh('tar', ['-tzf', tarball], { cwd: work });
    const entries = stdout.trim().split('\n');
    expect(entries).toEqual(
      expect.arrayContaining([
        'package/LICENSE',
        'package/README.md',
        'package/package.json',
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/dist/contract.d.ts',
      ]),
    );
    expect(entries.filter((entry) => !/^package\/(LICENSE|README\.md|package\.json|dist\/.+\.(js|js\.map|d\.ts))$/.test(entry))).toEqual(
      [],
    );

    const installed = join(app, 'node_modules/@s3-service/client');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(manifest.dependencies).not.toHaveProperty('@s3-service/server');
    expect(manifest).toMatchObject({ type: 'module', sideEffects: false, engines: { node: '>=22.12' }, license: 'MIT' });
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });

    const contract = await readFile(join(installed, 'dist/contract.d.ts'), 'utf8');
    expect(contract).not.toMatch(/@s3-service\/server|AppContext|from ['"](node:|express|pino)/);
    // A map names ../src files the package does not ship, so each carries their text.
    for (const name of (await readdir(join(installed, 'dist'), { recursive: true })).filter((file) => file.endsWith('.js.map'))) {
      const map = JSON.parse(await readFile(join(installed, 'dist', name), 'utf8')) as {
        sources: string[];
        sourcesContent?: Array<string | null>;
      };
      expect(map.sourcesContent?.length, name).toBe(map.sources.length);
      expect(
        map.sourcesContent?.every((text) => typeof text === 'string' && text.length > 0),
        name,
      ).toBe(true);
    }
  });

  it('loads in Node from the installed copy and exports the public names', async () => {
    const installed = join(app, 'node_modules/@s3-service/client/dist');
    const entry = (await import(join(installed, 'index.js'))) as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(
      [
        'DEFAULT_CONCURRENCY',
        'DEFAULT_PART_SIZE',
        'MAX_PARTS',
        'MAX_PART_SIZE',
        'MIN_PART_SIZE',
        'S3ServiceError',
        'UploadError',
        'createS3ServiceClient',
      ].sort(),
    );
    const node = (await import(join(installed, 'node.js'))) as Record<string, unknown>;
    expect(typeof node.downloadToFile).toBe('function');
  });

  it.each([
    ['skipLibCheck false, NodeNext resolution', 'tsconfig.nodenext.json'],
    ['skipLibCheck true, bundler resolution', 'tsconfig.bundler.json'],
  ])('type-checks with %s: correct calls compile and every mistake is an error', async (_label, tsconfig) => {
    // usage.ts marks each mistake with @ts-expect-error; an unneeded one (types gone to `any`)
    // is an error of its own, so a clean run proves the mistakes were caught.
    const { stdout } = await sh(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: app });
    expect(stdout).toBe('');
  });

  it('bundles for the browser without Node modules or server code', async () => {
    const result = await build({
      absWorkingDir: app,
      entryPoints: ['browser.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => input.startsWith('node_modules/@s3-service/client/')).length).toBeGreaterThan(10);
    const packages = new Set(inputs.map((input) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input));
    expect(
      [...packages].filter(
        (name) =>
          ![
            'browser.ts',
            '@s3-service/client',
            '@trpc/client',
            '@trpc/server',
            'superjson',
            'copy-anything',
            'is-what',
            // The event stream's EventSource, which sends the client's headers (browsers' own cannot).
            'eventsource',
            'eventsource-parser',
          ].includes(name),
      ),
    ).toEqual([]);
    // Nothing left for the page to import (a Node module would be), and nothing of the server's.
    expect(Object.values(result.metafile.outputs).flatMap((output) => output.imports)).toEqual([]);
    // (The subscription link's SSE reader sits in a chunk of tRPC's named resolveResponse-*.mjs, whose
    // path esbuild writes as a comment: the function itself must not come along.)
    expect(result.outputFiles[0]!.text).not.toMatch(/createApp|express|function resolveResponse|initTRPC|pino/);
  });

  describe('against a live server', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startLocalServer();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('uploads, downloads the same bytes, deletes, and reports typed errors', async () => {
      const { stdout } = await sh(process.execPath, ['run.mjs'], { cwd: app, env: { ...process.env, S3_SERVICE_URL: server.url } });
      const report = JSON.parse(stdout.trim().split('\n').at(-1)!);
      const size = 6 * 1024 * 1024 + 123;
      expect(report.size).toBe(size);
      expect(report.sent.size).toBe(size);
      expect(report.received).toEqual({ ...report.sent, contentType: 'application/pdf' });
      expect(report.deleted).toEqual({ success: true });
      expect(await server.store.headObject(report.key)).toBeNull();
      expect(report.afterDelete).toEqual({
        name: 'S3ServiceError',
        serviceError: true,
        uploadError: false,
        code: 'NOT_FOUND',
        status: 404,
      });
      expect(report.refusedType).toEqual({
        name: 'UploadError',
        serviceError: true,
        uploadError: true,
        code: 'FILE_TYPE_NOT_ALLOWED',
        status: 400,
      });
    });
  });
});
