import autocannon from 'autocannon';
import type { ChildServer } from './child-server.js';

/** What autocannon aims at, and the process whose CPU time the requests cost. */
export interface LoadTarget {
  name: string;
  /** The process that answers, whose CPU time per request is reported beside the rate. */
  server: Pick<ChildServer, 'cpuMicros'>;
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
}

export interface LoadOptions {
  connections: number;
  /** Seconds measured, after the warm-up. */
  seconds: number;
  /** Seconds of load before the measured window: JIT, connections, caches. */
  warmUpSeconds: number;
}

export interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  /** Server CPU (user + system) per answered request: what the request costs, whatever else ran. */
  cpuMicrosPerRequest: number;
}

/** autocannon against one target; the server's CPU is read over the measured window only. */
export async function measureLoad(target: LoadTarget, options: LoadOptions): Promise<Load> {
  const request = {
    url: target.url,
    connections: options.connections,
    method: target.method ?? 'GET',
    ...(target.body === undefined ? {} : { body: target.body, headers: { 'content-type': 'application/json' } }),
  };
  await autocannon({ ...request, duration: options.warmUpSeconds });
  const cpuBefore = await target.server.cpuMicros();
  const result = await autocannon({ ...request, duration: options.seconds });
  const cpuUsed = (await target.server.cpuMicros()) - cpuBefore;
  const load = {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMicrosPerRequest: cpuUsed / Math.max(1, result.requests.total),
  };
  console.log(
    `  ${target.name}, ${options.connections} connections: ${Math.round(load.requestsPerSecond)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, ${Math.round(load.cpuMicrosPerRequest)} µs CPU/request${load.failures ? `, ${load.failures} failed` : ''}`,
  );
  return load;
}
