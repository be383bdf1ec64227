import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); `scripts/test.mjs` fails when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (CI runs as root in a container), nothing phoning home. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

// test/tsconfig.json has no DOM lib (it would retype Node's Blob and fetch), so the
// functions run in the page declare the little of the DOM they touch.
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  matches(selector: string): boolean;
}
declare const document: { readonly documentElement: { readonly scrollWidth: number }; readonly activeElement: PageElement | null };
declare const window: { readonly innerWidth: number };
declare function getComputedStyle(element: PageElement): { readonly outlineStyle: string; readonly outlineWidth: string; readonly boxShadow: string };

export const LAPTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface PageOptions {
  viewport?: { width: number; height: number };
  /**
   * Requests the test makes fail on purpose, e.g. `'400 /v1/tasks/compute-pi/jobs'`:
   * Chromium logs every 4xx/5xx response as a console error, these are forgiven.
   */
  expectedHttpErrors?: readonly string[];
}

export interface UsedBrowser {
  /**
   * Runs `body` on a fresh page (its own context: no cookies or storage shared
   * with other tests), then fails if the page logged a console error or warning
   * or threw an uncaught error at any point.
   */
  withPage(body: (page: Page) => Promise<void>, options?: PageOptions): Promise<void>;
}

/**
 * One headless Chromium for the enclosing `describe`: launched before its tests
 * (a normal launch, so a fresh temporary profile), closed after.
 */
export function useBrowser(): UsedBrowser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
  });

  return {
    async withPage(body, options = {}) {
      assert.ok(browser, 'the browser is launched in before()');
      const context = await browser.newContext({ viewport: options.viewport ?? LAPTOP, acceptDownloads: true });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') {
          const { url, lineNumber } = message.location();
          const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
          if (failed && options.expectedHttpErrors?.includes(`${failed[1]} ${new URL(url).pathname}`)) return;
          problems.push(`console ${message.type()} at ${page.url()}: ${message.text()} (${url}:${lineNumber})`);
        }
      });
      page.on('pageerror', (error) => problems.push(`page error at ${page.url()}: ${error.stack ?? error.message}`));
      try {
        await body(page);
      } catch (error) {
        // What the page said is often why the test failed.
        if (problems.length > 0 && error instanceof Error) error.message += `\n--- the page logged ---\n${problems.join('\n')}`;
        throw error;
      } finally {
        await context.close();
      }
      assert.deepEqual(problems, [], 'the page logged no console errors or warnings and threw no errors');
    },
  };
}

/**
 * Waits until `locator`'s text matches `expected` (a string: the whole text, spaces around
 * it aside); on timeout the error shows the text it had.
 */
export async function waitForText(locator: Locator, expected: RegExp | string, timeoutMs?: number): Promise<void> {
  const pattern = typeof expected === 'string' ? new RegExp(`^\\s*${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : expected;
  try {
    await locator.filter({ hasText: pattern }).first().waitFor(timeoutMs === undefined ? {} : { timeout: timeoutMs });
  } catch (error) {
    const actual = await locator.allTextContents().catch(() => ['(unreadable)']);
    throw new Error(`expected ${locator} to match ${pattern}; it reads ${JSON.stringify(actual)}`, { cause: error });
  }
}

/** True when the page scrolls sideways (content wider than the viewport). */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

/**
 * Presses Tab until the focused element has one of `testIds` (or `maxPresses`
 * run out); returns the test ids reached, each with whether its focus is visible
 * (`:focus-visible` and an outline or box-shadow drawn for it).
 */
export async function tabThrough(page: Page, testIds: readonly string[], maxPresses = 40): Promise<Map<string, boolean>> {
  const reached = new Map<string, boolean>();
  for (let press = 0; press < maxPresses && reached.size < testIds.length; press++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      if (!element?.dataset) return undefined;
      const style = getComputedStyle(element);
      const outline = style.outlineStyle !== 'none' && style.outlineWidth !== '0px';
      return { testId: element.dataset.testid, visible: element.matches(':focus-visible') && (outline || style.boxShadow !== 'none') };
    });
    if (focused?.testId && testIds.includes(focused.testId)) reached.set(focused.testId, focused.visible);
  }
  return reached;
}
