import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { createServerCaller } from '../router/index.js';

export type ServerCaller = ReturnType<typeof createServerCaller>;

/**
 * One parameter of a REST path as callers spell it. `field` names the procedure's input field it
 * fills; `read` turns the raw HTTP value into what the procedure validates. `schema` is only for
 * the OpenAPI document: the procedure stays the one place that validates.
 */
export interface RestParameter {
  in: 'query' | 'header';
  name: string;
  field: string;
  schema: z.ZodType;
  required: boolean;
  description: string;
  example?: string;
  read(raw: unknown): unknown;
}

/** A JSON request body: its documented shape and how it becomes procedure input. */
export interface RestBody {
  schema: z.ZodType;
  required: boolean;
  description: string;
  /** How the body spells procedure fields that differ, e.g. `{ partNumber: 'PartNumber' }`. */
  fieldNames: Readonly<Record<string, string>>;
  /** Picks the procedure's input out of the parsed body; `field` reads one top-level field. */
  toInput(field: (name: string) => unknown): Record<string, unknown>;
}

/**
 * An OpenAPI link from a route's success answer to another operation, so that fuzzers and readers
 * see which answer feeds which request. Values are OpenAPI runtime expressions.
 */
export interface RestLink {
  operationId: string;
  description: string;
  parameters?: Record<string, string>;
  requestBody?: Record<string, string>;
}

/** What a handler gets: the gathered procedure input and a way to run a procedure on it. */
export interface RestExchange {
  req: Request;
  res: Response;
  input: Record<string, unknown>;
  logger: Logger;
  /** A download whose bytes stop moving this long is cut. */
  downloadIdleTimeoutMs: number;
  /** Runs a procedure through the server-side caller; its errors name fields as REST spells them. */
  call<T>(procedure: (caller: ServerCaller, input: never) => Promise<T>): Promise<T>;
}

/** Who may call a route: any caller of a workspace, a bucket administrator, or anyone. */
export type RestAccess = 'workspace' | 'admin' | 'public';

interface RouteBase {
  method: 'get' | 'post' | 'delete';
  /** Below the REST base path, e.g. `/start-upload`. */
  path: string;
  operationId: string;
  tag: 'upload' | 'object' | 'bucket' | 'meta';
  summary: string;
  description: string;
  access: RestAccess;
  parameters: readonly RestParameter[];
  body?: RestBody;
  /** Every code this route can answer with; the document lists them under their statuses. */
  errors: readonly ErrorCode[];
}

/** A route whose success answer is a JSON body of `response.schema`. */
export interface JsonRoute<S extends z.ZodType = z.ZodType> extends RouteBase {
  kind: 'json';
  response: { description: string; schema: S; links?: Record<string, RestLink> };
  handle(exchange: RestExchange): Promise<z.input<S>>;
}

/** A response header of a streamed answer, for the document. */
export interface StreamHeader {
  description: string;
  schema: z.ZodType;
  /** Only on 206 answers (Content-Range). */
  partialOnly?: boolean;
}

/** A route that streams bytes itself (download); 200 for the whole object, 206 for a range. */
export interface StreamRoute extends RouteBase {
  kind: 'stream';
  response: { description: string; headers: Record<string, StreamHeader> };
  handle(exchange: RestExchange): Promise<void>;
}

export type RestRoute = JsonRoute | StreamRoute;

/** Keeps the handler's answer type-checked against the schema the document publishes. */
export function jsonRoute<S extends z.ZodType>(route: Omit<JsonRoute<S>, 'kind'>): RestRoute {
  return { kind: 'json', ...route } as JsonRoute<z.ZodType>;
}

export function streamRoute(route: Omit<StreamRoute, 'kind'>): RestRoute {
  return { kind: 'stream', ...route };
}

/** How REST spells each procedure field that it names differently (for error messages). */
export function restFieldNames(route: RestRoute): Record<string, string> {
  const names: Record<string, string> = { ...route.body?.fieldNames };
  for (const parameter of route.parameters) {
    if (parameter.field !== parameter.name) names[parameter.field] = parameter.name;
  }
  return names;
}
