import type { Figure } from '../report/figures.js';
import type { BenchSettings, SuiteName } from '../settings.js';
import type { Profiler } from '../support/child-server.js';
import type { S3Emulator } from '../support/emulator.js';

/** What every suite gets: settings, a scratch folder, and the shared (lazily made) resources. */
export interface SuiteContext {
  settings: BenchSettings;
  /** A folder on the disk under test, removed after the run. */
  scratch: string;
  /** versitygw (or S3_TEST_ENDPOINT); undefined when neither is available, with the reason in the notes. */
  emulator(): Promise<S3Emulator | undefined>;
  /** The random file of `settings.transferBytes` that uploads and downloads move. */
  dataFile(): Promise<string>;
  /**
   * Runs `run` under V8's CPU profiler when BENCH_PROFILE names `suite` (through `profiler`, the
   * process that does the work, or in this one), keeps the .cpuprofile under bench/profiles/ and
   * adds a summary to the notes. Otherwise it only runs `run`.
   */
  profiled<T>(suite: SuiteName, label: string, profiler: Profiler | undefined, run: () => Promise<T>): Promise<T>;
  /** Lines printed under the table: skipped parts, caveats, profile summaries. */
  notes: string[];
}

export type Suite = (context: SuiteContext) => Promise<Figure[]>;
