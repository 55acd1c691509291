import type { IncomingHttpHeaders } from 'node:http';

/** What a policy may look at to decide: the caller's request, never its input beyond the workspace. */
export interface CallerInfo {
  headers: IncomingHttpHeaders;
  ip?: string;
}

/**
 * Decides who may use what. Throw `AppError('UNAUTHORIZED' | 'FORBIDDEN', ...)` to refuse;
 * every procedure that names a workspace asks `authorizeWorkspace` before touching the store.
 */
export interface AccessPolicy {
  authorizeWorkspace(caller: CallerInfo, workspaceId: string): void | Promise<void>;
  /** Bucket-wide operations (CORS configuration). */
  authorizeAdmin(caller: CallerInfo): void | Promise<void>;
}

/** Lets everyone in: for local development until real authorization is configured. */
export const allowAllPolicy: AccessPolicy = {
  authorizeWorkspace: () => {},
  authorizeAdmin: () => {},
};
