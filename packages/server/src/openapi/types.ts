import type { JsonSchema } from './json-schema.js';

/* The parts of OpenAPI 3.1 this service's document uses; enough to type what it builds. */

export interface MediaType {
  schema: JsonSchema;
}

export interface HeaderObject {
  description: string;
  required: boolean;
  schema: JsonSchema;
}

export interface LinkObject {
  operationId: string;
  description: string;
  parameters?: Record<string, string>;
  requestBody?: Record<string, string>;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaType>;
  links?: Record<string, LinkObject>;
}

export interface ParameterObject {
  name: string;
  in: 'query' | 'header' | 'path';
  required: boolean;
  description: string;
  schema: JsonSchema;
  example?: string;
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  parameters: ParameterObject[];
  requestBody?: { description: string; required: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}

/** A type alias, not an interface, so that it is assignable to `Record<string, unknown>`. */
export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, OperationObject>>;
  /** What the service POSTs to webhook endpoints, one entry per event type (openapi/webhooks.ts). */
  webhooks: Record<string, { post: OperationObject }>;
  components: { securitySchemes: Record<string, Record<string, string>>; schemas: Record<string, JsonSchema> };
};
