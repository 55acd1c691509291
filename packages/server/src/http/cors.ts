import cors from 'cors';
import type { RequestHandler } from 'express';

const exposedHeaders = ['Content-Length', 'Content-Range', 'ETag', 'Content-Disposition', 'X-Request-Id'];

/**
 * CORS for the API's own routes. Tokens travel in the Authorization header, so no cookies are
 * needed: `*` never comes with credentials, and only an explicit allowlist is echoed back.
 */
export function apiCors(origins: string[] | '*'): RequestHandler {
  if (origins === '*') return cors({ origin: '*', exposedHeaders, maxAge: 600 });
  const allowed = new Set(origins);
  const allowlisted = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    exposedHeaders,
    maxAge: 600,
  });
  // With an allowlist every answer depends on the Origin, also those that echo none (another
  // origin, or no Origin at all): without Vary a cache could hand one origin's answer to another.
  // The cors package adds Vary only when it echoes an origin.
  return (req, res, next) => {
    res.vary('Origin');
    allowlisted(req, res, next);
  };
}
