import { decodeJwt, SignJWT } from 'jose';

export interface MintTokenOptions {
  secret: string;
  workspaces: string[];
  admin?: boolean;
  /** jose duration, e.g. `1h`, `7d`; default `1h`. Every token expires: the server refuses one without `exp`. */
  expiresIn?: string;
  /** The server's AUTH_MAX_TOKEN_LIFETIME_SECONDS: a longer `expiresIn` fails here, not at first use. 0: no bound. */
  maxLifetimeSeconds?: number;
  issuer?: string;
  audience?: string;
  subject?: string;
  workspacesClaim?: string;
  roleClaim?: string;
  adminRole?: string;
}

/** An HS256 token the JWT policy accepts: for development and tests, never a login system. */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const claims: Record<string, unknown> = { [options.workspacesClaim ?? 'workspaces']: options.workspaces };
  if (options.admin) claims[options.roleClaim ?? 'role'] = options.adminRole ?? 'admin';
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  if (options.subject) jwt = jwt.setSubject(options.subject);
  const token = await jwt.sign(new TextEncoder().encode(options.secret));
  const { exp = 0, iat = 0 } = decodeJwt(token);
  if (options.maxLifetimeSeconds && exp - iat > options.maxLifetimeSeconds) {
    throw new Error(
      `a token valid for ${exp - iat} s would be refused: the server accepts at most ${options.maxLifetimeSeconds} s (AUTH_MAX_TOKEN_LIFETIME_SECONDS)`,
    );
  }
  return token;
}
