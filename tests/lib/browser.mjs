// browser.mjs -- headless Debian Chromium through playwright-core, with console and page errors collected.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where browser tests leave screenshots (gitignored). */
export const ARTIFACTS = path.resolve(here, '..', 'artifacts');

export const CHROMIUM = process.env.SHOREWATCH_CHROMIUM || '/usr/bin/chromium';

// WebGL stays on through SwiftShader (MapLibre needs it); everything that would phone home is off,
// since the machine is offline and stray network errors would pollute the console.
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Launch Chromium (a fresh temporary profile, which playwright creates and removes) and open one
 * page at 1366x768 (TIMEZONE_ID: the browser's own zone, default the machine's). Returns {browser, context, page, errors, close}; ERRORS collects every console
 * error and uncaught page error as {kind, text, url}.
 */
export async function launchBrowser({ viewport = { width: 1366, height: 768 }, locale = 'zh-CN', timezoneId } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const context = await browser.newContext({ viewport, locale, timezoneId });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push({ kind: 'console', text: msg.text(), url: msg.location()?.url || '' });
  });
  page.on('pageerror', (err) => errors.push({ kind: 'pageerror', text: String(err?.stack || err), url: '' }));
  page.on('crash', () => errors.push({ kind: 'crash', text: 'the page crashed', url: '' }));
  async function close() {
    await context.close().catch(() => {});
    await browser.close().catch(() => {});
  }
  return { browser, context, page, errors, close };
}

/** Save a full-page PNG as tests/artifacts/NAME.png and return its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** ERRORS without the ones ALLOWED (predicates taking an error) matches; for assert.deepEqual(…, []). */
export function unexpectedErrors(errors, allowed = []) {
  return errors.filter((e) => !allowed.some((ok) => ok(e)));
}
