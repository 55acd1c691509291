/**
 * Milliseconds `run` took by the monotonic clock, and the CPU milliseconds (user + system) this
 * process spent meanwhile: on a machine shared with other work, the CPU time is what the code
 * costs, while the wall time also counts whatever else was scheduled.
 */
export async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await run();
  const wall = process.hrtime.bigint() - start;
  const used = process.cpuUsage(cpu);
  return { result, ms: Number(wall) / 1e6, cpuMs: (used.user + used.system) / 1000 };
}

/** The middle value: one slow repetition (a GC, a neighbour's burst) does not move it. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const MiB = 1024 * 1024;

/**
 * Collects this process's garbage before a measurement taken in process, when Node runs with
 * --expose-gc (the bench script does): the figure must not pay for what earlier suites left.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** MiB/s for `bytes` moved in `ms`. */
export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000);
}
