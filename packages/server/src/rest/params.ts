import type { Request } from 'express';
import type { z } from 'zod';
import { AppError } from '../errors.js';
import { parseRange } from '../http/transfer/range.js';
import type { RestParameter } from './route.js';

interface ParameterOptions {
  example?: string;
  /** Every documented query parameter is required unless said otherwise. */
  required?: boolean;
}

/** The procedure's field, when REST spells it differently (`UploadId` fills `uploadId`). */
interface RenamedParameterOptions<F extends string> extends ParameterOptions {
  field: F;
}

/** A query parameter passed on as sent; repeated parameters stay arrays so validation refuses them. */
export function stringQuery<F extends string>(
  name: string,
  schema: z.ZodType,
  description: string,
  options: RenamedParameterOptions<F>,
): RestParameter<F>;
export function stringQuery<N extends string>(
  name: N,
  schema: z.ZodType,
  description: string,
  options?: ParameterOptions,
): RestParameter<N>;
export function stringQuery(
  name: string,
  schema: z.ZodType,
  description: string,
  options: ParameterOptions & { field?: string } = {},
): RestParameter {
  return {
    in: 'query',
    name,
    field: options.field ?? name,
    schema,
    required: options.required ?? true,
    description,
    example: options.example,
    read: (raw) => raw,
  };
}

/**
 * Digits only become numbers; anything else (`1.5`, `1e3`, ` 1`, `Infinity`) is passed on as text
 * so that validation reports it as malformed instead of coercing it.
 */
export function integerQuery<F extends string>(
  name: string,
  schema: z.ZodType,
  description: string,
  options: RenamedParameterOptions<F>,
): RestParameter<F> {
  return {
    ...stringQuery(name, schema, description, options),
    read: (raw) => (typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : raw),
  };
}

/** The optional `Range` header of a download; what it cannot parse is ignored (whole object). */
export function rangeHeader(schema: z.ZodType, description: string): RestParameter<'range'> {
  return {
    in: 'header',
    name: 'Range',
    field: 'range',
    schema,
    required: false,
    description,
    example: 'bytes=0-1023',
    read: (raw) => parseRange(typeof raw === 'string' ? raw : undefined),
  };
}

/** A `{name}` segment of the route's path; always required, as OpenAPI says path parameters are. */
export function pathParameter<N extends string>(name: N, schema: z.ZodType, description: string): RestParameter<N> {
  return { in: 'path', name, field: name, schema, required: true, description, read: (raw) => raw };
}

/** The raw value of a parameter in the request: query values as Express parsed them, path segments decoded, headers by name. */
export function rawParameter(req: Request, parameter: RestParameter): unknown {
  if (parameter.in === 'path') return req.params[parameter.name];
  return parameter.in === 'query' ? req.query[parameter.name] : req.headers[parameter.name.toLowerCase()];
}

/** The Express spelling of a route's path: OpenAPI's `{endpointId}` is Express's `:endpointId`. */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, ':$1');
}

/**
 * JSON bodies: no body reads as no fields at all (updateBucketConfig's documented form), but a
 * body that is not a JSON object cannot be read as named fields and is refused as malformed,
 * rather than silently taken for no body (schemathesis caught `[{}]` applying the default rules).
 */
export function bodyFields(req: Request): (name: string) => unknown {
  const body: unknown = req.body;
  if (body === undefined) return () => undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('INVALID_PARAMETER', 'request body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  return (name) => (Object.hasOwn(fields, name) ? fields[name] : undefined);
}
