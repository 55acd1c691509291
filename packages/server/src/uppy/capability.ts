import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { DEFAULT_UPPY_SETTINGS } from '../config.js';
import { AppError } from '../errors.js';
import { workspaceId as workspaceIdSchema } from '../schemas.js';

/**
 * An upload capability: a short-lived HS256 JWT that lets whoever holds it upload into one
 * workspace through Uppy's Companion S3 protocol (`/uppy/<capability>/s3/...`). It travels in the
 * URL path because `@uppy/aws-s3` sends no headers of its own: a bearer token cannot reach us,
 * and a cookie would need a same-site deployment and CSRF defences.
 */

/** `aud` of every capability, so that no bearer token of the API is ever taken for one (or the reverse). */
export const CAPABILITY_AUDIENCE = 's3-service:uppy';
/** The claim naming the one workspace a capability grants. */
const WORKSPACE_CLAIM = 'ws';

/** A capability lives an hour unless its minter asks otherwise. */
export const DEFAULT_CAPABILITY_SECONDS = 3_600;

/** What a valid capability grants. */
export interface CapabilityGrant {
  workspaceId: string;
  /** The minting caller's subject, recorded as who started the uploads; absent without tokens. */
  subject?: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface MintCapabilityInput {
  workspaceId: string;
  subject?: string;
  /** Default one hour; at most the issuer's longest lifetime. */
  expiresInSeconds?: number;
}

export interface MintedCapability {
  capability: string;
  /** When it stops working. */
  expiresAt: Date;
}

/** Mints and checks the capabilities of one app: one secret, one longest lifetime. */
export interface CapabilityIssuer {
  readonly maxLifetimeSeconds: number;
  /** The base of the endpoints it mints, when configured (PUBLIC_URL); absent: the request's origin. */
  readonly publicUrl?: string;
  mint(input: MintCapabilityInput): Promise<MintedCapability>;
  /** UNAUTHORIZED unless `capability` is one this issuer minted and it has not expired. */
  verify(capability: string): Promise<CapabilityGrant>;
}

export interface CapabilityIssuerOptions {
  /** HS256 secret, at least 32 characters; absent: a random one for this process only. */
  secret?: string;
  maxLifetimeSeconds?: number;
  publicUrl?: string;
  /** Seconds since the epoch; injectable so tests can expire capabilities without waiting. */
  now?: () => number;
}

/**
 * Without a configured secret every process draws its own: capabilities then work on the instance
 * that minted them only and end when it restarts (the API warns about it in production).
 */
export function createCapabilityIssuer(options: CapabilityIssuerOptions = {}): CapabilityIssuer {
  const secret = options.secret ?? randomBytes(32).toString('base64url');
  if (secret.length < 32) throw new Error('an upload capability secret must be at least 32 characters');
  const key = new TextEncoder().encode(secret);
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? DEFAULT_UPPY_SETTINGS.maxCapabilitySeconds;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));

  return {
    maxLifetimeSeconds,
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    async mint(input) {
      workspaceIdSchema.parse(input.workspaceId);
      const lifetime = input.expiresInSeconds ?? Math.min(DEFAULT_CAPABILITY_SECONDS, maxLifetimeSeconds);
      if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > maxLifetimeSeconds) {
        throw new AppError('INVALID_PARAMETER', `expiresInSeconds: must be a whole number of seconds from 1 to ${maxLifetimeSeconds}`);
      }
      const issuedAt = now();
      let jwt = new SignJWT({ [WORKSPACE_CLAIM]: input.workspaceId })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(CAPABILITY_AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + lifetime);
      if (input.subject) jwt = jwt.setSubject(input.subject);
      return { capability: await jwt.sign(key), expiresAt: new Date((issuedAt + lifetime) * 1000) };
    },
    async verify(capability) {
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
      try {
        ({ payload } = await jwtVerify(capability, key, {
          algorithms: ['HS256'],
          audience: CAPABILITY_AUDIENCE,
          requiredClaims: ['exp', 'iat'],
          currentDate: new Date(now() * 1000),
        }));
      } catch (error) {
        const message = error instanceof joseErrors.JWTExpired ? 'the upload capability has expired' : 'the upload capability is not valid';
        throw new AppError('UNAUTHORIZED', message, { cause: error });
      }
      const workspaceId = payload[WORKSPACE_CLAIM];
      const exp = payload.exp!;
      // A capability signed with our key but over-long was never minted by this issuer's rules.
      if (typeof workspaceId !== 'string' || !workspaceIdSchema.safeParse(workspaceId).success || exp - payload.iat! > maxLifetimeSeconds) {
        throw new AppError('UNAUTHORIZED', 'the upload capability is not valid');
      }
      return { workspaceId, subject: typeof payload.sub === 'string' ? payload.sub : undefined, expiresAt: exp };
    },
  };
}
