import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { BenchSettings } from '../settings.js';
import { barsMet, describeBars, type Figure, formatNumber, ratioOf } from './figures.js';
import type { MachineInfo } from './machine.js';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** What the JSON block of BENCHMARKS.md holds, for the next run to compare against. */
export interface RunRecord {
  ranAt: string;
  machine: MachineInfo;
  figures: Array<Figure & { ratio: number }>;
}

/** The figures of the run recorded in `file`, by id; empty when there is none (or it is unreadable). */
export function readPreviousRun(file: string): RunRecord | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const region = text.slice(text.indexOf(START), text.indexOf(END));
  const json = /```json\n([\s\S]*?)\n```/.exec(region)?.[1];
  if (!json) return undefined;
  try {
    return JSON.parse(json) as RunRecord;
  } catch {
    return undefined;
  }
}

export function toRunRecord(figures: Figure[], machine: MachineInfo, ranAt: Date): RunRecord {
  return { ranAt: ranAt.toISOString(), machine, figures: figures.map((figure) => ({ ...figure, ratio: ratioOf(figure) })) };
}

/** The results table, as printed to the terminal and written into BENCHMARKS.md. */
export function renderTable(run: RunRecord, previous: RunRecord | undefined): string {
  const before = new Map(previous?.figures.map((figure) => [figure.id, figure]));
  const lines = ['| Benchmark | Ours | Baseline (same run) | Ratio | Bar | Met | Previous run |', '|---|---|---|---|---|---|---|'];
  for (const figure of run.figures) {
    const met = barsMet(figure);
    const old = before.get(figure.id);
    const cells = [
      figure.detail ? `${figure.name}<br><sub>${figure.detail}</sub>` : figure.name,
      `${formatNumber(figure.value)} ${figure.unit}`,
      `${formatNumber(figure.baseline.value)} ${figure.unit} <sub>${figure.baseline.name}</sub>`,
      `${formatNumber(figure.ratio)}×`,
      describeBars(figure),
      met === undefined ? '—' : met ? 'yes' : '**no**',
      old ? `${formatNumber(old.value)} ${old.unit}, ${formatNumber(old.ratio)}× (${change(figure, old)})` : '—',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The change of the ratio since the previous run, signed so that + is an improvement. */
function change(current: { ratio: number }, previous: { ratio: number }): string {
  if (!Number.isFinite(current.ratio) || !Number.isFinite(previous.ratio) || previous.ratio === 0) return 'n/a';
  const percent = (current.ratio / previous.ratio - 1) * 100;
  return `${percent >= 0 ? '+' : '−'}${Math.abs(percent).toFixed(0)}%`;
}

export function renderResults(run: RunRecord, previous: RunRecord | undefined, settings: BenchSettings, notes: string[]): string {
  const { machine } = run;
  const versions = Object.entries(machine.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const load = `load average ${machine.loadAtStart.toFixed(2)} at start${machine.loadAtEnd === undefined ? '' : `, ${machine.loadAtEnd.toFixed(2)} at end`}`;
  return [
    START,
    `## Latest run: ${run.ranAt}`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; ${load}`,
    `- Node ${machine.node}; ${versions}`,
    `- Sizes: ${describeSettings(settings)}`,
    previous ? `- Previous run: ${previous.ranAt} (its figures are in the last column)` : '- Previous run: none recorded',
    '',
    renderTable(run, previous),
    '',
    'Ratio: how many times better than the baseline measured in the same run, whichever way better points ' +
      '(ours ÷ baseline for throughput, baseline ÷ ours for time and memory); 1 is parity. ' +
      'The change in the last column is that of the ratio, + meaning better.',
    ...(notes.length > 0 ? ['', ...notes.map((note) => `- ${note}`)] : []),
    '',
    '<details><summary>Figures as JSON (the next run reads them)</summary>',
    '',
    '```json',
    JSON.stringify(run, null, 2),
    '```',
    '',
    '</details>',
    END,
  ].join('\n');
}

function describeSettings(settings: BenchSettings): string {
  const MiB = 1024 * 1024;
  return [
    `suites ${settings.suites.join(', ')}`,
    `${settings.signParts} part URLs per batch (SDK baseline on ${settings.sdkSignParts})`,
    `${settings.connections} connections × ${settings.loadSeconds} s per load target`,
    `${settings.transferBytes / MiB} MiB transfers in ${settings.partSize / MiB} MiB parts`,
    `${settings.parallelDownloads} parallel downloads of ${settings.parallelDownloadBytes / MiB} MiB`,
    `slow reader ${settings.slowReaderBytesPerSecond / 1024} KiB/s for ${settings.slowReaderSeconds} s`,
    `complete of ${settings.completeParts} parts × ${settings.completePartBytes / 1024} KiB`,
    `catalogue: pages of 100 from ${settings.catalogueAssets.join(' / ')} assets, ${settings.catalogueRounds} rounds, ${settings.catalogueUploads} uploads per engine and round`,
    `peer: ${settings.peerConnections.join(' / ')} connections × ${settings.peerLoadSeconds} s per target and round, ${settings.peerRounds} rounds, ${settings.peerSignParts.join(' / ')} URLs for one upload`,
  ].join('; ');
}

const PREAMBLE = `# Benchmarks

\`pnpm bench\` (see README, "Benchmarks") measures what the service exists for, each figure beside a
baseline measured in the same run on the same machine, and rewrites the section between the
\`bench:results\` markers below. Everything outside the markers (the notes) is kept as written.
`;

/** Replaces the results section of BENCHMARKS.md, keeping the hand-written notes around it. */
export function writeResults(file: string, results: string): void {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : `${PREAMBLE}\n${START}\n${END}\n`;
  const start = existing.indexOf(START);
  const end = existing.indexOf(END);
  const text =
    start >= 0 && end > start
      ? `${existing.slice(0, start)}${results}${existing.slice(end + END.length)}`
      : `${existing.trimEnd()}\n\n${results}\n`;
  writeFileSync(file, text);
}
