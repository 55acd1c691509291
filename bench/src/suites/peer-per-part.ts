import { type Figure, formatNumber } from '../report/figures.js';
import type { BenchSettings } from '../settings.js';
import { type Load, type LoadTarget, measureLoad } from '../support/load.js';
import { alternatingRounds, describeSpread, type Spread, spreadOf } from '../support/rounds.js';
import { PER_PART_TARGETS, type PerPartTargetName } from './peer-targets.js';

/** Every measurement opens its connections afresh: a short warm-up, the servers being warm after round one. */
const WARM_UP_SECONDS = 1;
/** The bars, judged at this many connections: ≥3× Companion's req/s, ≤0.5× its CPU per request. */
export const BAR_CONNECTIONS = 64;
export const RATE_OVER_COMPANION = 3;
export const CPU_UNDER_COMPANION = 2;

/** One route at one connection count, over the rounds. */
export interface PerPartResult {
  target: PerPartTargetName;
  connections: number;
  loads: Load[];
  rate: Spread;
  cpu: Spread;
}

/** For each connection count, alternating rounds of every route; ours and Companion in turn. */
export async function measurePerPart(targets: Record<PerPartTargetName, LoadTarget>, settings: BenchSettings): Promise<PerPartResult[]> {
  const results: PerPartResult[] = [];
  for (const connections of settings.peerConnections) {
    const options = { connections, seconds: settings.peerLoadSeconds, warmUpSeconds: WARM_UP_SECONDS };
    const rounds = await alternatingRounds(
      settings.peerRounds,
      PER_PART_TARGETS.map((name) => [name, () => measureLoad(targets[name], options)] as const),
    );
    for (const target of PER_PART_TARGETS) {
      const loads = rounds.get(target)!;
      results.push({
        target,
        connections,
        loads,
        rate: spreadOf(loads.map((load) => load.requestsPerSecond)),
        cpu: spreadOf(loads.map((load) => load.cpuMicrosPerRequest)),
      });
    }
  }
  return results;
}

const ROUTES: Record<PerPartTargetName, string> = {
  'rest-s3': '`GET /s3/get-upload-url`, S3 driver on versitygw',
  'trpc-s3': 'tRPC `upload.signPart` (GET), S3 driver on versitygw',
  companion: "Companion's `GET /s3/multipart/:uploadId/:partNumber` on versitygw",
  'rest-local': '`GET /s3/get-upload-url`, local-disk store',
  'trpc-local': 'tRPC `upload.signPart` (GET), local-disk store',
};

/**
 * Per connection count: req/s of each of our routes against Companion's, and for the S3 rows
 * their server CPU per request against Companion's. The bars sit on the S3 rows at 64 connections.
 */
export function perPartFigures(results: PerPartResult[], settings: BenchSettings): Figure[] {
  const figures: Figure[] = [];
  for (const connections of settings.peerConnections) {
    const at = (target: PerPartTargetName) => results.find((result) => result.target === target && result.connections === connections)!;
    const companion = at('companion');
    const barred = connections === BAR_CONNECTIONS;
    for (const target of PER_PART_TARGETS) {
      if (target === 'companion') continue;
      const ours = at(target);
      const onS3 = target.endsWith('-s3');
      figures.push({
        id: `peer.sign-part.${target}.c${connections}`,
        suite: 'peer',
        name: `Per-part signing: ${ROUTES[target]}, ${connections} connections, against Companion 6.2.2`,
        value: ours.rate.median,
        unit: 'req/s',
        better: 'higher',
        baseline: { name: `${ROUTES.companion}, median`, value: companion.rate.median },
        bars: barred && onS3 ? [{ kind: 'ratio', atLeast: RATE_OVER_COMPANION }] : [],
        detail: describeRates(ours, companion, settings),
      });
      if (!onS3) continue;
      figures.push({
        id: `peer.sign-part-cpu.${target}.c${connections}`,
        suite: 'peer',
        name: `Per-part signing, server CPU per request: ${ROUTES[target]}, ${connections} connections, against Companion`,
        value: ours.cpu.median,
        unit: 'µs CPU/request',
        better: 'lower',
        baseline: { name: `${ROUTES.companion}, median`, value: companion.cpu.median },
        bars: barred ? [{ kind: 'ratio', atLeast: CPU_UNDER_COMPANION }] : [],
        detail: `medians of ${settings.peerRounds} alternating rounds; ours ${describeSpread(ours.cpu, 'µs')}, Companion ${describeSpread(companion.cpu, 'µs')}; the server process's user + system time over the measured window ÷ requests answered`,
      });
    }
  }
  return figures;
}

function describeRates(ours: PerPartResult, companion: PerPartResult, settings: BenchSettings): string {
  const ratios = ours.rate.values.map((value, round) => value / companion.rate.values[round]!);
  const failures = [...ours.loads, ...companion.loads].reduce((sum, load) => sum + load.failures, 0);
  const p99 = (result: PerPartResult) => formatNumber(spreadOf(result.loads.map((load) => load.p99)).median);
  return (
    `medians of ${settings.peerRounds} alternating rounds of ${settings.peerLoadSeconds} s; ours ${describeSpread(ours.rate)}, Companion ${describeSpread(companion.rate)}; ` +
    `ratio per round ${formatNumber(Math.min(...ratios))}–${formatNumber(Math.max(...ratios))}; ` +
    `server CPU ${formatNumber(ours.cpu.median)} µs/request against ${formatNumber(companion.cpu.median)}; p99 ${p99(ours)} ms against ${p99(companion)} ms` +
    (failures > 0 ? `; **${failures} failed requests**` : '')
  );
}
