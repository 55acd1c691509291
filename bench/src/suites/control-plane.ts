import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Figure, formatNumber } from '../report/figures.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { callJson } from '../support/http.js';
import { type Load, type LoadTarget, measureLoad } from '../support/load.js';
import type { SuiteContext } from './context.js';
import { s3Options } from './upload.js';

const WARM_UP_SECONDS = 2;
/** The issue-20 bar: `upload.signPart` keeps at least this share of tRPC's own floor in the service. */
const SIGN_PART_OF_FLOOR = 0.8;

/**
 * Control-plane throughput under autocannon (64 connections), local-disk store (and the per-part
 * calls on the S3 driver, on versitygw, when it runs), the service in
 * its own process, against a bare Express route in another process on the same machine. The
 * bare route is measured before and after the service's targets, and their mean is the baseline,
 * so drift during the run (a neighbour's load) is shared out. The tRPC procedures are reported
 * against tRPC's own floor in the service's handler (measured before and after them likewise):
 * a bare Express route is a bar tRPC itself cannot reach here (its floor is about 0.5× of it).
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
    const signParts = (count: number): LoadTarget => ({
      name: `upload.signParts ×${count}`,
      server: api,
      url: `${api.url}/trpc/upload.signParts`,
      method: 'POST',
      body: JSON.stringify({ json: { ...ref, partNumbers: Array.from({ length: count }, (_, index) => index + 1) } }),
    });
    const local = perPartTargets(api, ref, 'local');
    const bareTarget: LoadTarget = { name: 'bare route', server: bare, url: `${bare.url}/bare` };
    const floorTarget = (name: string, mount: string): LoadTarget => ({
      name,
      server: bare,
      url: `${bare.url}/${mount}/signParts`,
      method: 'POST',
      body: JSON.stringify({ json: {} }),
    });
    const handlerFloor = floorTarget('tRPC floor, the service handler', 'service-trpc');

    const bareBefore = await measure(bareTarget, settings);
    const floorBefore = await measure(handlerFloor, settings);
    const restLoad = await context.profiled('control-plane', 'get-upload-url', api, () => measure(local.rest, settings));
    const signPartLoad = await context.profiled('control-plane', 'trpc-sign-part', api, () => measure(local.signPart, settings));
    const trpcLoad = await measure(signParts(1), settings);
    const batchLoad = await measure(signParts(100), settings);
    const onS3 = await measureOnS3(context);
    const adapterFloorLoad = await measure(floorTarget('tRPC floor, Express adapter', 'trpc'), settings);
    const loggedLoad = await measure({ name: 'bare route + the request log', server: bare, url: `${bare.url}/logged` }, settings);
    const floorAfter = await measure(handlerFloor, settings);
    const bareAfter = await measure(bareTarget, settings);

    const bareRate = (bareBefore.requestsPerSecond + bareAfter.requestsPerSecond) / 2;
    const baseline = { name: 'bare Express route (mean of before and after)', value: bareRate };
    const bareLatency = `bare: p50 ${bareBefore.p50} / p99 ${bareBefore.p99} ms before, ${bareAfter.p50} / ${bareAfter.p99} ms after`;
    const bareCpu = (bareBefore.cpuMicrosPerRequest + bareAfter.cpuMicrosPerRequest) / 2;
    const floorRate = (floorBefore.requestsPerSecond + floorAfter.requestsPerSecond) / 2;
    const floorCpu = (floorBefore.cpuMicrosPerRequest + floorAfter.cpuMicrosPerRequest) / 2;
    const floorBaseline = { name: 'tRPC floor of the service (`control.trpc-handler-floor`, mean of before and after)', value: floorRate };
    const failures = (load: Load) => (load.failures > 0 ? `; **${load.failures} failed requests**` : '');
    const describe = (load: Load) =>
      `server CPU ${formatNumber(load.cpuMicrosPerRequest)} µs/request (bare ${formatNumber(bareCpu)}); ` +
      `p50 ${load.p50} ms, p99 ${load.p99} ms (${bareLatency})${failures(load)}`;
    const againstFloor = (load: Load) =>
      `server CPU ${formatNumber(load.cpuMicrosPerRequest)} µs/request (floor ${formatNumber(floorCpu)}); ` +
      `${formatNumber(load.requestsPerSecond / bareRate)}× of the bare Express route; p50 ${load.p50} ms, p99 ${load.p99} ms${failures(load)}`;
    const common = { suite: 'control-plane' as const, unit: 'req/s', better: 'higher' as const, baseline };
    const ofFloor = { ...common, baseline: floorBaseline };
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
        ...ofFloor,
        id: 'control.trpc-sign-part.of-floor',
        name: `tRPC \`upload.signPart\` (a query, \`GET /trpc/upload.signPart?input=\`), ${settings.connections} connections, local-disk store, against tRPC's floor`,
        value: signPartLoad.requestsPerSecond,
        bars: [{ kind: 'ratio', atLeast: SIGN_PART_OF_FLOOR }],
        detail: againstFloor(signPartLoad),
      },
      {
        ...ofFloor,
        id: 'control.trpc-sign-parts-1.of-floor',
        name: `tRPC \`upload.signParts\` (1 part), ${settings.connections} connections, local-disk store, against tRPC's floor`,
        value: trpcLoad.requestsPerSecond,
        bars: [],
        detail: againstFloor(trpcLoad),
      },
      ...(onS3
        ? [
            {
              ...common,
              id: 'control.rest-get-upload-url.s3',
              name: `\`GET /s3/get-upload-url\`, ${settings.connections} connections, S3 driver on versitygw`,
              value: onS3.rest.requestsPerSecond,
              bars: [{ kind: 'ratio' as const, atLeast: 0.5 }],
              detail: `signing needs no S3 request (the catalogue knows the upload); ${describe(onS3.rest)}`,
            },
            {
              ...ofFloor,
              id: 'control.trpc-sign-part.s3.of-floor',
              name: `tRPC \`upload.signPart\`, ${settings.connections} connections, S3 driver on versitygw, against tRPC's floor`,
              value: onS3.signPart.requestsPerSecond,
              bars: [{ kind: 'ratio' as const, atLeast: SIGN_PART_OF_FLOOR }],
              detail: againstFloor(onS3.signPart),
            },
          ]
        : []),
      {
        ...common,
        id: 'control.trpc-handler-floor',
        name: `tRPC floor of the service: a procedure answering a constant through its handler (\`trpcHandler\`) and superjson, ${settings.connections} connections`,
        value: floorRate,
        bars: [],
        detail:
          `what tRPC itself allows here (no store, no validation, no headers or log), the baseline of the tRPC rows; ` +
          `${formatNumber(floorBefore.requestsPerSecond)} req/s before them, ${formatNumber(floorAfter.requestsPerSecond)} after; ${describe(floorBefore)}`,
      },
      {
        ...common,
        id: 'control.trpc-floor',
        name: `tRPC floor through @trpc/server's own Express adapter (which the service no longer uses), ${settings.connections} connections`,
        value: adapterFloorLoad.requestsPerSecond,
        bars: [],
        detail: `the same procedure; the service's handler is ${formatNumber(floorRate / adapterFloorLoad.requestsPerSecond)}× of it; ${describe(adapterFloorLoad)}`,
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
        ...ofFloor,
        id: 'control.trpc-sign-parts-100.of-floor',
        name: `tRPC \`upload.signParts\` (100 parts, the client's batch), ${settings.connections} connections, against tRPC's floor`,
        value: batchLoad.requestsPerSecond,
        bars: [],
        detail: `${Math.round(batchLoad.requestsPerSecond * 100).toLocaleString('en-US')} URLs/s; ${againstFloor(batchLoad)}`,
      },
    ];
  } finally {
    await api.stop();
    await bare.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The per-part signing calls of one upload: the documented REST route and the tRPC query. */
