// Debian's chromium driven by playwright-core for the dashboard's browser tests and benchmark: the
// system browser (scripts/setup.mjs installs it), nothing downloaded, a fresh profile per run, and
// the flags that keep it off the network (a closed network refuses its background connections).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A browser on a fresh profile, trusting the test hub's self-signed HTTPS, at 1280×800 by default. */
export async function openBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`node scripts/setup.mjs --only apt\` (installs Debian's chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'weft-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    ignoreHTTPSErrors: true,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where failed tests leave their screenshots (build/ is not tracked). */
export const FAILURE_SHOTS = join(import.meta.dirname, '..', '..', '..', 'build', 'ui-test-failures');

export async function screenshotOnFailure(page: Page, name: string): Promise<string> {
  mkdirSync(FAILURE_SHOTS, { recursive: true });
  const path = join(FAILURE_SHOTS, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
