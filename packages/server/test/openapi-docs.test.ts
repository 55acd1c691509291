import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer, type TestServer } from './support/server.js';

/** The reference page must work on a machine with no internet: everything it loads is ours. */
describe('GET /docs, the API reference page', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startLocalServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const get = (path: string) => fetch(new URL(path, server.url));

  it('is an HTML page that loads only scripts and styles of this server', async () => {
    const page = await get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source, source).toMatch(/^\/docs\//);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('has its own CSP: scripts from this origin only, no inline script, no https upgrade', async () => {
    const csp = (await get('/docs')).headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('serves Swagger UI from the installed package and points it at /s3/openapi.json', async () => {
    const bundle = await get('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await get('/docs/assets/swagger-ui.css')).status).toBe(200);
    const init = await (await get('/docs/init.js')).text();
    expect(init).toContain('"url":"/s3/openapi.json"');
    expect(init).toContain('"validatorUrl":null');
  });

  it('serves nothing else of the package', async () => {
    for (const path of [
      '/docs/assets/index.html',
      '/docs/assets/swagger-initializer.js',
      '/docs/assets/..%2Fpackage.json',
      '/docs/assets/package.json',
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect((await answer.json()).code).toBe('NOT_FOUND');
    }
  });
});
