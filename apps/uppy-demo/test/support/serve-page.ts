import express from 'express';
import { type PageServer, serveOnLoopback } from '../../../web/test/support/serve-page.js';

export type { PageServer };

/**
 * The built page as any static host would serve it, on a port of its own: the API and the
 * store are other origins, so every call Uppy makes is a cross-origin request CORS must allow.
 * The page is at `${url}/`.
 */
export function servePage(pageRoot: string): Promise<PageServer> {
  return serveOnLoopback(express.static(pageRoot));
}
