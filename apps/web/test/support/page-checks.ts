import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/** The two widths the page is held to: a phone (iPhone 14's 390 × 844) and a laptop. */
export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const;

export type ViewportName = keyof typeof VIEWPORTS;

/** The browser context options of a width: the phone is a touch device that honours the viewport meta tag. */
export function contextFor(name: ViewportName) {
  return name === 'phone' ? { viewport: VIEWPORTS.phone, isMobile: true, hasTouch: true } : { viewport: VIEWPORTS.desktop };
}

/** Where screenshots go: a temporary folder (printed once), never the repository. */
export function screenshotFolder(): string {
  const folder = join(tmpdir(), 's3-service-web-screenshots');
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** `fullPage: false` for a page whose focus matters: a full-page shot resizes the viewport, which can move the focus. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const path = join(screenshotFolder(), `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  console.info(`[@s3-service/web] screenshot ${path}`);
  return path;
}

/**
 * The containers a sideways scroll would start in; each must hold its content (scrollWidth <=
 * clientWidth). Elements that clip on purpose (the visually hidden labels) are not among them.
 */
const CONTAINERS = [
  'body',
  'header',
  'main',
  '.card',
  '#settings-form',
  '#dropzone',
  '#unfinished',
  '#unfinished li',
  '#upload-list',
  '#upload-list > li',
  '.upload-error',
  '.upload-note',
  '.section-head',
  '.asset-tools',
  '#assets-table',
  '#assets-table tbody tr',
  '#assets-table td',
  '#assets-status',
];

export interface Overflow {
  /** The document's scroll width against its client width. */
  document: { scrollWidth: number; clientWidth: number };
  /** Containers whose content is wider than they are, as `selector: scrollWidth > clientWidth`. */
  containers: string[];
  /** Visible elements reaching past the viewport's right edge (or its left). */
  outside: string[];
}

/** What sticks out sideways: nothing, on a page that does not scroll sideways. */
export function overflowOf(page: Page): Promise<Overflow> {
  return page.evaluate((selectors) => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const describe = (element: Element) => {
      const id = element.id ? `#${element.id}` : '';
      const classes = [...element.classList].map((name) => `.${name}`).join('');
      return `${element.tagName.toLowerCase()}${id}${classes}`;
    };
    const containers: string[] = [];
    for (const selector of selectors) {
      for (const element of document.querySelectorAll(selector)) {
        if (element.scrollWidth > element.clientWidth + 1)
          containers.push(`${selector} (${describe(element)}): ${element.scrollWidth} > ${element.clientWidth}`);
      }
    }
    const outside: string[] = [];
    for (const element of document.body.querySelectorAll('*')) {
      if (element.closest('.visually-hidden, [hidden]')) continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      if (box.right > width + 1 || box.left < -1)
        outside.push(`${describe(element)}: ${Math.round(box.left)}..${Math.round(box.right)} of ${width}`);
    }
    return { document: { scrollWidth: root.scrollWidth, clientWidth: width }, containers, outside };
  }, CONTAINERS);
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's verdict on the page as it is now: its default rules (WCAG 2.x A/AA and best
 * practices). The script is evaluated rather than added as a tag: the page's CSP (script-src
 * 'self') refuses inline scripts, rightly, and the test should not have to turn it off.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }>;
    }
    const results = await axe.run(document);
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => `${node.target.join(' ')}: ${node.failureSummary ?? ''}`),
    }));
  });
}
