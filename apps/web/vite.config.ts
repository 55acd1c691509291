import { defineConfig } from 'vite';

/**
 * Where `pnpm dev` sends API calls. The dev server forwards the API's paths, so the page's
 * default API URL (its own origin) works in development as it does under `pnpm start`.
 */
const apiUrl = process.env.API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  // The API serves the built page at /app (packages/server/src/http/web-app.ts).
  base: '/app/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    // /storage: the local store's signed URLs, when the API signs them for this origin (scripts/dev.mjs).
    proxy: { '/trpc': apiUrl, '/s3': apiUrl, '/storage': apiUrl, '/healthz': apiUrl },
  },
});
