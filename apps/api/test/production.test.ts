import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createS3ServiceClient } from '@s3-service/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs a command to its end; rejects with its output when it fails. */
async function runToEnd(command: string, args: string[], cwd: string): Promise<void> {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`);
}

/** Starts `node dist/main.js` in `dir` and resolves with the URL it logs once it listens. */
async function startBuiltServer(
  dir: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const listening = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (listening) resolve(listening[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the built server exited (${code}) before listening:\n${output}`)));
  });
  return { child, url, output: () => output };
}

/**
 * What production runs: `pnpm build` (turbo builds this package before its tests), then
 * `pnpm deploy --prod` into a folder outside the repository, and `node dist/main.js` there, with
 * no tsx, TypeScript or any other development dependency installed.
 */
describe('the production build, from a production-only install', () => {
  let work: string;
  let deployed: string;
  let server: Awaited<ReturnType<typeof startBuiltServer>>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3-service-production-'));
    deployed = join(work, 'api');
    await runToEnd('pnpm', ['--filter', '@s3-service/api', 'deploy', '--prod', deployed], repoRoot);
    server = await startBuiltServer(deployed, {
      PATH: process.env.PATH ?? '',
      HOME: work,
      NODE_ENV: 'production',
      AUTH_DISABLED: 'true',
      HOST: '127.0.0.1',
      PORT: '0',
      STORAGE_DIR: join(work, 'data'),
      RATE_LIMIT_PER_IP: '0',
    });
  });

  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds the built code and production dependencies only', async () => {
    const installed = await readdir(join(deployed, 'node_modules/.pnpm'));
    const devOnly = installed.filter((entry) => /^(tsx|vitest|vite|esbuild|@types\+|rollup|turbo)@/.test(entry));
    expect(devOnly).toEqual([]);
    expect(existsSync(join(deployed, 'src'))).toBe(false);
    expect(await readdir(join(deployed, 'node_modules/@s3-service/server'))).not.toContain('src');
    expect(existsSync(join(deployed, 'node_modules/@s3-service/web/dist/index.html'))).toBe(true);
    // The catalogue's migrations ship with the server's build, and its data is in STORAGE_DIR.
    expect(await readdir(join(deployed, 'node_modules/@s3-service/server/drizzle'))).toContain('0000_catalogue.sql');
    expect(existsSync(join(work, 'data/catalog/pgdata'))).toBe(true);
  });

  it('answers the probes and serves the web app', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'local', catalog: 'pglite' });
    const page = await fetch(`${server.url}/app/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('migrates a catalogue on its own with dist/migrate.js', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: work,
      NODE_ENV: 'production',
      AUTH_DISABLED: 'true',
      STORAGE_DIR: join(work, 'migrate-only'),
    };
    const child = spawn(process.execPath, ['dist/migrate.js'], { cwd: deployed, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const [code] = await once(child, 'exit');
    expect({ code, output }).toMatchObject({ code: 0, output: expect.stringContaining('0000_catalogue') });
  });

  it('completes an upload of two parts and serves the same bytes back', async () => {
    const client = createS3ServiceClient({ url: server.url });
    const bytes = new Uint8Array(5 * 1024 * 1024 + 4321).map((_, index) => (index * 7 + (index >> 10)) & 255);
    const result = await client.upload(bytes, { workspaceId: 'production', fileType: 'application/pdf', fileName: 'build.pdf' });
    expect(result.size).toBe(bytes.length);
    const downloaded = new Uint8Array(await (await client.download({ key: result.key, workspaceId: 'production' })).arrayBuffer());
    const digest = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
    expect({ size: downloaded.length, sha256: digest(downloaded) }).toEqual({ size: bytes.length, sha256: digest(bytes) });
    const listed = await client.trpc.object.list.query({ workspaceId: 'production' });
    expect(listed.objects.map((object) => [object.key, object.fileName])).toEqual([[result.key, 'build.pdf']]);
    expect(server.output()).not.toMatch(/"level":50/);
  });
});
