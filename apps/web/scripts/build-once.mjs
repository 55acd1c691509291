// `pnpm start` serves apps/web/dist. This builds it the first time (the client SDK first, through
// turbo) and then never again, so starting the server stays fast; `pnpm build` rebuilds it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const builtPage = fileURLToPath(new URL('../dist/index.html', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

if (existsSync(builtPage)) {
  console.log('web app: serving the build in apps/web/dist (`pnpm build` rebuilds it)');
  process.exit(0);
}

console.log('web app: building apps/web/dist once…');
const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@s3-service/web', '--output-logs=errors-only'], {
  cwd: repoRoot,
  stdio: 'inherit',
  env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env },
});
if (build.error) console.error(`web app: could not run the build: ${build.error.message}`);
process.exit(build.status ?? 1);
