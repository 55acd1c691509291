import { UPPY_BASE_PATH } from '../router/uppy.js';
import { createCapabilityIssuer } from './capability.js';

export interface MintUppyCapabilityOptions {
  /** The server's UPPY_CAPABILITY_SECRET (createApp's `uppy.capabilitySecret`). */
  secret: string;
  workspaceId: string;
  /** Recorded as who started the uploads. */
  subject?: string;
  /** Default one hour. */
  expiresInSeconds?: number;
  /** The server's UPPY_CAPABILITY_MAX_SECONDS; default one day. */
  maxLifetimeSeconds?: number;
  /** The API's origin as browsers reach it, e.g. `https://files.example.com`. */
  baseUrl: string;
}

/**
 * For an app's own backend that embeds or sits beside the service and shares its secret: the
 * `companionEndpoint` to hand a browser, without a round trip to `uppy.capability`.
 */
export async function mintUppyCapability(
  options: MintUppyCapabilityOptions,
): Promise<{ endpoint: string; capability: string; expiresAt: Date }> {
  const issuer = createCapabilityIssuer({ secret: options.secret, maxLifetimeSeconds: options.maxLifetimeSeconds });
  const { capability, expiresAt } = await issuer.mint(options);
  return { endpoint: `${options.baseUrl.replace(/\/+$/, '')}${UPPY_BASE_PATH}/${capability}`, capability, expiresAt };
}
