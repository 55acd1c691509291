import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every size and duration of the suite, from BENCH_* variables; defaults fit ~5 minutes on 2 cores. */
export interface BenchSettings {
  /** Which suites run, in this order. */
  suites: SuiteName[];
  /** Part URLs per `signParts` batch (the spec's 10,000). */
  signParts: number;
  /** Part URLs the getSignedUrl baseline signs (it takes ~0.3-1 ms each, so fewer; it is a per-URL figure). */
  sdkSignParts: number;
  /** Seconds of load per target in the control-plane suite, after a 2 s warm-up. */
  loadSeconds: number;
  connections: number;
  /** Bytes uploaded and downloaded in the data-plane suites. */
  transferBytes: number;
  /** Part size of the client and of lib-storage. */
  partSize: number;
  /** Each of the 50 parallel downloads reads an object this large. */
  parallelDownloadBytes: number;
  parallelDownloads: number;
  /** The slow reader takes this many bytes per second, for this many seconds. */
  slowReaderBytesPerSecond: number;
  slowReaderSeconds: number;
  completeParts: number;
  completePartBytes: number;
  /** Workspace sizes (assets) the catalogue suite lists a page of 100 from; 1,000 carries the bar. */
  catalogueAssets: number[];
  /** Alternating rounds of the catalogue suite. */
  catalogueRounds: number;
  /** Upload starts and completes per engine and round in the catalogue suite. */
  catalogueUploads: number;
  /** Alternating rounds of the events suite's complete figure, and completes per server and round. */
  eventsRounds: number;
  eventsUploads: number;
  /** The peer suite (Uppy Companion beside us): autocannon connection counts of its per-part rows. */
  peerConnections: number[];
  /** Its alternating rounds (ours and Companion in turn), and seconds of load per target and round. */
  peerRounds: number;
  peerLoadSeconds: number;
  /** Part URLs for one upload its batch rows sign (one call, the SDK's windows, Companion's batch). */
  peerSignParts: number[];
  /** Where the suites' SVG charts go; undefined for a partial run that names no folder (it only prints). */
  chartsDir?: string;
  /** Where scratch files go (the data file, the stores): the disk under test. */
  workDir: string;
  /** BENCHMARKS.md at the repository root. */
  reportFile: string;
  /**
   * Whether the results are written to `reportFile`: for a run of every suite, or when the file is
   * named explicitly. A partial run only prints, so it never replaces the whole table with a part.
   */
  writeReport: boolean;
  /** Runs the API server of this suite under `--cpu-prof` and summarizes the profile. */
  profileSuite?: SuiteName;
}

export const SUITE_NAMES = [
  'signing',
  'control-plane',
  'peer',
  'upload',
  'part-writes',
  'download',
  'complete',
  'catalogue',
  'events',
] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

const MiB = 1024 * 1024;
const repositoryRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The documented variables and their defaults (README "Benchmarks" lists the same). */
export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const suites = (env.BENCH_SUITES ?? SUITE_NAMES.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of suites) {
    if (!(SUITE_NAMES as readonly string[]).includes(name))
      throw new Error(`BENCH_SUITES: unknown suite ${name} (known: ${SUITE_NAMES.join(', ')})`);
  }
  const profile = env.BENCH_PROFILE;
  if (profile && !(SUITE_NAMES as readonly string[]).includes(profile)) throw new Error(`BENCH_PROFILE: unknown suite ${profile}`);
  const reportFile = env.BENCH_REPORT_FILE ?? join(repositoryRoot, 'BENCHMARKS.md');
  const writeReport = env.BENCH_REPORT_FILE !== undefined || suites.length === SUITE_NAMES.length;
  // Beside the report, where its links (`bench/charts/…`) find them.
  const chartsDir = env.BENCH_CHARTS_DIR || (writeReport ? join(dirname(reportFile), 'bench', 'charts') : undefined);
  return {
    suites: suites as SuiteName[],
    signParts: integer(env, 'BENCH_SIGN_PARTS', 10_000),
    sdkSignParts: integer(env, 'BENCH_SDK_SIGN_PARTS', 2_000),
    loadSeconds: integer(env, 'BENCH_LOAD_SECONDS', 10),
    connections: integer(env, 'BENCH_CONNECTIONS', 64),
    transferBytes: integer(env, 'BENCH_TRANSFER_MIB', 1024) * MiB,
    partSize: integer(env, 'BENCH_PART_MIB', 8) * MiB,
    parallelDownloadBytes: integer(env, 'BENCH_PARALLEL_DOWNLOAD_MIB', 64) * MiB,
    parallelDownloads: integer(env, 'BENCH_PARALLEL_DOWNLOADS', 50),
    slowReaderBytesPerSecond: integer(env, 'BENCH_SLOW_READER_KIB_PER_SECOND', 4096) * 1024,
    slowReaderSeconds: integer(env, 'BENCH_SLOW_READER_SECONDS', 5),
    completeParts: integer(env, 'BENCH_COMPLETE_PARTS', 10_000),
    completePartBytes: integer(env, 'BENCH_COMPLETE_PART_KIB', 16) * 1024,
    catalogueAssets: integers(env, 'BENCH_CATALOGUE_ASSETS', [100, 1_000, 10_000]),
    catalogueRounds: integer(env, 'BENCH_CATALOGUE_ROUNDS', 5),
    catalogueUploads: integer(env, 'BENCH_CATALOGUE_UPLOADS', 40),
    eventsRounds: integer(env, 'BENCH_EVENTS_ROUNDS', 9),
    eventsUploads: integer(env, 'BENCH_EVENTS_UPLOADS', 60),
    peerConnections: integers(env, 'BENCH_PEER_CONNECTIONS', [16, 64]),
    peerRounds: integer(env, 'BENCH_PEER_ROUNDS', 3),
    peerLoadSeconds: integer(env, 'BENCH_PEER_LOAD_SECONDS', 5),
    peerSignParts: integers(env, 'BENCH_PEER_SIGN_PARTS', [1_000, 10_000]),
    workDir: env.BENCH_WORK_DIR ?? tmpdir(),
    reportFile,
    writeReport,
    ...(chartsDir ? { chartsDir } : {}),
    ...(profile ? { profileSuite: profile as SuiteName } : {}),
  };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: must be a whole number of at least 1, got ${text}`);
  return value;
}

/** A comma-separated list of whole numbers of at least 1, e.g. `100,1000,10000`. */
function integers(env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.some((value) => !Number.isInteger(value) || value < 1))
    throw new Error(`${name}: must be whole numbers of at least 1, separated by commas, got ${text}`);
  return values;
}
