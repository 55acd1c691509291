/**
 * The figures of issue 17's batch (40 signParts calls of 10,000 parts) against the API process,
 * with the request caps (the defaults) and without them (the caps set as high as the settings
 * allow and the URL budget off, which is how the server answered before):
 *
 *   node --conditions=@s3-service/source --import tsx packages/server/test/measure-batch-attack.ts
 *
 * Prints one line a run: time to the last byte of each answer, answer bytes, the slowest
 * /healthz meanwhile and the server's RSS before and at its peak.
 */
import { killApi } from './support/api-process.js';
import { type AttackFigures, runAttack, signPartsBatch, startAttackTarget } from './support/batch-attack.js';

const UNCAPPED = { MAX_CALLS_PER_BATCH: '10000', MAX_PARTS_PER_REQUEST: '1000000', RATE_LIMIT_SIGNED_URLS_PER_WORKSPACE: '0' };

function describe(label: string, copies: number, figures: AttackFigures): string {
  const times = figures.answers.map((answer) => `${answer.status} in ${(answer.ms / 1000).toFixed(2)} s`).join(', ');
  const bytes = figures.answers[0]!.bytes;
  const size = bytes > 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
  return (
    `${label}, ${copies} at once: ${times}; answer ${size}; /healthz slowest ${figures.healthzMaxMs.toFixed(0)} ms ` +
    `(${figures.healthzProbes} probes); RSS ${figures.rssBeforeMiB.toFixed(0)} -> ${figures.rssPeakMiB.toFixed(0)} MiB ` +
    `(+${(figures.rssPeakMiB - figures.rssBeforeMiB).toFixed(0)})`
  );
}

async function measure(label: string, env: Record<string, string>): Promise<void> {
  for (const copies of [1, 3]) {
    // A fresh process a run: RSS grown by one run would hide the next one's growth.
    const target = await startAttackTarget(env);
    try {
      const figures = await runAttack(target.api.url, target.api.child.pid!, signPartsBatch(target.upload), {
        copies,
        headers: target.headers,
      });
      console.log(describe(label, copies, figures));
    } finally {
      await killApi(target.api);
    }
  }
}

await measure('capped (defaults)', {});
await measure('uncapped (as before)', UNCAPPED);
