// map.test.mjs -- the map page in headless Chromium against the real server, demo data and a live demo fleet.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { launchBrowser, screenshot, unexpectedErrors } from '../lib/browser.mjs';

const WAIT = { timeout: 60_000 }; // the server, database and simulator take ~10 s to get going
const DEMO_VESSELS = 20;

// Console errors we accept, each with the reason:
const HARMLESS = [
  // Chromium asks for /favicon.ico on its own in some versions even with a <link rel="icon">;
  // a 404 for it says nothing about the page.
  (e) => /favicon\.ico/.test(e.url) && /404/.test(e.text),
];

let stack;
let sim;
let br;

before(async () => {
  stack = await startStack({ demo: true });
  sim = stack.startSim(['--interval', '1']);
  // A browser in London: the page must still show Beijing time (UTC+8), not the browser's zone.
  br = await launchBrowser({ timezoneId: 'Europe/London' });
}, { timeout: 180_000 });

after(async () => {
  if (br) await br.close();
  if (stack) await stack.stop(); // also stops the simulator
});

/** "YYYY-MM-DD HH:MM:SS" of ISO in Asia/Shanghai, computed here in Node, independent of the page. */
function beijing(iso) {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

async function api(path, token) {
  const res = await fetch(`${stack.http}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

const TILE_RE = /\/tiles\/([^/?]+)\/(\d+)\/(\d+)\/(\d+)\.mvt(\?|$)/;

test('map page: login, layers, live vessels, hover, English', { timeout: 300_000 }, async (t) => {
  const { page, context, errors } = br;
  let token;
  // Every request of the page and its workers (MapLibre fetches tiles from a worker), with the
  // Authorization header it carried and the status it got.
  const requests = [];
  context.on('request', (req) => requests.push({ url: req.url(), auth: req.headers().authorization, req }));
  let failed = null;
  // Steps build on each other: after a failure the rest are skipped rather than each timing out.
  const step = (name, fn) => t.test(name, { skip: failed ? `after "${failed}" failed` : false }, async () => {
    try {
      await fn();
    } catch (e) {
      failed = name;
      e.message += `\nconsole/page errors so far: ${JSON.stringify(errors, null, 1)}`;
      throw e;
    }
  });

  await step('the login form comes first, in Chinese', async () => {
    await page.goto(`${stack.http}/`);
    await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
    // Every module loaded: main.js, the last to evaluate, defines the debug object.
    await page.waitForFunction(() => typeof window.shorewatch === 'object', null, { timeout: 15_000 });
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal((await page.textContent('label[for=login-user]')).trim(), '用户名');
    assert.equal((await page.textContent('label[for=login-password]')).trim(), '密码');
    assert.equal(await page.isVisible('#app-view'), false);
  });

  await step('a wrong password shows an error in the form', async () => {
    const before = errors.length;
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', `wrong-${Date.now()}`);
    await page.click('#login-submit');
    await page.locator('#login-error').waitFor({ state: 'visible', ...WAIT });
    assert.match(await page.textContent('#login-error'), /用户名或密码错误/);
    assert.equal(await page.isVisible('#app-view'), false);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('shorewatch.token')), null);
    await screenshot(page, 'map-login-error');
    // Chromium logs every 4xx answer as a console error; this 401 is the one we asked for.
    const expected = errors.slice(before).filter((e) => /\/api\/login$/.test(e.url) && /\b401\b/.test(e.text));
    assert.ok(expected.length <= 1);
    for (const e of expected) errors.splice(errors.indexOf(e), 1);
  });

  await step('admin logs in and the map loads', async () => {
    await page.fill('#login-password', stack.adminPassword);
    await page.click('#login-submit');
    await page.locator('#app-view').waitFor({ state: 'visible', ...WAIT });
    assert.equal(await page.isVisible('#login-view'), false);
    token = await page.evaluate(() => sessionStorage.getItem('shorewatch.token'));
    assert.ok(token, 'the token is kept in sessionStorage');
    await page.waitForFunction(() => window.shorewatch.mapLoaded, null, WAIT);
    assert.match(await page.textContent('#user-info'), /admin/);
  });

  await step('the demo layers are loaded and drawn', async () => {
    await page.waitForFunction(() => window.shorewatch.layersLoaded.length > 0, null, WAIT);
    const loaded = await page.evaluate(() => window.shorewatch.layersLoaded);
    const server = await api('/api/layers', token);
    assert.ok(server.length > 0, 'the demo data has layers');
    for (const l of server) {
      const mine = loaded.find((x) => x.name === l.name);
      assert.ok(mine, `layer ${l.name} is on the page`);
      assert.equal(mine.error, undefined, `layer ${l.name} loaded without error`);
      assert.ok(mine.features > 0, `layer ${l.name} has features`);
      if (Number.isInteger(l.features)) assert.equal(mine.features, l.features, `layer ${l.name}: all features`);
    }
    const kinds = new Set(server.map((l) => l.kind));
    for (const k of ['river', 'mining_zone', 'parking', 'no_mining', 'protection']) {
      assert.ok(kinds.has(k), `the demo has a ${k} layer`);
    }
    // Drawn, not just fetched: the river and the mining zones render features in the start view.
    const names = (kind) => server.filter((l) => l.kind === kind).map((l) => l.name);
    await page.waitForFunction(([river, zones]) => {
      const r = window.shorewatch.renderedFeatures();
      return river.some((n) => r[n] > 0) && zones.some((n) => r[n] > 0);
    }, [names('river'), names('mining_zone')], WAIT);
    // From the vector tiles: one vector source per layer at its current version, tiles fetched
    // with the login token and answered, no GeoJSON download of whole collections.
    for (const l of server) {
      const mine = loaded.find((x) => x.name === l.name);
      assert.equal(mine.source, 'tiles', `layer ${l.name} is drawn from tiles`);
      assert.equal(mine.version, l.version, `layer ${l.name}: current version`);
    }
    const onPage = await page.evaluate(() => window.shorewatch.layers);
    for (const l of server) assert.equal(onPage.find((x) => x.name === l.name)?.source, 'vector', l.name);
    const tiles = requests.filter((r) => TILE_RE.test(r.url));
    for (const n of [...names('river'), ...names('mining_zone')]) {
      assert.ok(tiles.some((r) => decodeURIComponent(TILE_RE.exec(r.url)[1]) === n), `tiles of ${n} requested`);
    }
    for (const r of tiles) {
      assert.ok(r.url.startsWith(`${stack.http}/tiles/`), `${r.url} is same-origin`);
      assert.equal(r.auth, `Bearer ${token}`, `${r.url} carries the token`);
      const res = await r.req.response();
      if (res) assert.ok([200, 204, 304].includes(res.status()), `${r.url}: ${res.status()}`);
    }
    assert.deepEqual(requests.filter((r) => /\/collections\//.test(r.url)).map((r) => r.url), [],
      'no GeoJSON downloads');
    const legend = await page.textContent('#legend');
    for (const word of ['河道', '可采区', '集中停放点', '禁采区', '水源保护区']) assert.ok(legend.includes(word), word);
  });

  await step('vessels arrive and move over the WebSocket', async () => {
    await page.waitForFunction(() => window.shorewatch.ws === 'open', null, WAIT);
    assert.equal((await page.textContent('#ws-status')).trim(), '已连接');
    await page.waitForFunction((n) => window.shorewatch.vessels.size >= n, DEMO_VESSELS, WAIT);
    await page.waitForFunction(() => window.shorewatch.positionsReceived > 0, null, WAIT);
    const first = await page.evaluate(() =>
      [...window.shorewatch.vessels.values()].filter((v) => v.lon !== null).map((v) => [v.id, v.lon, v.lat]));
    // Some vessel's coordinates differ from the first observation: it moved.
    await page.waitForFunction((seen) => {
      const now = window.shorewatch.vessels;
      return seen.some(([id, lon, lat]) => {
        const v = now.get(id);
        return v && (v.lon !== lon || v.lat !== lat);
      });
    }, first, WAIT);
    const rows = await page.locator('#vessel-list .vessel-row').count();
    assert.equal(rows, await page.evaluate(() => window.shorewatch.vessels.size));
    await screenshot(page, 'map-live');
  });

  await step('report times are shown in Beijing time (UTC+8)', async () => {
    let last;
    for (let i = 0; i < 5; i++) {
      // Read right after an animation frame, when the page has drawn what it holds.
      last = await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => {
        const v = [...window.shorewatch.vessels.values()].find((x) => x.time);
        const row = document.querySelector(`#vessel-list [data-vessel-id="${v.id}"] .vessel-time`);
        resolve({ time: v.time, title: row.title });
      })));
      if (last.title.startsWith(beijing(last.time))) break;
    }
    assert.ok(last.title.startsWith(beijing(last.time)), `${last.title} shows ${last.time} in UTC+8`);
  });

  await step('clicking a zone shows its attributes with their Chinese names', async () => {
    const server = await api('/api/layers', token);
    const zones = server.filter((l) => l.kind === 'mining_zone').map((l) => l.name);
    let at = null;
    for (const name of zones) {
      at = await page.evaluate((n) => window.shorewatch.findRenderedPoint(n), name);
      if (at) break;
    }
    assert.ok(at, 'a mining zone is visible in the start view');
    await page.mouse.click(at.x, at.y);
    const popup = page.locator('.zone-popup');
    await popup.waitFor({ state: 'visible', ...WAIT });
    const text = await popup.textContent();
    assert.match(text, /可采区/);
    assert.match(text, /名称/, 'attribute names stay in Chinese');
    await screenshot(page, 'map-zone-popup');
    await page.click('.zone-popup .maplibregl-popup-close-button');
  });

  await step('a new layer version is redrawn from fresh tiles on its live event', async () => {
    const server = await api('/api/layers', token);
    const zones = server.find((l) => l.kind === 'mining_zone');
    const prot = server.find((l) => l.kind === 'protection');
    // Version 2 of the mining zones: all of version 1 plus a zone where the (visible) protection zone is.
    const fc = await api(`/collections/${encodeURIComponent(zones.name)}/items?limit=10000`, token);
    const shape = (await api(`/collections/${encodeURIComponent(prot.name)}/items?limit=1`, token)).features[0].geometry;
    const file = path.join(stack.tmp, 'zones-v2.geojson');
    fs.writeFileSync(file, JSON.stringify({
      type: 'FeatureCollection',
      features: [...fc.features.map((f) => ({ type: 'Feature', properties: f.properties, geometry: f.geometry })),
        { type: 'Feature', properties: { code: 'MZ-T1', 名称: '测试新增可采区' }, geometry: shape }],
    }));
    const before = (await page.evaluate(() => window.shorewatch.renderedFeatures()))[zones.name];
    await stack.cli(['load', '--kind', 'mining_zone', '--name', zones.name, '--code-field', 'code', file]);
    const version = zones.version + 1;
    assert.equal((await api('/api/layers', token)).find((l) => l.name === zones.name).version, version);
    // The event as the server sends it after a load (delivered here straight to the live handlers).
    await page.evaluate(async (ev) => {
      const map = await import('/js/map.js');
      await map.refreshLayer(ev);
    }, { type: 'layer', layer: zones.name, kind: 'mining_zone', version, features: fc.features.length + 1 });
    const mine = (await page.evaluate(() => window.shorewatch.layers)).find((l) => l.name === zones.name);
    assert.equal(mine.version, version);
    assert.equal(mine.features, fc.features.length + 1);
    assert.equal((await page.evaluate(() => window.shorewatch.layersLoaded)).find((l) => l.name === zones.name).version, version);
    await page.waitForFunction(([n, b]) => window.shorewatch.renderedFeatures()[n] > b, [zones.name, before], WAIT);
    const fresh = requests.filter((r) => TILE_RE.test(r.url) && r.url.endsWith(`?v=${version}`));
    assert.ok(fresh.length > 0, 'tiles of the new version are fetched past the browser cache');
    for (const r of fresh) assert.equal(r.auth, `Bearer ${token}`);
    assert.match(await page.textContent('#legend'), /可采区/);
  });

  await step('a vessel row opens its details; hovering a vessel shows its name', async () => {
    const target = await page.evaluate(() => {
      const v = [...window.shorewatch.vessels.values()].find((x) => x.lon !== null);
      return { id: v.id, name: v.name };
    });
    await page.click(`#vessel-list [data-vessel-id="${target.id}"]`);
    await page.locator('#vessel-details').waitFor({ state: 'visible', ...WAIT });
    assert.ok((await page.textContent('#vessel-details')).includes(target.name));
    await page.waitForFunction(() => !window.shorewatch.mapMoving, null, WAIT);
    await screenshot(page, 'map-vessel-details');
    await page.click('#vd-close');
    await page.locator('#vessel-details').waitFor({ state: 'hidden', ...WAIT });

    const p = await page.evaluate((id) => window.shorewatch.vesselScreenPoint(id), target.id);
    await page.mouse.move(p.x + 40, p.y + 40);
    await page.mouse.move(p.x, p.y, { steps: 4 });
    const hover = page.locator('.hover-popup');
    await hover.waitFor({ state: 'visible', ...WAIT });
    const text = await hover.textContent();
    // Vessels lying together at a parking point overlap; the popup names the one on top, which
    // must be a vessel under the pointer.
    const near = await page.evaluate(({ x, y }) => [...window.shorewatch.vessels.values()].filter((v) => {
      const q = window.shorewatch.vesselScreenPoint(v.id);
      return q && Math.hypot(q.x - x, q.y - y) <= 12;
    }).map((v) => v.name), p);
    assert.ok(near.includes(target.name));
    assert.ok(near.some((n) => text.includes(n)), `hover popup "${text}" names one of ${near.join(', ')}`);
    await screenshot(page, 'map-hover');
    await page.mouse.move(5, 300);
  });

  await step('English switch, remembered across a reload', async () => {
    await page.click('#lang-toggle');
    await page.waitForFunction(() => document.documentElement.lang === 'en', null, WAIT);
    assert.match(await page.textContent('#legend'), /Mining zone/);
    assert.match(await page.textContent('#legend'), /River/);
    assert.equal((await page.textContent('#ws-status')).trim(), 'Connected');
    assert.equal((await page.textContent('#logout')).trim(), 'Log out');
    assert.equal(await page.evaluate(() => localStorage.getItem('shorewatch.lang')), 'en');
    await screenshot(page, 'map-english');

    await page.reload();
    await page.waitForFunction(() => window.shorewatch.mapLoaded && window.shorewatch.ws === 'open', null, WAIT);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.textContent('.panel-vessels h2'), /Vessels/);
    assert.equal(await page.isVisible('#login-view'), false, 'the session survives a reload');
  });

  await step('logout returns to the login form', async () => {
    await page.click('#logout');
    await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('shorewatch.token')), null);
    assert.equal((await page.textContent('#login-submit')).trim(), 'Sign in');
  });

  await step('no console or page errors', async () => {
    assert.deepEqual(unexpectedErrors(errors, HARMLESS), []);
  });
});
