import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, which is zod's own target, so the conversion is
 * zod's and nothing is rewritten by hand. Requests are described as the server reads them
 * (`input`), answers as it writes them (`output`, where unknown fields are not allowed). The
 * document's dialect already says which draft, so the per-schema `$schema` is dropped.
 */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'throw' });
  return rest;
}
