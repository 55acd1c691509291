// `pnpm dev`: the API (unless API_URL names one already running) and Vite's dev server, with hot
// reload, in front of it. Vite forwards the API's paths, so the page's default API URL (its own
// origin) works as it does under `pnpm start`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const appRoot = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const DEV_ORIGIN = 'http://127.0.0.1:5173';

let api;
if (!process.env.API_URL) {
  process.env.API_URL = `http://127.0.0.1:${process.env.PORT || 3000}`;
  api = spawn('pnpm', ['exec', 'tsx', 'watch', '--clear-screen=false', '--conditions=@s3-service/source', 'apps/api/src/main.ts'], {
    cwd: repoRoot,
    stdio: 'inherit',
    // The local store signs part URLs for PUBLIC_URL. Pointing it at the dev server keeps the part
    // PUTs on the page's origin (Vite forwards /storage), so development needs no CORS rules.
    env: { ...process.env, PUBLIC_URL: process.env.PUBLIC_URL || DEV_ORIGIN },
  });
  api.on('exit', (code) => {
    if (code) console.error(`\nthe API exited (${code}). Is one already running? Then start with API_URL=http://127.0.0.1:3000 pnpm dev`);
  });
}

// vite.config.ts reads API_URL for its proxy.
const vite = await createServer({ root: appRoot });
await vite.listen();
vite.printUrls();
console.log(`\n  the page: ${DEV_ORIGIN}/app/  (API: ${process.env.API_URL})\n`);

const stop = async () => {
  api?.kill('SIGTERM');
  await vite.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
