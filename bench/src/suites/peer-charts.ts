import { cpus } from 'node:os';
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, type Chart } from '../report/charts.js';
import type { BenchSettings } from '../settings.js';
import { BATCH_LABELS, BATCH_WAYS, type BatchResult } from './peer-batch.js';
import { BAR_CONNECTIONS, CPU_UNDER_COMPANION, type PerPartResult, RATE_OVER_COMPANION } from './peer-per-part.js';
import { PER_PART_TARGETS, TARGET_LABELS } from './peer-targets.js';

/** Files under the charts folder; BENCHMARKS.md links them by these names. */
export const PEER_CHART_FILES = {
  signingTime: 'peer-signing-time.svg',
  perPartRate: 'peer-per-part-rate.svg',
  perPartCpu: 'peer-per-part-cpu.svg',
} as const;

/** Companion always in orange; ours in blues (S3) and greens (local disk). */
const TARGET_COLOURS = ['#1f5fa8', '#ff7f0e', '#6fa8dc', '#2e8b57', '#98d4a8'];
const BATCH_COLOURS = ['#1f5fa8', '#6fa8dc', '#ff7f0e'];

interface Row {
  group: number;
  series: string;
  median: number;
  min: number;
  max: number;
}

/** The suite's three charts: signing time against part count, and per-part req/s and CPU by connection count. */
export function peerCharts(perPart: PerPartResult[], batches: BatchResult[], settings: BenchSettings, ranAt: Date): Chart[] {
  // Short lines: without a canvas, Vega estimates text widths generously, and a long line widens the picture.
  const sampling = [
    `medians of ${settings.peerRounds} alternating rounds; whiskers: lowest to highest round`,
    `${ranAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} cores`,
  ];
  const targetOrder = PER_PART_TARGETS.map((target) => TARGET_LABELS[target]);
  const perPartRows = (value: (result: PerPartResult) => PerPartResult['rate']) =>
    perPart.map((result) => ({ group: result.connections, series: TARGET_LABELS[result.target], ...pick(value(result)) }));
  // Where the bars sit, drawn over the group they are judged in: our S3 bars must reach (or stay under) it.
  const companionAtBar = perPart.find((result) => result.target === 'companion' && result.connections === BAR_CONNECTIONS);
  const reference = (value: number): Reference[] => (companionAtBar ? [{ group: BAR_CONNECTIONS, value }] : []);
  return [
    {
      file: PEER_CHART_FILES.signingTime,
      spec: signingTimeSpec(
        batches.map((result) => ({ group: result.parts, series: BATCH_LABELS[result.way], ...pick(result.ms) })),
        BATCH_WAYS.map((way) => BATCH_LABELS[way]),
        'Every part URL of one upload: ours and Companion 6.2.2',
        ['time until the client holds every URL, parsed (lower is better)', ...sampling],
      ),
    },
    {
      file: PEER_CHART_FILES.perPartRate,
      spec: groupedBarsSpec(
        perPartRows((result) => result.rate),
        targetOrder,
        reference(RATE_OVER_COMPANION * (companionAtBar?.rate.median ?? 0)),
        {
          title: 'Per-part signing, one URL per request: ours and Companion 6.2.2',
          subtitle: [
            'autocannon on part 1 of an open upload; S3 rows on one versitygw',
            `red line: the bar at ${BAR_CONNECTIONS} connections, ${RATE_OVER_COMPANION}× Companion's median`,
            ...sampling,
          ],
          y: 'requests per second',
        },
      ),
    },
    {
      file: PEER_CHART_FILES.perPartCpu,
      spec: groupedBarsSpec(
        perPartRows((result) => result.cpu),
        targetOrder,
        reference((companionAtBar?.cpu.median ?? 0) / CPU_UNDER_COMPANION),
        {
          title: 'Per-part signing: server CPU per request',
          subtitle: [
            "the server process's user + system time ÷ requests answered",
            `red line: the bar at ${BAR_CONNECTIONS} connections, 1/${CPU_UNDER_COMPANION} of Companion's median`,
            ...sampling,
          ],
          y: 'µs of server CPU per request',
        },
      ),
    },
  ];
}

function pick(spread: { median: number; min: number; max: number }) {
  return { median: spread.median, min: spread.min, max: spread.max };
}

/** Lines over part counts, both axes logarithmic: the ways differ by tens of times. */
function signingTimeSpec(rows: Row[], order: string[], title: string, subtitle: string[]): TopLevelSpec {
  const colour = { field: 'series', type: 'nominal', title: null, sort: order, scale: { domain: order, range: BATCH_COLOURS } } as const;
  const x = {
    field: 'group',
    type: 'quantitative' as const,
    title: 'part URLs for one upload',
    scale: { type: 'log' as const },
    axis: { values: [...new Set(rows.map((row) => row.group))], format: ',d' },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    width: 520,
    height: 320,
    config: CHART_CONFIG,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'line', point: { size: 60, filled: true } },
        encoding: {
          x,
          y: { field: 'median', type: 'quantitative', title: 'ms (log scale)', scale: { type: 'log' } },
          color: colour,
        },
      },
      {
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color: colour },
      },
      {
        mark: { type: 'text', align: 'left', dx: 7, dy: -9, fontSize: 11 },
        encoding: {
          x,
          y: { field: 'median', type: 'quantitative' },
          text: { field: 'median', type: 'quantitative', format: ',.0f' },
          color: colour,
        },
      },
    ],
  };
}

/** A red line across one group's bars at a bar's level (the subtitle says which). */
interface Reference {
  group: number;
  value: number;
}

/** Bars per connection count, one per route, with the median written on top. */
function groupedBarsSpec(
  rows: Row[],
  order: string[],
  references: Reference[],
  labels: { title: string; subtitle: string[]; y: string },
): TopLevelSpec {
  const colour = { field: 'series', type: 'nominal', title: null, sort: order, scale: { domain: order, range: TARGET_COLOURS } } as const;
  const x = { field: 'group', type: 'ordinal', title: 'concurrent connections', axis: { labelAngle: 0 } } as const;
  const xOffset = { field: 'series', type: 'nominal', sort: order, scale: { domain: order } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: labels.title, subtitle: labels.subtitle },
    width: 560,
    height: 320,
    config: CHART_CONFIG,
    data: { values: rows },
    encoding: { x },
    layer: [
      { mark: { type: 'bar' }, encoding: { xOffset, y: { field: 'median', type: 'quantitative', title: labels.y }, color: colour } },
      { mark: { type: 'rule', color: '#333' }, encoding: { xOffset, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
      {
        mark: { type: 'text', dy: -6, fontSize: 10, baseline: 'bottom' },
        encoding: { xOffset, y: { field: 'max', type: 'quantitative' }, text: { field: 'median', type: 'quantitative', format: ',.0f' } },
      },
      ...references.map((reference) => ({
        data: { values: [reference] },
        mark: { type: 'tick' as const, orient: 'horizontal' as const, color: '#c0392b', thickness: 2, bandSize: 1 },
        encoding: { y: { field: 'value', type: 'quantitative' as const } },
      })),
    ],
  };
}
