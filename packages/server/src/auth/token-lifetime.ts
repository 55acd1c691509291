import type { JWTPayload } from 'jose';
import { AppError } from '../errors.js';

/** The longest a token may be valid for when the configuration says nothing: one day. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/**
 * Refuses a token that would stay valid longer than `maxSeconds` (0: no bound). The lifetime is
 * counted from `iat` when the token has one, and never from later than now: a token issued for a
 * year is refused on its first day as on its last, and a token without `iat` (or with one in the
 * future) still cannot carry an `exp` further ahead than the bound. `exp` itself is required and
 * checked by jose before this runs.
 */
export function refuseOverlongLifetime(payload: JWTPayload, maxSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): void {
  if (maxSeconds === 0 || payload.exp === undefined) return;
  const from = typeof payload.iat === 'number' ? Math.min(payload.iat, nowSeconds) : nowSeconds;
  const lifetime = payload.exp - from;
  if (lifetime > maxSeconds) {
    throw new AppError(
      'UNAUTHORIZED',
      `the bearer token is valid for ${lifetime} s; this server accepts tokens valid for at most ${maxSeconds} s`,
    );
  }
}