function perPartTargets(api: ChildServer, ref: { workspaceId: string; assetId: string; uploadId: string }, where: string) {
  const query = new URLSearchParams({ workspaceId: ref.workspaceId, assetId: ref.assetId, UploadId: ref.uploadId, PartNumber: '1' });
  const rest: LoadTarget = { name: `GET /s3/get-upload-url (${where})`, server: api, url: `${api.url}/s3/get-upload-url?${query}` };
  // A query: tRPC takes its input from the URL, in superjson's envelope.
  const signPart: LoadTarget = {
    name: `upload.signPart (${where})`,
    server: api,
    url: `${api.url}/trpc/upload.signPart?input=${encodeURIComponent(JSON.stringify({ json: { ...ref, partNumber: 1 } }))}`,
  };
  return { rest, signPart };
}

/** The same per-part calls on the S3 driver (versitygw), where users deploy; undefined without an S3 server. */
async function measureOnS3(context: SuiteContext): Promise<{ rest: Load; signPart: Load } | undefined> {
  const emulator = await context.emulator();
  if (!emulator) {
    context.notes.push('control-plane: the S3 driver rows were skipped: no S3 server (versitygw) was available.');
    return undefined;
  }
  const api = await startChildServer('api-server', {
    env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 's3', ...s3Options(emulator) } }) },
  });
  try {
    const workspaceId = 'bench';
    const upload = await callJson<{ uploadId: string; assetId: string }>(
      `${api.url}/s3/start-upload?workspaceId=${workspaceId}&fileType=application%2Foctet-stream`,
    );
    const targets = perPartTargets(api, { workspaceId, assetId: upload.assetId, uploadId: upload.uploadId }, 'S3');
    const rest = await measure(targets.rest, context.settings);
    const signPart = await context.profiled('control-plane', 'trpc-sign-part-s3', api, () => measure(targets.signPart, context.settings));
    return { rest, signPart };
  } finally {
    await api.stop();
  }
}

function measure(target: LoadTarget, settings: SuiteContext['settings']): Promise<Load> {
  return measureLoad(target, { connections: settings.connections, seconds: settings.loadSeconds, warmUpSeconds: WARM_UP_SECONDS });
}
