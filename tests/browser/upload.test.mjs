// upload.test.mjs -- the planners' upload page in headless Chromium: log in, upload a GeoJSON with one invalid
// and one empty geometry, read the whole load report (Chinese, then English), and see the new layer drawn on
// the map: live in a map tab that was already open (the load's `layer` event over the WebSocket), and on a
// map page opened afterwards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, logOnFailure } from '../lib/stack.mjs';
import { launchBrowser, screenshot, unexpectedErrors } from '../lib/browser.mjs';

const WAIT = { timeout: 30_000 };
const HARMLESS = [(e) => /favicon\.ico/.test(e.url) && /404/.test(e.text)];
const LAYER = '禁采区测试';

// Three features in the map's start view (the demo reach, 117.13 E 29.325 N, zoom 11.3): a square, a
// self-intersecting bow tie (repaired into two triangles) and one without a geometry (skipped).
const GEOJSON = JSON.stringify({
  type: 'FeatureCollection',
  features: [
    {
      type: 'Feature',
      properties: { 名称: '浏览器上传的禁采区', 编号: 'NM-1' },
      geometry: { type: 'Polygon', coordinates: [[[117.1, 29.3], [117.11, 29.3], [117.11, 29.31], [117.1, 29.31], [117.1, 29.3]]] },
    },
    {
      type: 'Feature',
      properties: { 名称: '蝴蝶结禁采区', 编号: 'NM-2' },
      geometry: { type: 'Polygon', coordinates: [[[117.14, 29.3], [117.16, 29.32], [117.16, 29.3], [117.14, 29.32], [117.14, 29.3]]] },
    },
    { type: 'Feature', properties: { 名称: '没有几何的要素', 编号: 'NM-3' }, geometry: null },
  ],
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

/** The map page in PAGE, logged in as admin; resolves once the map and the live feed are up. */
async function openMap(page, login) {
  await page.goto(`${stack.http}/`);
  if (login) {
    await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', stack.adminPassword);
    await page.click('#login-submit');
  }
  await page.locator('#app-view').waitFor({ state: 'visible', ...WAIT });
  await page.waitForFunction(() => window.shorewatch.mapLoaded && window.shorewatch.ws === 'open', null, WAIT);
}

/** Waits until layer NAME is a vector source on PAGE's map with at least N features drawn. */
async function waitDrawn(page, name, n) {
  await page.waitForFunction(([l, k]) => {
    const sw = window.shorewatch;
    return sw.layers.some((x) => x.name === l && x.source === 'vector') && sw.renderedFeatures()[l] >= k;
  }, [name, n], WAIT);
}

const rows = (page, sel) => page.$$eval(`${sel} tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));

test('upload page: the load report, and the new layer drawn on the map', { timeout: 180_000 }, logOnFailure(() => stack, async (t) => {
  const { page, context, errors } = br;
  // a second tab with the map open before the upload; its console errors count too
  const mapPage = await context.newPage();
  mapPage.on('console', (msg) => {
    if (msg.type() === 'error') errors.push({ kind: 'console', text: msg.text(), url: msg.location()?.url || '' });
  });
  mapPage.on('pageerror', (err) => errors.push({ kind: 'pageerror', text: String(err?.stack || err), url: '' }));
  let failed = null;
  const step = (name, fn) => t.test(name, { skip: failed ? `after "${failed}" failed` : false }, async () => {
    try {
      await fn();
    } catch (e) {
      failed = name;
      e.message += `\nconsole/page errors so far: ${JSON.stringify(errors, null, 1)}`;
      throw e;
    }
  });

  await step('a map tab is open, logged in, with no layers yet', async () => {
    await openMap(mapPage, true);
    assert.deepEqual(await mapPage.evaluate(() => window.shorewatch.layers), []);
  });

  await step('upload page: log in, upload with skipping, the report in Chinese', async () => {
    await page.goto(`${stack.http}/upload.html`);
    await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await page.title(), '图层上传');
    assert.equal((await page.textContent('label[for=kind]')).trim(), '图层类型');
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', stack.adminPassword);
    await page.click('#login-submit');
    await page.locator('#upload-form').waitFor({ state: 'visible', ...WAIT });

    await page.setInputFiles('#file', { name: `${LAYER}.geojson`, mimeType: 'application/geo+json', buffer: Buffer.from(GEOJSON) });
    assert.equal(await page.inputValue('#name'), LAYER);
    await page.selectOption('#kind', 'no_mining');
    await page.check('#skip-invalid');
    await screenshot(page, 'upload-form');
    await page.click('#upload-submit');
    await page.waitForFunction(() => !document.getElementById('report').hidden
      || !document.getElementById('upload-error').hidden, null, WAIT);
    assert.equal(await page.isVisible('#upload-error'), false, await page.textContent('#upload-error'));
    await page.locator('#report').waitFor({ state: 'visible', ...WAIT });

    const text = async (id) => (await page.textContent(`#report-${id}`)).trim();
    assert.equal(await text('layer'), LAYER);
    assert.equal(await text('kind'), '禁采区');
    assert.equal(await text('version'), '1');
    assert.equal(await text('features'), '2');
    assert.equal(await text('repaired'), '1');
    assert.equal(await text('skipped'), '1');
    assert.match(await text('source_srs'), /(4326|CRS84).*（文件自带）$/);
    assert.equal(await text('driver'), 'GeoJSON');
    assert.equal(await text('loaded_by'), 'admin');
    assert.equal(await text('source_file'), `${LAYER}.geojson`);
    assert.equal(await page.isVisible('#report-closed_polylines'), false, 'no DXF polylines to mention');

    // the repaired feature: its row in the file, source fid, stored id and PostGIS's reason in Chinese
    const repaired = await rows(page, '#repaired-table');
    assert.equal(repaired.length, 1);
    const [row, fid, id, reason] = repaired[0];
    assert.deepEqual([row, fid], ['#2', '1']);
    assert.match(id, /^\d+$/);
    assert.match(reason, /^自相交（位于 117\.15 29\.31）$/);
    const token = await stack.login();
    const stored = await stack.api('GET', `/collections/${encodeURIComponent(LAYER)}/items/${id}`, null, token);
    assert.equal(stored.status, 200, 'the listed id is the stored feature');
    assert.equal(stored.json.properties.名称, '蝴蝶结禁采区');
    assert.equal(stored.json.geometry.type, 'MultiPolygon');
    assert.deepEqual(await rows(page, '#skipped-table'), [['#3', '2', '空几何']]);
    assert.equal(await page.isVisible('#report-warnings-box'), false);

    await page.locator('#versions tbody tr').first().waitFor(WAIT);
    assert.match(await page.textContent('#versions tbody tr'), new RegExp(`admin.*${LAYER}\\.geojson`));
    await page.locator('#report').scrollIntoViewIfNeeded();
    await screenshot(page, 'upload-report');

    const layers = await stack.api('GET', '/api/layers', null, token);
    assert.ok(layers.json.some((l) => l.name === LAYER && l.kind === 'no_mining' && l.version === 1), JSON.stringify(layers.json));
  });

  await step('the open map draws the new layer from its tiles, live', async () => {
    await waitDrawn(mapPage, LAYER, 2);
    const info = (await mapPage.evaluate(() => window.shorewatch.layers)).find((l) => l.name === LAYER);
    assert.deepEqual({ kind: info.kind, version: info.version, features: info.features },
      { kind: 'no_mining', version: 1, features: 2 });
    assert.match(await mapPage.textContent('#legend'), /禁采区/);
    // clicking it shows its attributes
    const at = await mapPage.evaluate((n) => window.shorewatch.findRenderedPoint(n), LAYER);
    assert.ok(at, 'the new layer is visible in the start view');
    await mapPage.mouse.click(at.x, at.y);
    const popup = mapPage.locator('.zone-popup');
    await popup.waitFor({ state: 'visible', ...WAIT });
    const popupText = await popup.textContent();
    assert.match(popupText, /禁采区/);
    assert.match(popupText, /浏览器上传的禁采区|蝴蝶结禁采区/);
    assert.match(popupText, new RegExp(LAYER));
    await screenshot(mapPage, 'upload-on-map');
  });

  await step('a bad file shows the server\'s error line', async () => {
    await page.setInputFiles('#file', { name: 'broken.geojson', mimeType: 'application/geo+json', buffer: Buffer.from('{"type":') });
    await page.click('#upload-submit');
    await page.locator('#upload-error').waitFor({ state: 'visible', ...WAIT });
    assert.match(await page.textContent('#upload-error'), /broken\.geojson/);
  });

  await step('English: the form and the report, remembered for the map page', async () => {
    await page.click('#lang-toggle');
    assert.equal((await page.textContent('label[for=kind]')).trim(), 'Layer kind');
    assert.equal(await page.title(), 'Layer upload');
    assert.equal(await page.evaluate(() => localStorage.getItem('shorewatch.lang')), 'en');
    assert.equal((await page.textContent('#report-kind')).trim(), 'No-mining zones');
    assert.match((await page.textContent('#report-source_srs')).trim(), /\(from the file\)$/);
    const [[, , , reason]] = await rows(page, '#repaired-table');
    assert.equal(reason, 'Self-intersection at 117.15 29.31');
    assert.deepEqual(await rows(page, '#skipped-table'), [['#3', '2', 'empty geometry']]);
    await page.locator('#report').scrollIntoViewIfNeeded();
    await screenshot(page, 'upload-english');
  });

  await step('a map page opened now draws the layer too', async () => {
    await page.click('#back-to-map');
    await openMap(page, false); // the session carries over within the tab
    await waitDrawn(page, LAYER, 2);
    assert.match(await page.textContent('#legend'), /No-mining zone/);
  });

  await step('no unexpected console or page errors', async () => {
    const bad = unexpectedErrors(errors, [...HARMLESS, (e) => /status of 400/.test(e.text)]);
    assert.deepEqual(bad, []);
  });
}));
