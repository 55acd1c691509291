import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebAppRouter } from '../../../packages/server/src/http/web-app.js';

/** The router `pnpm start` mounts, in an app whose last handler stands in for the API's JSON 404. */
async function serve(webRoot: string): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(createWebAppRouter(webRoot));
  app.use((_req, res) => {
    res.status(404).json({ error: 'no route', code: 'NOT_FOUND' });
  });
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function get(url: string): Promise<Response> {
  return fetch(url, { redirect: 'manual' });
}

describe('the web app router', () => {
  let dir: string;
  let built: { url: string; server: Server };
  let missing: { url: string; server: Server };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-service-web-app-'));
    await mkdir(join(dir, 'built', 'assets'), { recursive: true });
    await writeFile(join(dir, 'built', 'index.html'), '<!doctype html><title>page</title>');
    await writeFile(join(dir, 'built', 'assets', 'index-AbCd1234.js'), 'console.log(1)');
    built = await serve(join(dir, 'built'));
    missing = await serve(join(dir, 'never-built'));
  });

  afterAll(async () => {
    for (const { server } of [built, missing]) {
      server.closeAllConnections();
      server.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('sends / to the page', async () => {
    const answer = await get(`${built.url}/`);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/app/');
  });

  it('adds the slash to /app, keeping nothing else', async () => {
    const answer = await get(`${built.url}/app`);
    expect(answer.status).toBe(301);
    expect(answer.headers.get('location')).toBe('/app/');
  });

  it('serves index.html at /app/, revalidated on every visit, with a content security policy', async () => {
    const answer = await get(`${built.url}/app/`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.headers.get('cache-control')).toBe('no-cache');
    const policy = answer.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain('connect-src');
    expect(policy).not.toContain('upgrade-insecure-requests');
    expect(await answer.text()).toContain('<title>page</title>');
  });

  it('lets browsers keep hashed assets for a year', async () => {
    const answer = await get(`${built.url}/app/assets/index-AbCd1234.js`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it("leaves a missing file of a built page to the app's 404", async () => {
    const answer = await get(`${built.url}/app/assets/nothing-here.js`);
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers nothing outside / and /app', async () => {
    expect((await get(`${built.url}/application`)).status).toBe(404);
    expect((await get(`${built.url}/trpc/x`)).status).toBe(404);
  });

  it('says how to build the page when it is not built', async () => {
    const answer = await get(`${missing.url}/app/`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).toContain('pnpm --filter @s3-service/web build');
  });
});
