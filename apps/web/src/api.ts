import { createS3ServiceClient, type S3ServiceClient } from '@s3-service/client';
import type { Settings } from './settings.js';

/**
 * A client of the typed SDK for these settings. The token goes to the API only: the SDK never
 * sends these headers to the store's signed URLs. It keeps the platform's fetch, so the SDK sends
 * part PUTs with XMLHttpRequest and reports their bytes as they go.
 */
export function connect(settings: Settings): S3ServiceClient {
  return createS3ServiceClient({
    url: settings.apiUrl,
    ...(settings.token ? { headers: { authorization: `Bearer ${settings.token}` } } : {}),
  });
}
