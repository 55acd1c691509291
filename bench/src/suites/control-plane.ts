import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { type Figure, formatNumber } from '../report/figures.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { callJson } from '../support/http.js';
import type { SuiteContext } from './context.js';

const WARM_UP_SECONDS = 2;

interface Target {
  name: string;
  /** The process that answers, whose CPU time per request is reported beside the rate. */
  server: ChildServer;
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
}

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  /** Server CPU (user + system) per answered request: what the request costs, whatever else ran. */
  cpuMicrosPerRequest: number;
}

/**
 * Control-plane throughput under autocannon (64 connections), local-disk store, the service in
 * its own process, against a bare Express route in another process on the same machine. The
 * bare route is measured before and after the service's targets, and their mean is the baseline,
 * so drift during the run (a neighbour's load) is shared out.
 */
export async function controlPlaneSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const dir = await mkdtemp(join(context.scratch, 'control-plane-'));
  const api = await startChildServer('api-server', {
    env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 'local', dir } }) },
  });
  const bare = await startChildServer('bare-server');
  try {
    const workspaceId = 'bench';
    const upload = await callJson<{ uploadId: string; assetId: string }>(
      `${api.url}/s3/start-upload?workspaceId=${workspaceId}&fileType=application%2Foctet-stream`,
    );
    const ref = { workspaceId, assetId: upload.assetId, uploadId: upload.uploadId };
    const signParts = (count: number): Target => ({
      name: `upload.signParts ×${count}`,
      server: api,
      url: `${api.url}/trpc/upload.signParts`,
      method: 'POST',
      body: JSON.stringify({ json: { ...ref, partNumbers: Array.from({ length: count }, (_, index) => index + 1) } }),
    });
    const query = new URLSearchParams({ workspaceId, assetId: ref.assetId, UploadId: ref.uploadId, PartNumber: '1' });
    const bareTarget: Target = { name: 'bare route', server: bare, url: `${bare.url}/bare` };
    const floorTarget = (name: string, mount: string): Target => ({
      name,
      server: bare,
      url: `${bare.url}/${mount}/signParts`,
      method: 'POST',
      body: JSON.stringify({ json: {} }),
    });

    const bareBefore = await measure(bareTarget, settings);
    const restLoad = await context.profiled('control-plane', 'get-upload-url', api, () =>
      measure({ name: 'GET /s3/get-upload-url', server: api, url: `${api.url}/s3/get-upload-url?${query}` }, settings),
    );
    const trpcLoad = await context.profiled('control-plane', 'trpc-sign-parts-1', api, () => measure(signParts(1), settings));
    const batchLoad = await measure(signParts(100), settings);
    const floorLoad = await measure(floorTarget('tRPC floor, Express adapter', 'trpc'), settings);
    const handlerFloorLoad = await measure(floorTarget('tRPC floor, the service handler', 'service-trpc'), settings);
    const loggedLoad = await measure({ name: 'bare route + the request log', server: bare, url: `${bare.url}/logged` }, settings);
    const bareAfter = await measure(bareTarget, settings);

    const bareRate = (bareBefore.requestsPerSecond + bareAfter.requestsPerSecond) / 2;
    const baseline = { name: 'bare Express route (mean of before and after)', value: bareRate };
    const bareLatency = `bare: p50 ${bareBefore.p50} / p99 ${bareBefore.p99} ms before, ${bareAfter.p50} / ${bareAfter.p99} ms after`;
    const bareCpu = (bareBefore.cpuMicrosPerRequest + bareAfter.cpuMicrosPerRequest) / 2;
    const describe = (load: Load) =>
      `server CPU ${formatNumber(load.cpuMicrosPerRequest)} µs/request (bare ${formatNumber(bareCpu)}); ` +
      `p50 ${load.p50} ms, p99 ${load.p99} ms (${bareLatency})${load.failures > 0 ? `; **${load.failures} failed requests**` : ''}`;
    const common = { suite: 'control-plane' as const, unit: 'req/s', better: 'higher' as const, baseline };
    return [
      {
        ...common,
        id: 'control.rest-get-upload-url',
        name: `\`GET /s3/get-upload-url\`, ${settings.connections} connections, local-disk store`,
        value: restLoad.requestsPerSecond,
        bars: [{ kind: 'ratio', atLeast: 0.5 }],
        detail: describe(restLoad),
      },
      {
        ...common,
        id: 'control.trpc-sign-parts-1',
        name: `tRPC \`upload.signParts\` (1 part), ${settings.connections} connections, local-disk store`,
        value: trpcLoad.requestsPerSecond,
        bars: [{ kind: 'ratio', atLeast: 0.5 }],
        detail: describe(trpcLoad),
      },
      {
        ...common,
        id: 'control.trpc-handler-floor',
        name: `tRPC floor of the service: a procedure answering a constant through its handler (\`trpcHandler\`) and superjson, ${settings.connections} connections`,
        value: handlerFloorLoad.requestsPerSecond,
        bars: [],
        detail: `what tRPC itself allows here (no store, no validation, no headers or log); upload.signParts (1 part) is ${formatNumber(trpcLoad.requestsPerSecond / handlerFloorLoad.requestsPerSecond)}× of it; ${describe(handlerFloorLoad)}`,
      },
      {
        ...common,
        id: 'control.trpc-floor',
        name: `tRPC floor through @trpc/server's own Express adapter (which the service no longer uses), ${settings.connections} connections`,
        value: floorLoad.requestsPerSecond,
        bars: [],
        detail: `the same procedure; the service's handler is ${formatNumber(handlerFloorLoad.requestsPerSecond / floorLoad.requestsPerSecond)}× of it; ${describe(floorLoad)}`,
      },
      {
        suite: 'control-plane',
        id: 'control.request-log',
        name: `The request log (\`http/request-log.ts\`, on pino-http): the bare route behind it, ${settings.connections} connections`,
        value: loggedLoad.cpuMicrosPerRequest,
        unit: 'µs CPU/request',
        better: 'lower',
        baseline: { name: 'the bare route without a log', value: bareCpu },
        bars: [],
        detail: `${formatNumber(loggedLoad.requestsPerSecond)} req/s; one line per request into a pino logger writing to /dev/null: what every API call pays for its log line`,
      },
      {
        ...common,
        id: 'control.trpc-sign-parts-100',
        name: `tRPC \`upload.signParts\` (100 parts, the client's batch), ${settings.connections} connections`,
        value: batchLoad.requestsPerSecond,
        bars: [],
        detail: `${Math.round(batchLoad.requestsPerSecond * 100).toLocaleString('en-US')} URLs/s; ${describe(batchLoad)}`,
      },
    ];
  } finally {
    await api.stop();
    await bare.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measure(target: Target, settings: SuiteContext['settings']): Promise<Load> {
  const options = {
    url: target.url,
    connections: settings.connections,
    method: target.method ?? 'GET',
    ...(target.body === undefined ? {} : { body: target.body, headers: { 'content-type': 'application/json' } }),
  };
  await autocannon({ ...options, duration: WARM_UP_SECONDS });
  const cpuBefore = await target.server.cpuMicros();
  const result = await autocannon({ ...options, duration: settings.loadSeconds });
  const cpuUsed = (await target.server.cpuMicros()) - cpuBefore;
  const load = {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMicrosPerRequest: cpuUsed / Math.max(1, result.requests.total),
  };
  console.log(
    `  ${target.name}: ${Math.round(load.requestsPerSecond)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, ${Math.round(load.cpuMicrosPerRequest)} µs CPU/request${load.failures ? `, ${load.failures} failed` : ''}`,
  );
  return load;
}
