import { formatNumber } from '../report/figures.js';
import { median } from './timing.js';

/**
 * Runs every entry once per round, in the listed order in odd rounds and in reverse in even
 * ones: whatever drifts over the run (a neighbour's load, a warming cache) falls on ours and the
 * baseline alike, instead of always on whichever runs second. Results by name, one per round.
 */
export async function alternatingRounds<T>(
  rounds: number,
  entries: ReadonlyArray<readonly [string, () => Promise<T>]>,
): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? entries : [...entries].reverse();
    for (const [name, run] of order) results.get(name)!.push(await run());
  }
  return results;
}

/** The median of a figure's rounds (what a bar is judged on) and how far the rounds spread. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** In the order the rounds ran. */
  values: number[];
}

export function spreadOf(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values: [...values] };
}

/** `590 (rounds 571, 590, 612)`: the median and every round, for a figure's detail. */
export function describeSpread(spread: Spread, unit = ''): string {
  const suffix = unit ? ` ${unit}` : '';
  return `${formatNumber(spread.median)}${suffix} (rounds ${spread.values.map(formatNumber).join(', ')})`;
}
