import type { AuthConfig } from '../../src/config.js';

/** The HS256 secret tests sign their tokens with (mintToken) and the servers they start check them with. */
export const TEST_JWT_SECRET = 'a-test-secret-that-is-long-enough-0123456789';

/** JWT authorization as a deployment configures it by default: `workspaces` and `role: admin` claims. */
export const testJwtConfig: Extract<AuthConfig, { mode: 'jwt' }> = {
  mode: 'jwt',
  secret: TEST_JWT_SECRET,
  workspacesClaim: 'workspaces',
  roleClaim: 'role',
  adminRole: 'admin',
};
