import type { Figure } from '../report/figures.js';
import type { CompleteResult, CompleteTask } from '../servers/complete-task.js';
import { runChildTask } from '../support/child-server.js';
import type { SuiteContext } from './context.js';

/** Small parts are allowed so 10,000 of them fit the time budget; S3's 5 MiB minimum would not. */
const MIN_PART_SIZE = 1;

/**
 * Completing an upload of many parts on the local-disk store, built directly (no API server),
 * against `cat` of the same part files into one file on the same disk. The work runs in a
 * child process (servers/complete-task.ts), so it starts from a clean heap.
 */
export async function completeSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const task: CompleteTask = {
    parts: settings.completeParts,
    partBytes: settings.completePartBytes,
    minPartSize: MIN_PART_SIZE,
    scratch: context.scratch,
  };
  // The child profiles the complete itself; `profiled` then reads and summarizes the file.
  const inChild = {
    profile: <T>(run: () => Promise<T>, file: string) => {
      task.profileFile = file;
      return run();
    },
  };
  const { catMs, completeMs } = await context.profiled('complete', 'complete-multipart-upload', inChild, () =>
    runChildTask<CompleteResult>('complete-task', { BENCH_COMPLETE: JSON.stringify(task) }),
  );
  console.log(`  cat: ${catMs.toFixed(0)} ms, complete: ${completeMs.toFixed(0)} ms`);
  return [
    {
      id: 'complete.local',
      suite: 'complete',
      name: `Complete ${settings.completeParts.toLocaleString('en-US')} parts × ${settings.completePartBytes / 1024} KiB, local-disk store built directly (minPartSize ${MIN_PART_SIZE} B)`,
      value: completeMs,
      unit: 'ms',
      better: 'lower',
      baseline: { name: '`cat` of the same part files into one file', value: catMs },
      bars: [],
      detail:
        'store.completeMultipartUpload, in a process of its own: lists and checks the parts, links them into the segment folder of the object, commits it, removes the upload',
    },
  ];
}
