// upload.test.mjs -- the planners' upload page in headless Chromium: log in, upload a GeoJSON, see the report.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, logOnFailure } from '../lib/stack.mjs';
import { launchBrowser, screenshot, unexpectedErrors } from '../lib/browser.mjs';

const WAIT = { timeout: 30_000 };
const HARMLESS = [(e) => /favicon\.ico/.test(e.url) && /404/.test(e.text)];

const GEOJSON = JSON.stringify({
  type: 'FeatureCollection',
  features: [{
    type: 'Feature',
    properties: { 名称: '浏览器上传的禁采区' },
    geometry: { type: 'Polygon', coordinates: [[[117.1, 29.3], [117.11, 29.3], [117.11, 29.31], [117.1, 29.31], [117.1, 29.3]]] },
  }],
});

let stack;
let br;

before(async () => {
  stack = await startStack();
  br = await launchBrowser();
}, { timeout: 180_000 });

after(async () => {
  if (br) await br.close();
  if (stack) await stack.stop();
});

test('upload page: log in, upload a GeoJSON, see the report and the layer', { timeout: 120_000 }, logOnFailure(() => stack, async () => {
  const { page, errors } = br;
  await page.goto(`${stack.http}/upload.html`);
  await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal((await page.textContent('label[for=kind]')).trim(), '图层类型');
  await page.fill('#login-user', 'admin');
  await page.fill('#login-password', stack.adminPassword);
  await page.click('#login-submit');
  await page.locator('#upload-form').waitFor({ state: 'visible', ...WAIT });

  await page.setInputFiles('#file', { name: '禁采区测试.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(GEOJSON) });
  assert.equal(await page.inputValue('#name'), '禁采区测试');
  await page.selectOption('#kind', 'no_mining');
  await screenshot(page, 'upload-form');
  await page.click('#upload-submit');
  await page.locator('#report').waitFor({ state: 'visible', ...WAIT });
  assert.equal((await page.textContent('#report-layer')).trim(), '禁采区测试');
  assert.equal((await page.textContent('#report-version')).trim(), '1');
  assert.equal((await page.textContent('#report-features')).trim(), '1');
  assert.equal((await page.textContent('#report-kind')).trim(), '禁采区');
  await page.locator('#versions tbody tr').first().waitFor(WAIT);
  assert.match(await page.textContent('#versions tbody tr'), /admin.*禁采区测试\.geojson/);
  await screenshot(page, 'upload-report');

  const token = await stack.login();
  const layers = await stack.api('GET', '/api/layers', null, token);
  assert.ok(layers.json.some((l) => l.name === '禁采区测试' && l.kind === 'no_mining' && l.version === 1),
    JSON.stringify(layers.json));

  // a bad file shows the server's error line
  await page.setInputFiles('#file', { name: 'broken.geojson', mimeType: 'application/geo+json', buffer: Buffer.from('{"type":') });
  await page.click('#upload-submit');
  await page.locator('#upload-error').waitFor({ state: 'visible', ...WAIT });
  assert.match(await page.textContent('#upload-error'), /broken\.geojson/);

  // English, and the language is remembered for the map page
  await page.click('#lang-toggle');
  assert.equal((await page.textContent('label[for=kind]')).trim(), 'Layer kind');
  assert.equal(await page.evaluate(() => localStorage.getItem('shorewatch.lang')), 'en');
  await screenshot(page, 'upload-english');
  const bad = unexpectedErrors(errors, [...HARMLESS, (e) => /status of 400/.test(e.text)]);
  assert.deepEqual(bad, []);
}));
