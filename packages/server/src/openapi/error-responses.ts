import { z } from 'zod';
import { type ErrorCode, errorCodes } from '../errors.js';
import { toJsonSchema } from './json-schema.js';
import type { ResponseObject } from './types.js';

/** The body of every error answer, narrowed to the codes that can come with one status. */
export function errorBody(codes: readonly ErrorCode[]): z.ZodType {
  return z.strictObject({
    error: z.string().describe('What went wrong, for people; never a stack trace.'),
    code: z.enum(codes as [ErrorCode, ...ErrorCode[]]).describe('Stable; programs branch on this.'),
  });
}

/** A refusal for too many requests says when to try again. */
const retryAfter = {
  description: 'Seconds to wait before trying again.',
  required: true,
  schema: toJsonSchema(z.int().min(0), 'output'),
};

/**
 * One response per HTTP status a route can answer with, listing the codes that come with that
 * status and what each means (from the code table in errors.ts, the only place statuses are set).
 */
export function errorResponses(codes: readonly ErrorCode[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = errorCodes[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const statuses = [...byStatus.keys()].sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => {
      const listed = byStatus.get(status)!;
      const response: ResponseObject = {
        description: listed.map((code) => `\`${code}\`: ${errorCodes[code].meaning}`).join('. '),
        ...(status === 429 ? { headers: { 'Retry-After': retryAfter } } : {}),
        content: { 'application/json': { schema: toJsonSchema(errorBody(listed), 'output') } },
      };
      return [String(status), response];
    }),
  );
}

/** A Markdown table of every code, for the document's description (and so the /docs page). */
export function errorCodeTable(): string {
  const rows = Object.entries(errorCodes).map(([code, { status, meaning }]) => `| \`${code}\` | ${status} | ${meaning} |`);
  return ['| code | status | meaning |', '|---|---|---|', ...rows].join('\n');
}
