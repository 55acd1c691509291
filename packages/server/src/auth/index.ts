import type { AuthConfig } from '../config.js';
import { createJwtPolicy } from './jwt-policy.js';
import { type AccessPolicy, allowAllPolicy } from './policy.js';

/** The policy the configuration asks for. */
export function createPolicy(auth: AuthConfig): AccessPolicy {
  return auth.mode === 'jwt' ? createJwtPolicy(auth) : allowAllPolicy;
}
