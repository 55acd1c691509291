import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Router } from 'express';
import helmet from 'helmet';

export interface DocsPageOptions {
  /** Where the browser fetches the OpenAPI document, e.g. `/s3/openapi.json`. */
  documentUrl: string;
}

/** Only the files the page loads; the rest of swagger-ui-dist (its petstore demo page) stays hidden. */
const ASSETS = new Set(['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png']);

/**
 * The package's folder, found through its package.json: importing swagger-ui-dist itself would
 * evaluate the 1.5 MB browser bundle in Node for nothing.
 */
function assetFolder(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/**
 * A page that lets the browser run Swagger UI from this server's own copy, so it works with no
 * internet: scripts only from this origin (no inline script, so the CSP can forbid it), styles
 * inline too because Swagger UI sets style attributes, and no upgrade to https, which a plain
 * http development server would not answer.
 */
const docsHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
});

function page(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>s3-service REST API</title>
<link rel="stylesheet" href="${base}/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="${base}/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${base}/assets/swagger-ui-bundle.js"></script>
<script src="${base}/init.js"></script>
</body>
</html>
`;
}

/** Starts Swagger UI on the document; the validator badge is off because it calls a public service. */
function initScript(documentUrl: string): string {
  const settings = { url: documentUrl, dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, tryItOutEnabled: false };
  return `window.addEventListener('load', function () {\n  window.ui = SwaggerUIBundle(${JSON.stringify(settings)});\n});\n`;
}

/** `GET /docs`: an interactive reference of the REST API, rendered from its OpenAPI document. */
export function createDocsPage(options: DocsPageOptions): Router {
  const folder = assetFolder();
  const script = initScript(options.documentUrl);
  const router = Router();
  router.use(docsHeaders);

  router.get('/', (req, res) => {
    res.type('html').set('Cache-Control', 'no-cache').send(page(req.baseUrl));
  });
  router.get('/init.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'no-cache').send(script);
  });
  router.get('/assets/:file', (req, res, next) => {
    const file = req.params.file;
    if (!ASSETS.has(file)) {
      next();
      return;
    }
    res.sendFile(file, { root: folder, maxAge: '1d' });
  });
  return router;
}
