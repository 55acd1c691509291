import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { bareHost, isAllowedTarget, type TargetRules } from './webhook-target.js';

/** What is POSTed: an event (events/asset-event.ts), or the `webhook.test` event, in the one envelope. */
export interface WebhookMessage {
  id: string;
  type: string;
  timestamp: string;
  workspaceId: string;
  data: unknown;
}

export interface WebhookTarget {
  url: string;
  /** `whsec_` and base64: the endpoint's Standard Webhooks secret. */
  secret: string;
}

/** One attempt as the delivery log keeps it. */
export interface AttemptResult {
  /** When it began (ISO 8601). */
  at: string;
  /** A 2xx answer: the receiver has it. */
  delivered: boolean;
  /** The receiver's status; null when it gave none. */
  status: number | null;
  /** Why it was not delivered: the status and the start of the answer, a timeout, a refused target, a connection error. */
  error: string | null;
  durationMs: number;
}

export interface WebhookSenderOptions extends TargetRules {
  /** One attempt's limit, from connecting to the last byte of the answer read. */
  timeoutMs: number;
}

export interface WebhookSender {
  /** Signs and POSTs `message`; never throws: every failure is an attempt's result. */
  send(target: WebhookTarget, message: WebhookMessage): Promise<AttemptResult>;
  /** Closes the pooled connections; attempts in flight are cut. */
  close(): Promise<void>;
}

const USER_AGENT = 's3-service-webhooks/1';
/** The start of a receiver's answer kept in the log: enough for an error message, not a page of HTML. */
const ANSWER_LOG_BYTES = 2 * 1024;
/** An answer is read (and dropped) this far so its connection can be used again; past it, the connection is closed. */
const ANSWER_DRAIN_BYTES = 64 * 1024;

/** A delivery stopped before connecting: the address is not one webhooks may reach. */
class RefusedTargetError extends Error {
  readonly code = 'ERR_WEBHOOK_TARGET_REFUSED';
  constructor(readonly address: string) {
    super(`refused target: ${address} is not a public address (WEBHOOK_ALLOWED_PRIVATE_TARGETS allows others)`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `net.connect`'s lookup, keeping only addresses the rules allow: the check is made on the
 * address actually connected to, after DNS, so a name that resolves to a private address on
 * this lookup (rebinding, or simply an internal name) is never reached.
 */
function guardedLookup(rules: TargetRules) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter((entry) => isAllowedTarget(entry.address, rules));
      if (allowed.length === 0) return callback(new RefusedTargetError(addresses.map((entry) => entry.address).join(', ')), []);
      if (options.all) return callback(null, allowed);
      const [first] = allowed as [LookupAddress];
      callback(null, first.address, first.family);
    });
  };
}

/** Finds our refusal wherever undici or net put it (a cause, an AggregateError of every address tried). */
function refusalIn(error: unknown, depth = 0): RefusedTargetError | undefined {
  if (error instanceof RefusedTargetError) return error;
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const nested = [(error as { cause?: unknown }).cause, ...(error instanceof AggregateError ? error.errors : [])];
  for (const inner of nested) {
    const found = refusalIn(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function describeFailure(error: unknown): string {
  const refused = refusalIn(error);
  if (refused) return refused.message;
  const inner = error instanceof AggregateError && error.errors[0] ? error.errors[0] : error;
  const code = (inner as { code?: unknown }).code;
  const message = inner instanceof Error ? inner.message : String(inner);
  return `connection failed: ${typeof code === 'string' && !message.includes(code) ? `${code} ` : ''}${message}`.trim();
}

/** The answer's first bytes, for the log; the rest is read up to a bound and dropped. */
async function readAnswerStart(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let read = 0;
  for await (const chunk of body) {
    if (keptBytes < ANSWER_LOG_BYTES) {
      const part = chunk.subarray(0, ANSWER_LOG_BYTES - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    read += chunk.length;
    if (read >= ANSWER_DRAIN_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(kept).toString('utf8');
}

function answerError(status: number, answer: string, location: string | undefined): string {
  const said = answer.trim() ? `: ${answer.trim().replace(/\s+/g, ' ')}` : '';
  if (status >= 300 && status < 400)
    return `HTTP ${status}: redirects are not followed${location ? ` (location: ${location})` : ''}${said}`;
  return `HTTP ${status}${said}`;
}

/**
 * Signs (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) and POSTs deliveries
 * through one pooled, keep-alive agent. No redirect is followed (undici's request follows none):
 * a 3xx would let a public URL send the request on to an internal one.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const rules: TargetRules = { allowedPrivateTargets: options.allowedPrivateTargets };
  const agent = new Agent({
    connect: { lookup: guardedLookup(rules), timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  // Decoding a secret is per endpoint, not per delivery.
  const signers = new Map<string, Webhook>();
  const signerFor = (secret: string) => {
    let signer = signers.get(secret);
    if (!signer) {
      if (signers.size >= 10_000) signers.clear();
      signer = new Webhook(secret);
      signers.set(secret, signer);
    }
    return signer;
  };

  return {
    async send(target, message) {
      const startedAt = new Date();
      const started = performance.now();
      const result = (delivered: boolean, status: number | null, error: string | null): AttemptResult => ({
        at: startedAt.toISOString(),
        delivered,
        status,
        error,
        durationMs: Math.round(performance.now() - started),
      });
      let url: URL;
      try {
        url = new URL(target.url);
      } catch {
        return result(false, null, `invalid URL: ${target.url}`);
      }
      // net.connect looks up names only: an address in the URL is judged here, before connecting.
      const host = bareHost(url);
      if (isIP(host) !== 0 && !isAllowedTarget(host, rules)) return result(false, null, new RefusedTargetError(host).message);

      const body = JSON.stringify({
        id: message.id,
        type: message.type,
        timestamp: message.timestamp,
        workspaceId: message.workspaceId,
        data: message.data,
      });
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), options.timeoutMs);
      try {
        const answer = await request(url, {
          method: 'POST',
          dispatcher: agent,
          signal: abort.signal,
          headers: {
            'content-type': 'application/json',
            'user-agent': USER_AGENT,
            'webhook-id': message.id,
            'webhook-timestamp': String(Math.floor(startedAt.getTime() / 1000)),
            'webhook-signature': signerFor(target.secret).sign(message.id, startedAt, body),
          },
          body,
        });
        const delivered = answer.statusCode >= 200 && answer.statusCode < 300;
        const start = await readAnswerStart(answer.body);
        const location = answer.headers.location;
        return result(
          delivered,
          answer.statusCode,
          delivered ? null : answerError(answer.statusCode, start, Array.isArray(location) ? location[0] : location),
        );
      } catch (error) {
        if (abort.signal.aborted) return result(false, null, `timeout: no complete answer within ${options.timeoutMs} ms`);
        const code = (error as { code?: unknown }).code;
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
          return result(false, null, `timeout: no complete answer within ${options.timeoutMs} ms`);
        return result(false, null, describeFailure(error));
      } finally {
        clearTimeout(timer);
      }
    },

    close: () => agent.destroy(),
  };
}
