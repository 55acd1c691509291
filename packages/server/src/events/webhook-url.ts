import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { bareHost, isAllowedTarget, type TargetRules, targetRangeOf } from './webhook-target.js';

/*
 * The checks of a webhook URL an admin gives, when it is added or changed: its form here, in the
 * schema, then where it points (assertAllowedWebhookTarget). The dispatcher checks the address again
 * when it connects, which is what stops a name that resolves elsewhere later (DNS rebinding); this
 * check is for the admin, who learns at once that the target will be refused, and why.
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** A name that takes longer than this to resolve is refused rather than holding the request. */
const LOOKUP_TIMEOUT_MS = 5_000;

const ALLOWED_PROTOCOLS = new Set(['http:', 'https:']);

/**
 * An absolute http(s) URL without credentials or fragment, answered in WHATWG form: `http://0x7f000001/`
 * becomes `http://127.0.0.1/`, so the host that is judged, stored and connected to is the same one.
 */
export const webhookUrl = z
  .string({ error: 'must be a string' })
  .max(MAX_WEBHOOK_URL_LENGTH, { error: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` })
  .meta({ format: 'uri', examples: ['https://hooks.example.com/s3-service'] })
  .transform((raw, ctx) => {
    const refuse = (message: string) => {
      ctx.addIssue({ code: 'custom', message, input: raw });
      return z.NEVER;
    };
    // URL.canParse would accept `/relative` against a base only; without one it must be absolute.
    if (!URL.canParse(raw)) return refuse('must be an absolute http: or https: URL');
    const url = new URL(raw);
    if (!ALLOWED_PROTOCOLS.has(url.protocol)) return refuse(`must be an http: or https: URL, not ${url.protocol}`);
    if (url.username !== '' || url.password !== '') return refuse('must not carry a user name or password');
    // A `#` anywhere starts the fragment; an empty one (`https://a/#`) leaves url.hash empty.
    if (raw.includes('#')) return refuse('must not have a fragment (#...)');
    return url.href;
  });

/**
 * Refuses a URL whose host is, or resolves to, an address deliveries may not reach: 400
 * WEBHOOK_TARGET_NOT_ALLOWED naming the address, or INVALID_PARAMETER for a name that does not
 * resolve. Every address of a name must be allowed: the dispatcher may connect to any of them.
 */
export async function assertAllowedWebhookTarget(url: string, rules: TargetRules): Promise<void> {
  const host = bareHost(new URL(url));
  const addresses = isIP(host) ? [host] : await resolve(host);
  const refused = addresses.find((address) => !isAllowedTarget(address, rules));
  if (refused === undefined) return;
  const via = refused === host ? '' : ` (${host} resolves to it)`;
  throw new AppError(
    'WEBHOOK_TARGET_NOT_ALLOWED',
    `url: ${refused}${via} is in the ${rangeWords(targetRangeOf(refused))} range, not a public address; ` +
      'the operator may allow such targets with WEBHOOK_ALLOWED_PRIVATE_TARGETS',
  );
}

async function resolve(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    if (found.length === 0) throw Object.assign(new Error('no addresses'), { code: 'ENODATA' });
    return found.map((entry) => entry.address);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new AppError('INVALID_PARAMETER', `url: the host ${host} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** ipaddr.js's range names as words: `linkLocal` reads "link-local". */
const RANGE_WORDS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'unique local',
  carrierGradeNat: 'carrier-grade NAT',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  reserved: 'reserved',
};

function rangeWords(range: string): string {
  return RANGE_WORDS[range] ?? range;
}
