import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { memoryUsage } from 'node:process';

/** Messages between the benchmark and a server it runs in a child process. */
export type ToChild =
  | { id: number; type: 'rss-start' }
  | { id: number; type: 'rss-stop' }
  | { id: number; type: 'timings' }
  | { id: number; type: 'cpu' }
  | { id: number; type: 'profile-start' }
  | { id: number; type: 'profile-stop'; file: string };
export type FromChild =
  | { type: 'ready'; url: string }
  | { id: number; type: 'rss'; before: number; peak: number; after: number }
  | { id: number; type: 'timings'; requests: RequestTiming[] }
  | { id: number; type: 'cpu'; micros: number }
  | { id: number; type: 'ok' }
  | { type: 'result'; value: unknown };

/** One request as the server saw it: arrival to last byte handed to the socket. */
export interface RequestTiming {
  ms: number;
  /** CPU (user + system) the whole process spent meanwhile; meaningful when requests come one at a time. */
  cpuMs: number;
}

/** RSS is sampled this often while a measurement runs; a spike shorter than this may be missed. */
const SAMPLE_MS = 5;
/** Fine enough for request handlers of tens of microseconds, coarse enough to cost little. */
export const PROFILE_INTERVAL_MICROS = 100;

/**
 * Answers the benchmark's questions about this process: its RSS over a measurement (sampled here,
 * so IPC latency does not blur it), the server times it recorded, and a CPU profile of exactly
 * the measured window (V8's sampling profiler, as `--cpu-prof` uses, without start-up in it).
 */
export function serveBenchmarkQueries(recorded: () => RequestTiming[]): void {
  let sampler: { timer: NodeJS.Timeout; before: number; peak: number } | undefined;
  let profiler: Session | undefined;
  process.on('message', async (message: ToChild) => {
    if (message.type === 'rss-start') {
      const before = memoryUsage.rss();
      const state = { before, peak: before, timer: setInterval(() => (state.peak = Math.max(state.peak, memoryUsage.rss())), SAMPLE_MS) };
      sampler = state;
      send({ id: message.id, type: 'ok' });
    } else if (message.type === 'rss-stop' && sampler) {
      clearInterval(sampler.timer);
      const after = memoryUsage.rss();
      send({ id: message.id, type: 'rss', before: sampler.before, peak: Math.max(sampler.peak, after), after });
      sampler = undefined;
    } else if (message.type === 'timings') {
      send({ id: message.id, type: 'timings', requests: recorded().splice(0) });
    } else if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ id: message.id, type: 'cpu', micros: user + system });
    } else if (message.type === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_MICROS });
      await profiler.post('Profiler.start');
      send({ id: message.id, type: 'ok' });
    } else if (message.type === 'profile-stop' && profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      await writeFile(message.file, JSON.stringify(profile));
      send({ id: message.id, type: 'ok' });
    }
  });
  process.once('SIGTERM', () => process.exit(0));
  // The benchmark going away (a crash, Ctrl-C) must not leave servers behind.
  process.once('disconnect', () => process.exit(0));
}

export function send(message: FromChild): void {
  process.send?.(message);
}
