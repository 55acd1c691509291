import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { writeCharts } from '../report/charts.js';
import type { Figure } from '../report/figures.js';
import type { SuiteContext } from './context.js';
import { batchFigures, measureBatches } from './peer-batch.js';
import { peerCharts } from './peer-charts.js';
import { measurePerPart, perPartFigures } from './peer-per-part.js';
import { checkPerPartTargets, perPartTargets, startPeerServers } from './peer-targets.js';

/**
 * The peer: Uppy Companion 6.2.2 (the usual S3 multipart signing backend) on the same versitygw
 * as our S3 driver, each server in its own process, measured in the same run in alternating
 * rounds. Per-part signing under autocannon at each connection count (ours REST and tRPC, on S3
 * and on the local disk, against Companion's per-part route), then every URL of one upload (ours
 * in one call and through the SDK's windows, against Companion's batch route). Draws the charts
 * BENCHMARKS.md shows.
 */
export async function peerSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const emulator = await context.emulator();
  if (!emulator) {
    context.notes.push('peer: skipped: Companion and our S3 rows need an S3 server (versitygw), and none was available.');
    return [];
  }
  const ranAt = new Date();
  const localDir = await mkdtemp(join(context.scratch, 'peer-local-'));
  const servers = await startPeerServers(emulator, context.scratch, localDir);
  try {
    context.notes.push(
      'peer: Companion runs as its standalone server does (NODE_ENV=production, its morgan access log, here into /dev/null, ' +
        "helmet, express-session's MemoryStore); ours as in every API row, its request log silent.",
    );
    const targets = perPartTargets(servers);
    await checkPerPartTargets(targets);
    const perPart = await context.profiled('peer', 'per-part', servers.s3, () => measurePerPart(targets, settings));
    const batches = await measureBatches(servers, settings);
    if (settings.chartsDir) {
      const written = await writeCharts(settings.chartsDir, peerCharts(perPart, batches, settings, ranAt));
      const shown = written.map((path) => relative(dirname(settings.reportFile), path));
      context.notes.push(`peer: charts drawn (${shown.join(', ')}).`);
    } else {
      context.notes.push('peer: charts not drawn: a partial run draws them only when BENCH_CHARTS_DIR (or BENCH_REPORT_FILE) says where.');
    }
    return [...perPartFigures(perPart, settings), ...batchFigures(batches, settings)];
  } finally {
    await servers.stop();
    await rm(localDir, { recursive: true, force: true });
  }
}
