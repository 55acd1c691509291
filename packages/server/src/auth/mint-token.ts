import { SignJWT } from 'jose';

export interface MintTokenOptions {
  secret: string;
  workspaces: string[];
  admin?: boolean;
  /** jose duration, e.g. `1h`, `7d`. */
  expiresIn?: string;
  issuer?: string;
  audience?: string;
  subject?: string;
  workspacesClaim?: string;
  roleClaim?: string;
  adminRole?: string;
}

/** An HS256 token the JWT policy accepts: for development and tests, never a login system. */
export function mintToken(options: MintTokenOptions): Promise<string> {
  const claims: Record<string, unknown> = { [options.workspacesClaim ?? 'workspaces']: options.workspaces };
  if (options.admin) claims[options.roleClaim ?? 'role'] = options.adminRole ?? 'admin';
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  if (options.subject) jwt = jwt.setSubject(options.subject);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
