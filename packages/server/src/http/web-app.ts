import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type RequestHandler, type Response, Router } from 'express';
import helmet from 'helmet';

/** Where the browser app lives; `/` sends visitors there. */
export const WEB_APP_PATH = '/app';

/** Vite names every built asset after a hash of its content, so a cached copy never goes stale. */
const HASHED_ASSETS = /\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * The page's headers. It calls an API and signed store URLs that may live on any host (the API
 * URL is a setting), so `connect-src` is open to http(s); everything else stays on this origin.
 * No upgrade-insecure-requests: a page on plain http must still reach plain http stores.
 */
const pageHeaders = helmet({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'", 'http:', 'https:'],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
});

/**
 * Serves a built copy of apps/web (the folder `vite build` writes) at /app, and redirects `/`
 * there, so `pnpm start` shows a newcomer the product and not a JSON 404. Mount it before the
 * app's notFound handler; it answers nothing outside `/` and `/app`.
 */
export function createWebAppRouter(webRoot: string): Router {
  const root = resolve(webRoot);
  const router = Router();

  router.get('/', (_req, res) => {
    res.redirect(302, `${WEB_APP_PATH}/`);
  });
  // Without the slash the page's relative links would resolve against `/`.
  router.get(WEB_APP_PATH, (req, res, next) => {
    if (!req.originalUrl.startsWith(`${WEB_APP_PATH}/`)) res.redirect(301, `${WEB_APP_PATH}/`);
    else next();
  });
  router.use(
    WEB_APP_PATH,
    pageHeaders,
    express.static(root, { index: 'index.html', redirect: false, setHeaders: setCacheHeaders }),
    explainMissingBuild(root),
  );
  return router;
}

/** Hashed assets are kept for a year; index.html is checked on every visit so a new build shows at once. */
function setCacheHeaders(res: Response, path: string): void {
  const hashed = HASHED_ASSETS.test(path.replaceAll('\\', '/'));
  res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/**
 * A server started before the page was built answers /app with how to build it (checked per
 * request: a build made later is served without a restart). A missing file of a built page
 * falls through to the app's JSON 404.
 */
function explainMissingBuild(root: string): RequestHandler {
  return (_req, res, next) => {
    if (existsSync(join(root, 'index.html'))) {
      next();
      return;
    }
    res.status(404).type('text/plain').send(`The web app is not built in ${root}.\nBuild it with: pnpm --filter @s3-service/web build\n`);
  };
}
