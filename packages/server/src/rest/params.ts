import type { Request } from 'express';

/** A query parameter as sent; repeated parameters stay arrays so validation refuses them. */
export function queryParam(req: Request, name: string): unknown {
  return req.query[name];
}

/**
 * Digits only become numbers; anything else (`1.5`, `1e3`, ` 1`, `Infinity`) is passed on as
 * text so that validation reports it as malformed instead of coercing it.
 */
export function integerParam(req: Request, name: string): unknown {
  const value = req.query[name];
  return typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;
}

/** JSON bodies: a missing or non-object body reads as no fields at all. */
export function bodyField(req: Request, name: string): unknown {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined;
}
