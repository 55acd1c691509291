import type { SuiteName } from '../settings.js';

/** One measured figure and the baseline measured beside it in the same run. */
export interface Figure {
  /** Stable across runs: the previous run's figure is found by it. */
  id: string;
  suite: SuiteName;
  /** What was measured, as the table shows it. */
  name: string;
  value: number;
  unit: string;
  /** Whether a larger value is better (throughput) or a smaller one (time, memory). */
  better: 'higher' | 'lower';
  baseline: { name: string; value: number };
  /** The bars of the issue; none for figures that are only reported. */
  bars: Bar[];
  /** Latency percentiles, sizes, caveats. */
  detail?: string;
}

export type Bar = { kind: 'ratio'; atLeast: number } | { kind: 'value'; atMost: number };

/**
 * How many times better than its baseline a figure is, whichever way "better" points:
 * ours / baseline for throughput, baseline / ours for time and memory. 1 is parity.
 */
export function ratioOf(figure: Pick<Figure, 'value' | 'better' | 'baseline'>): number {
  const { value, baseline } = figure;
  if (figure.better === 'higher') return baseline.value === 0 ? Number.POSITIVE_INFINITY : value / baseline.value;
  return value === 0 ? Number.POSITIVE_INFINITY : baseline.value / value;
}

export function barsMet(figure: Figure): boolean | undefined {
  if (figure.bars.length === 0) return undefined;
  const ratio = ratioOf(figure);
  return figure.bars.every((bar) => (bar.kind === 'ratio' ? ratio >= bar.atLeast : figure.value <= bar.atMost));
}

export function describeBars(figure: Figure): string {
  if (figure.bars.length === 0) return '—';
  return figure.bars
    .map((bar) => (bar.kind === 'ratio' ? `ratio ≥ ${bar.atLeast}` : `≤ ${formatNumber(bar.atMost)} ${figure.unit}`))
    .join(', ');
}

/** Three significant digits, no exponent: figures span microseconds to gigabytes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '∞';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}
