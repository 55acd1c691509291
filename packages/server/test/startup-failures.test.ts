import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_MAIN, killApi, type RunOptions, runScript, startApi } from './support/api-process.js';
import { useCleanups } from './support/cleanups.js';
import { closedPortEndpoint } from './support/s3-fake-server.js';

/**
 * A start that fails is read by a person at a terminal or in an orchestrator's event list: one
 * line naming the variable to fix, exit code 1, no stack. Each case starts the real API process.
 */

const { defer, tempDir } = useCleanups();

/** Starts the API expecting it to give up; returns its one stderr line after checking the form. */
async function failedStart(env: Record<string, string>, options: RunOptions = {}): Promise<string> {
  const api = runScript(API_MAIN, env, [], options);
  defer(() => killApi(api));
  const exit = await api.exited;
  const stderr = api.stderr();
  expect(exit, stderr).toEqual({ code: 1, signal: null });
  expect(stderr).toMatch(/^[^\n]+\n$/);
  expect(stderr).toMatch(/^s3-service cannot start: /);
  expect(stderr).not.toContain('    at ');
  expect(JSON.stringify(api.logs)).not.toContain('    at ');
  expect(api.logs.some((line) => typeof line.url === 'string')).toBe(false);
  return stderr.trimEnd();
}

/** A port something else already listens on, as another server on this machine would. */
async function occupiedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const isRoot = process.getuid?.() === 0;

