import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * A short token of plain characters: an id a proxy or client chose is kept so logs line up across
 * hops, but nothing that could break a log line or a header, or flood the log, is ever echoed.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}$/;

/** The caller's X-Request-Id when it is sane (a repeated header never is), else a new UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const offered = req.headers['x-request-id'];
  return typeof offered === 'string' && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
}
