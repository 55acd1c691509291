import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequestActivity, type RequestActivity } from '../src/http/request-activity.js';

/** An app whose /hold requests stay open until released, behind the activity tracker. */
async function heldRequests(activity: RequestActivity) {
  const releases: Array<() => void> = [];
  const app = express();
  app.use(activity.track);
  app.get('/hold', (_req, res) => {
    releases.push(() => res.end('done'));
  });
  app.get('/quick', (_req, res) => res.end('ok'));
  const server: Server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    held: () => releases.length,
    releaseAll: () => {
      for (const release of releases.splice(0)) release();
    },
  };
}

const elapsed = async (promise: Promise<unknown>) => {
  const start = performance.now();
  await promise;
  return performance.now() - start;
};

async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('request activity: background work waits for a lull between requests', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('answers at once when no request runs', async () => {
    const activity = createRequestActivity();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await elapsed(activity.lull(1_000))).toBeLessThan(50);
  });

  it('waits while a request runs, and ends soon after the last one ends', async () => {
    const activity = createRequestActivity();
    const app = await heldRequests(activity);
    close = () => app.server.close();
    const response = fetch(`${app.url}/hold`);
    await until(() => app.held() === 1);
    let settled = false;
    const lull = activity.lull(10_000).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    const released = performance.now();
    app.releaseAll();
    expect(await (await response).text()).toBe('done');
    await lull;
    expect(performance.now() - released).toBeLessThan(200);
  });

  it('never waits longer than it is told, however busy the server stays', async () => {
    const activity = createRequestActivity();
    const app = await heldRequests(activity);
    close = () => {
      app.releaseAll();
      app.server.close();
    };
    const response = fetch(`${app.url}/hold`);
    await until(() => app.held() === 1);
    const waited = await elapsed(activity.lull(30));
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(waited).toBeLessThan(500);
    app.releaseAll();
    await response;
  });

  it('does not count event streams, which never end', async () => {
    const activity = createRequestActivity();
    const app = await heldRequests(activity);
    close = () => {
      app.releaseAll();
      app.server.close();
    };
    const stream = fetch(`${app.url}/hold`, { headers: { accept: 'text/event-stream' } });
    await until(() => app.held() === 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await elapsed(activity.lull(5_000))).toBeLessThan(100);
    app.releaseAll();
    await stream;
  });
});