describe('a start-up failure is one line naming the variable, and exit code 1', () => {
  it('STORAGE_DIR that is a regular file', async () => {
    const file = join(await tempDir('startup-test-'), 'a-file');
    await writeFile(file, 'not a folder');
    const line = await failedStart({ STORAGE_DIR: file });
    expect(line).toBe(
      `s3-service cannot start: STORAGE_DIR=${file}: the data folder is a file (ENOTDIR); point STORAGE_DIR at a folder (a missing one is created)`,
    );
  });

  it('STORAGE_DIR with a file in its path', async () => {
    const file = join(await tempDir('startup-test-'), 'a-file');
    await writeFile(file, 'not a folder');
    const line = await failedStart({ STORAGE_DIR: join(file, 'data') });
    expect(line).toContain(`s3-service cannot start: STORAGE_DIR=${file}/data: a file stands where the data folder`);
    expect(line).toContain('(ENOTDIR)');
  });

  // chmod does not stop root; sysfs refuses root a new folder (EPERM, or EROFS where mounted read-only).
  it('STORAGE_DIR this process may not write', async (context) => {
    let dir = '/sys/kernel/s3-service-startup-test';
    if (isRoot) {
      if (!existsSync('/sys/kernel')) context.skip();
    } else {
      dir = join(await tempDir('startup-test-'), 'read-only');
      await mkdir(dir, { mode: 0o555 });
      defer(() => chmod(dir, 0o755));
    }
    const line = await failedStart({ STORAGE_DIR: dir });
    expect(line).toMatch(
      new RegExp(`^s3-service cannot start: STORAGE_DIR=${dir}: this process may not write the data folder \\((EACCES|EPERM|EROFS)\\); `),
    );
    expect(line).toContain('choose a writable folder');
  });

  // Node's recursive mkdir spins forever there: procfs answers ENOENT under a parent that exists.
  it('STORAGE_DIR under /proc fails at once instead of hanging', { timeout: 15_000 }, async (context) => {
    if (!existsSync('/proc/self')) context.skip();
    const started = Date.now();
    const line = await failedStart({ STORAGE_DIR: '/proc/s3-service-startup-test' });
    expect(line).toBe(
      's3-service cannot start: STORAGE_DIR=/proc/s3-service-startup-test: the data folder cannot be created there (ENOENT); ' +
        'choose a folder on a disk (not under /proc or /sys, not behind a dangling link)',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('PORT already in use, naming PORT and HOST', async () => {
    const port = await occupiedPort();
    const line = await failedStart({ STORAGE_DIR: await tempDir('startup-test-'), HOST: '127.0.0.1', PORT: String(port) });
    expect(line).toBe(
      `s3-service cannot start: PORT=${port}: already in use on HOST=127.0.0.1 (EADDRINUSE); stop the other server or choose another PORT`,
    );
  });

  it('HOST that does not resolve', async () => {
    const line = await failedStart({ STORAGE_DIR: await tempDir('startup-test-'), HOST: 'no-such-host.invalid' });
    expect(line).toMatch(
      /^s3-service cannot start: HOST=no-such-host\.invalid: the name cannot be resolved \((ENOTFOUND|EAI_AGAIN|EAI_FAIL)\); /,
    );
  });

  it('S3 without credentials names the credentials, not AWS_ENDPOINT_URL', async () => {
    const line = await failedStart({
      AWS_BUCKET: 'some-bucket',
      // Nothing listens there; credentials are resolved before any request would be sent.
      AWS_ENDPOINT_URL: await closedPortEndpoint(),
      // No ~/.aws profile, and no instance-metadata lookup to wait for.
      HOME: await tempDir('startup-test-'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(line).toMatch(/^s3-service cannot start: AWS_ACCESS_KEY_ID=\(unset\), AWS_SECRET_ACCESS_KEY=\(unset\): no credentials/);
    expect(line).toContain('set both, or AWS_PROFILE');
    expect(line).toContain('CredentialsProviderError');
    expect(line).not.toContain('AWS_ENDPOINT_URL');
  });

  it('RATE_LIMIT_PER_IP=-5 says what is allowed, not "must be a whole number"', async () => {
    const line = await failedStart({ STORAGE_DIR: await tempDir('startup-test-'), RATE_LIMIT_PER_IP: '-5' });
    expect(line).toBe('s3-service cannot start: RATE_LIMIT_PER_IP=-5: must be 0 (off) or a positive whole number of requests per window');
  });

  it('ALLOWED_FILE_TYPES with an entry that is no MIME type, naming the entry', async () => {
    const line = await failedStart({ STORAGE_DIR: await tempDir('startup-test-'), ALLOWED_FILE_TYPES: 'image/png,notamime' });
    expect(line).toBe(
      's3-service cannot start: ALLOWED_FILE_TYPES=image/png,notamime: "notamime" is not a MIME type: ' +
        'each entry must be type/subtype or type/* such as image/png or video/*',
    );
  });

  it('several invalid variables at once, joined on the one line', async () => {
    const line = await failedStart({ STORAGE_DIR: await tempDir('startup-test-'), PORT: 'eighty', UPLOAD_TTL_HOURS: '0' });
    expect(line).toBe(
      's3-service cannot start: PORT=eighty: must be a whole number from 0 to 65535 (0: any free port); ' +
        'UPLOAD_TTL_HOURS=0: must be a positive whole number of hours',
    );
  });

  it.each([
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY=true: would trust any X-Forwarded-For'],
    [{ NODE_ENV: 'production' }, 'AUTH_JWT_SECRET=(unset), AUTH_JWKS_URL=(unset): one is required when NODE_ENV=production'],
    [{ AUTH_JWT_SECRET: 'too-short' }, 'AUTH_JWT_SECRET=(hidden, 9 characters): must be at least 32 characters'],
    [{ STORAGE: 's3' }, 'AWS_BUCKET=(unset): required when STORAGE=s3'],
  ])('the configuration checks of %o', async (env, expected) => {
    const line = await failedStart({ STORAGE_DIR: await tempDir('startup-test-'), ...env });
    expect(line).toContain(`s3-service cannot start: ${expected}`);
  });

  it('REDIS_URL where nothing answers', async () => {
    const endpoint = new URL(await closedPortEndpoint());
    const url = `redis://:hunter2@127.0.0.1:${endpoint.port}`;
    const line = await failedStart({ STORAGE_DIR: await tempDir('startup-test-'), REDIS_URL: url });
    expect(line).toMatch(
      new RegExp(`^s3-service cannot start: REDIS_URL=redis://:\\*\\*\\*@127\\.0\\.0\\.1:${endpoint.port}/?: Redis cannot be reached`),
    );
    expect(line).not.toContain('hunter2');
  });
});

describe('the .env file', () => {
  it('is read from the working directory; the real environment wins over it', async () => {
    const cwd = await tempDir('startup-test-');
    await writeFile(
      join(cwd, '.env'),
      [
        '# the values a developer keeps beside the code',
        '',
        'export STORAGE_DIR=./from-dotenv',
        // The real environment's PORT=0 (set by the helper) must win over this.
        'PORT=1',
        'LOCAL_SIGNING_SECRET="a signing secret that is long enough,',
        'and spread over two lines"',
      ].join('\n'),
    );
    const api = runScript(API_MAIN, {}, [], { cwd });
    defer(() => killApi(api));
    const line = await api.waitForLog((entry) => typeof entry.url === 'string');
    expect(line.msg).toContain(`(store: local disk at ${join(cwd, 'from-dotenv')};`);
    expect(line.url).not.toMatch(/:1$/);
    expect(existsSync(join(cwd, 'from-dotenv', '.signing-secret'))).toBe(false);
  });

  it('gives way to a variable the real environment sets', async () => {
    const cwd = await tempDir('startup-test-');
    const real = join(cwd, 'from-environment');
    await writeFile(join(cwd, '.env'), 'STORAGE_DIR=./from-dotenv\n');
    const api = runScript(API_MAIN, { STORAGE_DIR: real }, [], { cwd });
    defer(() => killApi(api));
    const line = await api.waitForLog((entry) => typeof entry.url === 'string');
    expect(line.msg).toContain(`(store: local disk at ${real};`);
    expect(existsSync(join(cwd, 'from-dotenv'))).toBe(false);
  });

  it('is the file ENV_FILE names, when set', async () => {
    const dir = await tempDir('startup-test-');
    await writeFile(join(dir, 'staging.env'), `STORAGE_DIR=${join(dir, 'staging-data')}\n`);
    const api = await startApi({ ENV_FILE: join(dir, 'staging.env') });
    defer(() => killApi(api));
    expect(existsSync(join(dir, 'staging-data'))).toBe(true);
  });

  it('refuses a line that is not NAME=value, naming the file and the line', async () => {
    const cwd = await tempDir('startup-test-');
    await writeFile(join(cwd, '.env'), 'STORAGE_DIR=./data\nPORT 4000\n');
    const line = await failedStart({}, { cwd });
    expect(line).toBe(
      `s3-service cannot start: ENV_FILE=.env (${join(cwd, '.env')}): line 2 is not NAME=value; fix it or make it a # comment`,
    );
  });

  it('refuses an ENV_FILE that cannot be read', async () => {
    const missing = join(await tempDir('startup-test-'), 'missing.env');
    const line = await failedStart({ ENV_FILE: missing });
    expect(line).toBe(`s3-service cannot start: ENV_FILE=${missing}: cannot be read (ENOENT)`);
  });
});
