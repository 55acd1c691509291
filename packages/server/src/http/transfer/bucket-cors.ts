import type { RequestHandler } from 'express';
import { AppError } from '../../errors.js';
import type { CorsRule } from '../../schemas.js';
import { findPreflightRule, findRequestRule, parseHeaderList } from './cors-rule-match.js';

export type CorsRulesSource = () => Promise<CorsRule[]>;

/**
 * Answers a browser's preflight from the bucket rules, as S3 does for presigned URLs: 200 with the
 * allowed origin, methods, headers and max age when a rule matches, 403 when none does.
 */
export function answerPreflight(readRules: CorsRulesSource): RequestHandler {
  return async (req, res) => {
    res.vary('Origin').vary('Access-Control-Request-Method').vary('Access-Control-Request-Headers');
    const origin = req.get('origin');
    const method = req.get('access-control-request-method');
    if (!origin || !method) {
      throw new AppError('INVALID_PARAMETER', 'a CORS preflight needs the Origin and Access-Control-Request-Method headers');
    }
    const requested = parseHeaderList(req.get('access-control-request-headers'));
    const rule = findPreflightRule(await readRules(), origin, method, requested);
    if (!rule) throw new AppError('FORBIDDEN', 'CORS: no bucket rule allows this origin, method and headers');
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Access-Control-Allow-Methods', rule.AllowedMethods.join(', '));
    if (requested.length > 0) res.set('Access-Control-Allow-Headers', requested.join(', '));
    if (rule.ExposeHeaders?.length) res.set('Access-Control-Expose-Headers', rule.ExposeHeaders.join(', '));
    if (rule.MaxAgeSeconds !== undefined) res.set('Access-Control-Max-Age', String(rule.MaxAgeSeconds));
    res.status(200).end();
  };
}

/**
 * On actual cross-origin requests, lets the browser read the response (and the headers the rule
 * exposes, above all a part's ETag). Set before the request is handled, so errors carry them too.
 */
export function addCorsHeaders(readRules: CorsRulesSource): RequestHandler {
  return async (req, res, next) => {
    res.vary('Origin');
    const origin = req.get('origin');
    const rule = origin ? findRequestRule(await readRules(), origin, req.method) : undefined;
    if (origin && rule) {
      res.set('Access-Control-Allow-Origin', origin);
      if (rule.ExposeHeaders?.length) res.set('Access-Control-Expose-Headers', rule.ExposeHeaders.join(', '));
    }
    next();
  };
}
