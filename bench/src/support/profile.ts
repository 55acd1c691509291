import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 .cpuprofile this summary reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Sampling every 100 µs: fine enough for handlers of tens of microseconds, cheap enough to leave figures close. */
const INTERVAL_MICROS = 100;
/** Samples that are not work of this process. */
const NOT_BUSY = new Set(['(idle)', '(program)']);
const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Profiles `run` in this process with V8's sampling profiler (what --cpu-prof uses). */
export async function profileInProcess<T>(run: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: INTERVAL_MICROS });
    await session.post('Profiler.start');
    const result = await run();
    const { profile } = await session.post('Profiler.stop');
    return { result, profile: profile as CpuProfile };
  } finally {
    session.disconnect();
  }
}

/**
 * Where the busy time went, in a form that fits a line of BENCHMARKS.md: self time by package
 * (or project file), then the heaviest functions: what a flame graph's widest leaves show.
 */
export function summarizeProfile(profile: CpuProfile, limit = 8): string {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let busy = 0;
  let total = 0;
  profile.samples.forEach((nodeId, index) => {
    const frame = frames.get(nodeId);
    const delta = profile.timeDeltas[index] ?? 0;
    total += delta;
    if (!frame || NOT_BUSY.has(frame.functionName)) return;
    busy += delta;
    const where = ownerOf(frame.url);
    const name = `${frame.functionName || '(anonymous)'} (${where.file}${frame.url ? `:${frame.lineNumber + 1}` : ''})`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + delta);
    byOwner.set(where.owner, (byOwner.get(where.owner) ?? 0) + delta);
  });
  const top = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([label, micros]) => `${((micros / busy) * 100).toFixed(0)}% ${label}`)
      .join(', ');
  return `busy ${((busy / total) * 100).toFixed(0)}% of the window; by owner: ${top(byOwner)}; heaviest functions: ${top(byFunction)}`;
}

/** A package name, `node:` internals, native code, or a project file (relative to the repository). */
function ownerOf(url: string): { owner: string; file: string } {
  if (!url) return { owner: 'native/GC', file: 'native' };
  if (url.startsWith('node:')) return { owner: 'node internals', file: url };
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const file = path.slice(inModules + 'node_modules/'.length);
    const parts = file.split('/');
    return { owner: file.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!, file };
  }
  const file = path.startsWith(repositoryRoot) ? relative(repositoryRoot, path) : path;
  return { owner: file.split('/').slice(0, 2).join('/'), file };
}
