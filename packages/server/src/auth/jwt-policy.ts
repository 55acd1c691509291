import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { AuthConfig } from '../config.js';
import { AppError } from '../errors.js';
import { bearerToken } from './bearer.js';
import type { AccessPolicy, CallerInfo } from './policy.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, refuseOverlongLifetime } from './token-lifetime.js';

type JwtAuthConfig = Extract<AuthConfig, { mode: 'jwt' }>;

/**
 * Bearer JWTs: HS256 with a shared secret, or RS256/ES256 keys from a JWKS URL (fetched once and
 * cached by jose, refetched when an unknown `kid` appears). The workspaces claim lists what the
 * token may use; the role claim grants bucket administration. Every token must expire (`exp`),
 * and no later than the configured longest lifetime: a leaked token is not a key for ever.
 */
export function createJwtPolicy(config: JwtAuthConfig): AccessPolicy {
  const key = verificationKey(config);
  const algorithms = config.secret ? ['HS256'] : ['RS256', 'ES256'];
  const maxLifetime = config.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;

  const verify = async (caller: CallerInfo): Promise<JWTPayload> => {
    const token = bearerToken(caller.headers);
    if (!token) throw new AppError('UNAUTHORIZED', 'a bearer token is required');
    let payload: JWTPayload;
    try {
      const options = { algorithms, issuer: config.issuer, audience: config.audience, requiredClaims: ['exp'] };
      ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
    } catch (error) {
      throw new AppError('UNAUTHORIZED', describeTokenFailure(error), { cause: error });
    }
    refuseOverlongLifetime(payload, maxLifetime);
    return payload;
  };

  return {
    async authorizeWorkspace(caller, workspaceId) {
      const payload = await verify(caller);
      const workspaces = payload[config.workspacesClaim];
      if (!Array.isArray(workspaces) || !workspaces.some((id) => String(id) === workspaceId)) {
        throw new AppError('FORBIDDEN', `this token may not use workspace ${workspaceId}`);
      }
      return { subject: typeof payload.sub === 'string' ? payload.sub : undefined };
    },
    async authorizeAdmin(caller) {
      const payload = await verify(caller);
      const role = payload[config.roleClaim];
      const roles = Array.isArray(role) ? role : [role];
      if (!roles.includes(config.adminRole)) throw new AppError('FORBIDDEN', `this operation needs the ${config.adminRole} role`);
    },
  };
}

function verificationKey(config: JwtAuthConfig): Uint8Array | JWTVerifyGetKey {
  if (config.secret) return new TextEncoder().encode(config.secret);
  if (config.jwksUrl) return createRemoteJWKSet(new URL(config.jwksUrl), { cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
  throw new Error('jwt policy needs a secret or a JWKS URL');
}

function describeTokenFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the bearer token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp' && error.reason === 'missing') {
    return 'the bearer token has no exp claim; tokens must say when they expire';
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the bearer token's ${error.claim} claim is not accepted`;
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return 'the signing keys could not be fetched';
  return 'the bearer token is not valid';
}
