/** What the page needs to reach the service, kept in localStorage between visits. */
export interface Settings {
  /** Base URL of the API, without a trailing slash; tRPC is at `${apiUrl}/trpc`. */
  apiUrl: string;
  workspaceId: string;
  /** Sent as `Authorization: Bearer <token>` when not empty. */
  token: string;
}

const STORAGE_KEY = 's3-service:settings';
export const DEFAULT_WORKSPACE = 'demo';

/** The server's rule for workspace ids, so a typo is caught before the first request. */
const WORKSPACE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Saved settings, or defaults: the API on the page's own origin (what `pnpm start` serves). */
export function loadSettings(storage: Storage, pageOrigin: string): Settings {
  const defaults: Settings = { apiUrl: pageOrigin, workspaceId: DEFAULT_WORKSPACE, token: '' };
  try {
    const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as Partial<Settings> | null;
    if (!saved || typeof saved !== 'object') return defaults;
    return {
      apiUrl: typeof saved.apiUrl === 'string' && saved.apiUrl ? normalizeApiUrl(saved.apiUrl, pageOrigin) : defaults.apiUrl,
      workspaceId: typeof saved.workspaceId === 'string' && WORKSPACE_ID.test(saved.workspaceId) ? saved.workspaceId : defaults.workspaceId,
      token: typeof saved.token === 'string' ? saved.token : '',
    };
  } catch {
    // A hand-edited or foreign value is not worth an error page.
    return defaults;
  }
}

export function saveSettings(storage: Storage, settings: Settings): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(settings));
}

/** Empty means "this page's origin"; a trailing slash would double up in `${apiUrl}/trpc`. */
export function normalizeApiUrl(value: string, pageOrigin: string): string {
  const trimmed = value.trim();
  return (trimmed || pageOrigin).replace(/\/+$/, '');
}

/** Why a value cannot be saved, in words; undefined when all is well. */
export function validateSettings(settings: Settings): string | undefined {
  try {
    const url = new URL(settings.apiUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'The API URL must start with http:// or https://.';
  } catch {
    return 'The API URL is not a URL (e.g. http://127.0.0.1:3000).';
  }
  if (!WORKSPACE_ID.test(settings.workspaceId)) {
    return 'The workspace id is 1-128 letters, digits, "_" or "-", starting with a letter or digit.';
  }
  return undefined;
}
