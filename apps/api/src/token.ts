import { parseArgs } from 'node:util';
import { loadConfig, mintToken } from '@s3-service/server';

/**
 * Mints a development token with the configured AUTH_JWT_SECRET:
 *   pnpm token -- --workspace 123 [--workspace 456] [--admin] [--expires 1h]
 * The token always expires, and no later than AUTH_MAX_TOKEN_LIFETIME_SECONDS allows (one day by default).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      workspace: { type: 'string', multiple: true, short: 'w' },
      admin: { type: 'boolean', default: false },
      expires: { type: 'string', default: '1h' },
      subject: { type: 'string' },
    },
  });
  const config = loadConfig();
  if (config.auth.mode !== 'jwt' || !config.auth.secret) {
    throw new Error('set AUTH_JWT_SECRET (32+ characters) to mint tokens; JWKS-based setups get tokens from their identity provider');
  }
  const workspaces = values.workspace ?? [];
  if (workspaces.length === 0 && !values.admin) throw new Error('name at least one --workspace, or --admin');
  const token = await mintToken({
    secret: config.auth.secret,
    workspaces,
    admin: values.admin,
    expiresIn: values.expires,
    maxLifetimeSeconds: config.auth.maxTokenLifetimeSeconds,
    subject: values.subject,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    workspacesClaim: config.auth.workspacesClaim,
    roleClaim: config.auth.roleClaim,
    adminRole: config.auth.adminRole,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
