import type { IncomingHttpHeaders } from 'node:http';

/** What a policy may look at to decide: the caller's request, never its input beyond the workspace. */
export interface CallerInfo {
  headers: IncomingHttpHeaders;
  ip?: string;
}

/** What a policy learned of an authorized caller: `sub` of a token, recorded as who started an upload. */
export interface WorkspaceGrant {
  subject?: string;
}

/**
 * Decides who may use what. Throw `AppError('UNAUTHORIZED' | 'FORBIDDEN', ...)` to refuse;
 * every procedure that names a workspace asks `authorizeWorkspace` before touching the store.
 */
export interface AccessPolicy {
  authorizeWorkspace(caller: CallerInfo, workspaceId: string): void | WorkspaceGrant | Promise<void | WorkspaceGrant>;
  /** Bucket-wide operations (CORS configuration). */
  authorizeAdmin(caller: CallerInfo): void | Promise<void>;
}

/** Lets everyone in: for local development until real authorization is configured. */
export const allowAllPolicy: AccessPolicy = {
  authorizeWorkspace: () => {},
  authorizeAdmin: () => {},
};
