/**
 * `pnpm bench`: runs the suites, prints the table, and rewrites the results section of
 * BENCHMARKS.md (the previous run's figures stay beside the new ones). Never part of `pnpm test`.
 */
import './support/quiet-sdk-warning.js';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPreviousRun, renderResults, renderTable, toRunRecord, writeResults } from './report/benchmarks-file.js';
import type { Figure } from './report/figures.js';
import { currentLoad, describeMachine } from './report/machine.js';
import { readSettings, type SuiteName } from './settings.js';
import { catalogueSuite } from './suites/catalogue.js';
import { completeSuite } from './suites/complete.js';
import type { Suite, SuiteContext } from './suites/context.js';
import { controlPlaneSuite } from './suites/control-plane.js';
import { downloadSuite } from './suites/download.js';
import { eventsSuite } from './suites/events.js';
import { partWritesSuite } from './suites/part-writes.js';
import { peerSuite } from './suites/peer.js';
import { signingSuite } from './suites/signing.js';
import { uploadSuite } from './suites/upload.js';
import type { Profiler } from './support/child-server.js';
import { writeRandomFile } from './support/data-file.js';
import { isSkipped, type S3Emulator, startS3Emulator } from './support/emulator.js';
import { type CpuProfile, profileInProcess, summarizeProfile } from './support/profile.js';

const suites: Record<SuiteName, Suite> = {
  signing: signingSuite,
  'control-plane': controlPlaneSuite,
  peer: peerSuite,
  upload: uploadSuite,
  'part-writes': partWritesSuite,
  download: downloadSuite,
  complete: completeSuite,
  catalogue: catalogueSuite,
  events: eventsSuite,
};

const settings = readSettings();
const startedAt = new Date();
const machine = await describeMachine();
const previous = readPreviousRun(settings.reportFile);
const scratch = await mkdtemp(join(settings.workDir, 's3-service-bench-'));
const notes: string[] = [];
let emulator: Promise<S3Emulator | undefined> | undefined;
let dataFile: Promise<string> | undefined;

const context: SuiteContext = {
  settings,
  scratch,
  notes,
  emulator: () => (emulator ??= startEmulator()),
  dataFile: () =>
    (dataFile ??= (async () => {
      const path = join(scratch, 'data.bin');
      console.log(`writing a ${settings.transferBytes / 1024 / 1024} MiB data file`);
      await writeRandomFile(path, settings.transferBytes);
      return path;
    })()),
  profiled: (suite, label, profiler, run) => (settings.profileSuite === suite ? profiled(`${suite}-${label}`, profiler, run) : run()),
};

/** The emulator and the scratch folder (gigabytes) go whichever way the run ends. */
async function cleanUp(): Promise<void> {
  await (await emulator)?.stop();
  await rm(scratch, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const figures: Figure[] = [];
let failed = false;
try {
  for (const name of settings.suites) {
    console.log(`\n== ${name}`);
    try {
      figures.push(...(await suites[name](context)));
    } catch (error) {
      failed = true;
      console.error(error);
      notes.push(`${name}: **the suite failed**: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
} finally {
  await cleanUp();
}

machine.loadAtEnd = currentLoad();
const run = toRunRecord(figures, machine, startedAt);
console.log(`\n${renderTable(run, previous)}\n`);
for (const note of notes) console.log(`- ${note}`);
const seconds = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0);
if (settings.writeReport) {
  writeResults(settings.reportFile, renderResults(run, previous, settings, notes));
  console.log(`\nwritten to ${settings.reportFile} (${seconds} s)`);
} else {
  console.log(`\nnot written: a partial run (BENCH_SUITES) only prints, unless BENCH_REPORT_FILE names a file (${seconds} s)`);
}
if (failed) process.exitCode = 1;

async function startEmulator(): Promise<S3Emulator | undefined> {
  const started = await startS3Emulator();
  if (!isSkipped(started)) return started;
  notes.push(`no S3 server: ${started.skipped}`);
  return undefined;
}

/** Kept where a flame-graph viewer (Chrome DevTools, speedscope) can open them; not committed. */
async function profiled<T>(name: string, profiler: Profiler | undefined, run: () => Promise<T>): Promise<T> {
  const dir = join(import.meta.dirname, '..', 'profiles');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.cpuprofile`);
  let result: T;
  if (profiler) {
    result = await profiler.profile(run, file);
  } else {
    const profiledRun = await profileInProcess(run);
    await writeFile(file, JSON.stringify(profiledRun.profile));
    result = profiledRun.result;
  }
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  notes.push(`profile ${name} (bench/profiles/${name}.cpuprofile, figures of this run include the profiler): ${summarizeProfile(profile)}`);
  return result;
}
