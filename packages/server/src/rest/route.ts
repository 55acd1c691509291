import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { createServerCaller } from '../router/index.js';

export type ServerCaller = ReturnType<typeof createServerCaller>;

/** A procedure of the server-side caller, e.g. `caller.upload.start`. */
// biome-ignore lint/suspicious/noExplicitAny: any procedure input; the route's fields are checked against it
export type Procedure = (input: any) => Promise<unknown>;

/** The names of a procedure's input fields: what a route's parameters and body may fill. */
export type InputField<P extends Procedure> = Extract<keyof NonNullable<Parameters<P>[0]>, string>;

/** Picks the procedure a route runs out of the caller: `(caller) => caller.upload.start`. */
export type ProcedureOf<P extends Procedure> = (caller: ServerCaller) => P;

/**
 * One parameter of a REST path as callers spell it. `field` names the procedure's input field it
 * fills; `read` turns the raw HTTP value into what the procedure validates. `schema` is only for
 * the OpenAPI document: the procedure stays the one place that validates.
 */
export interface RestParameter<F extends string = string> {
  /** `path`: a `{name}` segment of the route's path. */
  in: 'query' | 'header' | 'path';
  name: string;
  field: F;
  schema: z.ZodType;
  required: boolean;
  description: string;
  example?: string;
  read(raw: unknown): unknown;
}

/** A JSON request body: its documented shape and how it becomes procedure input. */
export interface RestBody<F extends string = string> {
  schema: z.ZodType;
  required: boolean;
  description: string;
  /** How the body spells fields that differ, e.g. `{ rules: 'CORSRules' }` (nested ones included). */
  fieldNames: Readonly<Record<string, string>>;
  /**
   * How each procedure field is read from the parsed body; `field` reads one top-level field of
   * it. A field read as undefined is left out of the input.
   */
  fields: { readonly [K in F]?: (field: (name: string) => unknown) => unknown };
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

/** What a handler gets: the request, and the route's procedure to run on the gathered input. */
export interface RestExchange<P extends Procedure = Procedure> {
  req: Request;
  res: Response;
  logger: Logger;
  /** A download whose bytes stop moving this long is cut. */
  downloadIdleTimeoutMs: number;
  /** Runs the route's procedure on the gathered input; its errors name fields as REST spells them. */
  run(): Promise<Awaited<ReturnType<P>>>;
}

/** Who may call a route: any caller of a workspace, a bucket administrator, an administrator of the workspace, or anyone. */
export type RestAccess = 'workspace' | 'admin' | 'workspaceAdmin' | 'public';

interface RouteBase<P extends Procedure> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Below the REST base path, e.g. `/start-upload`; path parameters as OpenAPI writes them, `/webhooks/{endpointId}`. */
  path: string;
  operationId: string;
  tag: 'upload' | 'object' | 'bucket' | 'webhook' | 'meta';
  summary: string;
  description: string;
  access: RestAccess;
  /** The procedure the route runs: the fields of `parameters` and `body` must be its input's. */
  procedure?: ProcedureOf<P>;
  parameters: readonly RestParameter<NoInfer<InputField<P>>>[];
  body?: RestBody<NoInfer<InputField<P>>>;
  /** Every code this route can answer with; the document lists them under their statuses. */
  errors: readonly ErrorCode[];
}

/** A route whose success answer is a JSON body of `response.schema`. */
export interface JsonRoute<S extends z.ZodType = z.ZodType, P extends Procedure = Procedure> extends RouteBase<P> {
  kind: 'json';
  response: { description: string; schema: S; links?: Record<string, RestLink> };
  handle(exchange: RestExchange<NoInfer<P>>): Promise<z.input<S>>;
}

/** A response header of a streamed answer, for the document. */
export interface StreamHeader {
  description: string;
  schema: z.ZodType;
  /** Only on 206 answers (Content-Range). */
  partialOnly?: boolean;
  /** Only on 200 answers, and only for some objects (the checksum of checksummed uploads). */
  wholeOnly?: boolean;
}

/** A route that streams bytes itself (download); 200 for the whole object, 206 for a range. */
export interface StreamRoute<P extends Procedure = Procedure> extends RouteBase<P> {
  kind: 'stream';
  response: { description: string; headers: Record<string, StreamHeader> };
  handle(exchange: RestExchange<NoInfer<P>>): Promise<void>;
}

export type RestRoute = JsonRoute | StreamRoute;

/**
 * Keeps the handler's answer type-checked against the schema the document publishes, and every
 * parameter and body field against the input of the route's procedure.
 */
export function jsonRoute<S extends z.ZodType, P extends Procedure>(route: Omit<JsonRoute<S, P>, 'kind'>): RestRoute {
  return { kind: 'json', ...route } as unknown as RestRoute;
}

export function streamRoute<P extends Procedure>(route: Omit<StreamRoute<P>, 'kind'>): RestRoute {
  return { kind: 'stream', ...route } as unknown as RestRoute;
}

/** How REST spells each procedure field that it names differently (for error messages). */
export function restFieldNames(route: RestRoute): Record<string, string> {
  const names: Record<string, string> = { ...route.body?.fieldNames };
  for (const parameter of route.parameters) {
    if (parameter.field !== parameter.name) names[parameter.field] = parameter.name;
  }
  return names;
}
