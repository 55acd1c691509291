import type { Page } from 'playwright-core';

/**
 * Limits what the page sends per second (DevTools' network throttling, which Chromium applies to
 * request bodies as it sends them). On loopback a part goes out in a few milliseconds, between two
 * of the browser's upload events; a real network takes seconds, which is what a progress bar and
 * a Pause button are for.
 */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}
