import type { AccessPolicy } from '../auth/policy.js';
import { AppError } from '../errors.js';
import type { CapabilityGrant } from './capability.js';

/**
 * The access policy of a request that came with a capability instead of a bearer token: the one
 * workspace it names, nothing else, and never an admin operation. Every procedure's own checks
 * (allowlist, sizes, quotas, rate limits) then run exactly as for any caller.
 */
export function capabilityPolicy(grant: CapabilityGrant): AccessPolicy {
  return {
    authorizeWorkspace(_caller, workspaceId) {
      if (workspaceId !== grant.workspaceId) {
        throw new AppError('FORBIDDEN', `this upload capability may not use workspace ${workspaceId}`);
      }
      return { subject: grant.subject };
    },
    authorizeAdmin() {
      throw new AppError('FORBIDDEN', 'an upload capability grants no administration');
    },
  };
}
