// alerts.test.mjs -- the alert panel of the map page in headless Chromium against the real server:
// a demo sand-mining vessel reported inside the demo water-source protection zone opens a
// protection_zone alert, which must appear in the panel at once (no reload), fly the map to it and
// draw its evidence, and take an acknowledgement with a note; an alert raised while the page's live
// feed is down must arrive after the reconnect, replayed from the seq the page had reached.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitUntil } from '../lib/stack.mjs';
import { launchBrowser, screenshot, unexpectedErrors } from '../lib/browser.mjs';

const WAIT = { timeout: 60_000 };
const HARMLESS = [
  (e) => /favicon\.ico/.test(e.url) && /404/.test(e.text),
];
// Inside the demo protection zone PZ-01 (schema/demo/protection.geojson), well away from its edges.
const INSIDE = { lon: 117.2392, lat: 29.3800 };
const ZONE = 'demo_protection/PZ-01';

let stack;
let br;
let feed; // a Node WebSocket client on the same feed, to check the events themselves

before(async () => {
  stack = await startStack({ demo: true });
  br = await launchBrowser();
}, { timeout: 180_000 });

after(async () => {
  if (feed) feed.close();
  if (br) await br.close();
  if (stack) await stack.stop();
});

/** ISO-8601 in Beijing time with its offset, as terminals' platforms send it. */
function iso(ms) {
  const d = new Date(ms + 8 * 3600_000);
  return `${d.toISOString().slice(0, 19)}+08:00`;
}

/**
 * Positions of VESSEL every 10 s over the last ~2 minutes of device time, inside the protection
 * zone, drifting slowly: more than the zone dwell (60 s) inside, none of them late (< 120 s old).
 */
function visit(vessel, at = INSIDE) {
  const now = Date.now() - 2000;
  const out = [];
  for (let i = 0; i < 11; i++) {
    out.push({
      vessel, time: iso(now - (100 - i * 10) * 1000),
      lon: at.lon + i * 0.00001, lat: at.lat + i * 0.00002, speed_kn: 1.2, course: 20,
    });
  }
  return out;
}

async function api(method, path, body, token) {
  const r = await stack.api(method, path, body, token);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}

/** The page's copy of the alert of VESSEL and KIND, or undefined. */
const pageAlert = (page, vessel, kind = 'protection_zone') => page.evaluate(([v, k]) =>
  window.shorewatch.alerts.list.find((a) => a.vessel === v && a.kind === k), [vessel, kind]);

test('alert panel: a live alert, its evidence, acknowledgement, and resume after a dropped feed', { timeout: 420_000 }, async (t) => {
  const { page, context, errors } = br;
  const requests = [];
  context.on('request', (req) => requests.push({ url: req.url(), method: req.method(), at: Date.now() }));
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  let failed = null;
  // Steps build on each other: after a failure the rest are skipped rather than each timing out.
  const step = (name, fn) => t.test(name, { skip: failed ? `after "${failed}" failed` : false }, async () => {
    try {
      await fn();
    } catch (e) {
      failed = name;
      const tail = stack.serverLog().split('\n').slice(-40).join('\n');
      e.message += `\nconsole/page errors so far: ${JSON.stringify(errors, null, 1)}\n--- server log (tail) ---\n${tail}`;
      throw e;
    }
  });

  let token;
  let vesselA;
  let vesselB;
  let alertA;

  await step('admin logs in; the alert panel is there, in Chinese, with its list loaded', async () => {
    token = await stack.login();
    const vessels = await api('GET', '/api/vessels', null, token);
    const mining = vessels.filter((v) => v.kind === 'sand_mining').sort((a, b) => a.id - b.id);
    assert.ok(mining.length >= 2, 'the demo has sand-mining vessels');
    [vesselA, vesselB] = mining;
    feed = await stack.ws(token);

    await page.goto(`${stack.http}/`);
    await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', stack.adminPassword);
    await page.click('#login-submit');
    await page.locator('#app-view').waitFor({ state: 'visible', ...WAIT });
    await page.waitForFunction(() => window.shorewatch.mapLoaded && window.shorewatch.ws === 'open', null, WAIT);
    await page.waitForFunction(() => window.shorewatch.alerts.loaded, null, WAIT);
    const snap = await page.evaluate(() => window.shorewatch.alerts);
    assert.equal(snap.error, null, 'the alert list loaded');
    assert.deepEqual(snap.filter, { state: 'active', kind: '' }, 'active alerts by default');
    assert.ok(Number.isInteger(snap.seq), `the list's seq is kept for a resume (${snap.seq})`);
    assert.equal((await page.textContent('#alerts-heading')).replace(/\s+/g, ' ').trim().split(' ')[0], '告警');
    assert.equal((await page.textContent('#alert-open-count')).trim(), String(snap.open));
    const kinds = await page.$$eval('#alert-kind option', (os) => os.map((o) => o.textContent.trim()));
    for (const k of ['非法停靠', '越界作业', '超时作业', '禁采区闯入', '水源保护区闯入', '无证作业', '未登记终端', '离线', '位置跳变', '设备报警']) {
      assert.ok(kinds.includes(k), `kind filter offers ${k}`);
    }
    // Marks this document: the alert must arrive without a reload.
    await page.evaluate(() => { window.alertTestMark = 1; });
  });

  await step('a vessel in the protection zone opens an alert that appears at once, highlighted, with a tone', async () => {
    const before = await page.evaluate(() => window.shorewatch.alerts);
    const r = await api('POST', '/api/positions', visit(vesselA.id), token);
    assert.equal(r.accepted, 11, JSON.stringify(r));
    await page.waitForFunction((v) => window.shorewatch.alerts.list.some((a) =>
      a.vessel === v && a.kind === 'protection_zone' && a.state === 'open'), vesselA.id, WAIT);
    assert.equal(await page.evaluate(() => window.alertTestMark), 1, 'no reload');
    alertA = await pageAlert(page, vesselA.id);

    // The event itself, as the contract has it.
    const ev = await feed.next((e) => e.type === 'alert' && e.id === alertA.id, 10_000);
    assert.ok(Number.isInteger(ev.seq), 'alert events carry a seq');
    assert.equal(ev.kind, 'protection_zone');
    assert.equal(ev.vessel, vesselA.id);
    assert.equal(ev.vessel_name, vesselA.name);
    assert.equal(ev.subject, ZONE);
    assert.ok([1, 2, 3].includes(ev.severity), `severity ${ev.severity}`);
    for (const f of ['time', 'opened', 'updated']) assert.match(ev[f], /[+-]\d\d:?\d\d$|Z$/, `${f} has an offset`);
    assert.equal(typeof ev.detail?.rule, 'string', 'detail.rule');
    assert.ok(Array.isArray(ev.evidence) && ev.evidence.length > 0, 'evidence positions');

    const row = page.locator(`#alert-list [data-alert-id="${alertA.id}"]`);
    await row.waitFor({ state: 'visible', ...WAIT });
    const text = await row.textContent();
    assert.match(text, /水源保护区闯入/);
    assert.ok(text.includes(vesselA.name), `the row names ${vesselA.name}: ${text}`);
    assert.match(text, /PZ-01/);
    assert.match(text, /未确认/);
    assert.match(await row.getAttribute('class'), new RegExp(`\\bsev-${alertA.severity}\\b`));
    assert.match(await row.getAttribute('class'), /\balert-new\b/, 'the new alert is highlighted');
    const after = await page.evaluate(() => window.shorewatch.alerts);
    assert.ok(after.sound.requested > before.sound.requested, 'a tone was asked for');
    assert.ok(after.sound.played + after.sound.blocked >= after.sound.requested, JSON.stringify(after.sound));
    assert.equal(after.open, before.open + 1);
    assert.equal((await page.textContent('#alert-open-count')).trim(), String(after.open));
    assert.ok(after.seq >= ev.seq, `the page's resume seq ${after.seq} has reached ${ev.seq}`);

    // The same alert over HTTP.
    const list = await api('GET', '/api/alerts?status=active', null, token);
    assert.ok(Number.isInteger(list.seq));
    assert.ok(list.alerts.some((a) => a.id === alertA.id && a.state === 'open'));
    await screenshot(page, 'alerts-new');
  });

  await step('the kind and state filters narrow the list', async () => {
    await page.selectOption('#alert-kind', 'offline');
    await page.waitForFunction((id) => !window.shorewatch.alerts.shown.includes(String(id)), alertA.id, WAIT);
    await page.selectOption('#alert-kind', 'protection_zone');
    await page.waitForFunction((id) => window.shorewatch.alerts.shown.includes(String(id)), alertA.id, WAIT);
    await page.selectOption('#alert-state', 'closed');
    await page.waitForFunction((id) => !window.shorewatch.alerts.shown.includes(String(id)), alertA.id, WAIT);
    assert.ok(requests.some((r) => /\/api\/alerts\?.*status=closed/.test(r.url)), 'closed alerts are fetched');
    await page.selectOption('#alert-state', 'all');
    await page.waitForFunction((id) => window.shorewatch.alerts.shown.includes(String(id)), alertA.id, WAIT);
    await page.selectOption('#alert-state', 'active');
    await page.selectOption('#alert-kind', '');
    await page.waitForFunction((id) => window.shorewatch.alerts.shown.includes(String(id)), alertA.id, WAIT);
  });

  await step('clicking the alert flies the map there, draws its evidence and shows its rule', async () => {
    const centre = await page.evaluate(() => {
      const r = document.getElementById('map').getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    await page.click(`#alert-list [data-alert-id="${alertA.id}"]`);
    await page.waitForFunction((id) => window.shorewatch.alerts.selected === id, alertA.id, WAIT);
    await page.waitForFunction(() => !window.shorewatch.mapMoving, null, WAIT);
    // The alert is put in the middle column, somewhat above the centre (room for its popup below).
    const p = await page.evaluate(([lon, lat]) => window.shorewatch.project(lon, lat), [alertA.lon, alertA.lat]);
    assert.ok(Math.abs(p.x - centre.x) < 30 && p.y < centre.y + 30 && p.y > centre.y - 250,
      `the alert at ${JSON.stringify(p)} is brought to the middle ${JSON.stringify(centre)}`);
    const evidence = (await pageAlert(page, vesselA.id)).evidence.length;
    assert.ok(evidence > 0);
    const drawn = await page.waitForFunction((n) => {
      const r = window.shorewatch.alertEvidenceRendered();
      return r.fix >= Math.min(n, 2) && r.at === 1 && (n < 2 || r.track >= 1) ? r : null;
    }, evidence, WAIT);
    assert.ok((await drawn.jsonValue()).fix > 0);
    const popup = page.locator('.alert-popup');
    await popup.waitFor({ state: 'visible', ...WAIT });
    const text = await popup.textContent();
    assert.match(text, /水源保护区闯入/);
    assert.ok(text.includes(alertA.detail.rule), `the popup shows the rule "${alertA.detail.rule}"`);
    assert.match(text, /规则/);
    assert.ok(await page.isVisible('.alert-popup .alert-ack-submit'), 'admin may acknowledge');
    assert.match(await page.getAttribute(`#alert-list [data-alert-id="${alertA.id}"]`, 'class'), /\bselected\b/);
    await screenshot(page, 'alerts-evidence');
  });

  await step('acknowledging with a note: state acknowledged everywhere', async () => {
    const note = `已电话通知船主驶离 ${Date.now()}`;
    // A note is required.
    await page.click('.alert-popup .alert-ack-submit');
    await page.locator('.alert-popup .alert-ack-error').waitFor({ state: 'visible', ...WAIT });
    await page.fill('.alert-popup .alert-ack-note', note);
    await page.click('.alert-popup .alert-ack-submit');
    await page.waitForFunction((v) => window.shorewatch.alerts.list.find((a) =>
      a.vessel === v && a.kind === 'protection_zone')?.state === 'acknowledged', vesselA.id, WAIT);
    const row = `#alert-list [data-alert-id="${alertA.id}"]`;
    await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.state === 'acknowledged', row, WAIT);
    assert.match(await page.textContent(row), /已确认/);
    await page.waitForFunction(() => !document.querySelector('.alert-popup .alert-ack'), null, WAIT);
    assert.ok((await page.textContent('.alert-popup')).includes(note), 'the popup shows the note');
    const ev = await feed.next((e) => e.type === 'alert' && e.id === alertA.id && e.state === 'acknowledged', 10_000);
    assert.equal(ev.ack?.note, note);
    assert.equal(ev.ack?.by, 'admin');
    const one = await api('GET', `/api/alerts/${alertA.id}`, null, token);
    assert.equal(one.state, 'acknowledged');
    assert.equal(one.ack?.note, note);
    const snap = await page.evaluate(() => window.shorewatch.alerts);
    assert.equal((await page.textContent('#alert-open-count')).trim(), String(snap.open));
    await screenshot(page, 'alerts-acknowledged');
    await page.click('.alert-popup .maplibregl-popup-close-button');
  });

  await step('an alert raised while the feed is down arrives after the reconnect (resume with since)', async () => {
    const seqBefore = await page.evaluate(() => window.shorewatch.alerts.seq);
    const socketsBefore = sockets.length;
    assert.ok(await page.evaluate(() => window.shorewatch.dropLive({ hold: true })), 'the feed was dropped');
    await page.waitForFunction(() => window.shorewatch.ws !== 'open', null, WAIT);

    const r = await api('POST', '/api/positions', visit(vesselB.id, { lon: INSIDE.lon - 0.0006, lat: INSIDE.lat + 0.001 }), token);
    assert.equal(r.accepted, 11, JSON.stringify(r));
    const evB = await feed.next((e) => e.type === 'alert' && e.vessel === vesselB.id && e.kind === 'protection_zone', 30_000);
    assert.ok(evB.seq > seqBefore, `the new event's seq ${evB.seq} is after ${seqBefore}`);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(await pageAlert(page, vesselB.id), undefined, 'the page cannot know it yet');
    assert.equal(await page.evaluate(() => window.shorewatch.alerts.seq), seqBefore);

    const resumedAt = Date.now();
    await page.evaluate(() => window.shorewatch.resumeLive());
    await page.waitForFunction(() => window.shorewatch.ws === 'open', null, WAIT);
    // The reconnect asked for what followed seqBefore...
    assert.equal(await page.evaluate(() => window.shorewatch.liveSince), seqBefore);
    const again = sockets.slice(socketsBefore);
    assert.ok(again.length >= 1, 'the page reconnected');
    const url = again[again.length - 1];
    assert.match(url, new RegExp(`[?&]since=${seqBefore}(&|$)`), url);
    // ...and the server replays it at once.
    try {
      await page.waitForFunction((v) => window.shorewatch.alerts.list.some((a) =>
        a.vessel === v && a.kind === 'protection_zone' && a.state === 'open'), vesselB.id, { timeout: 20_000 });
    } catch (e) {
      e.message += `\nthe page reconnected to ${url.replace(/token=[^&]*/, 'token=…')} but alert ${evB.id} `
        + `(event seq ${evB.seq} > since ${seqBefore}) was not replayed`;
      throw e;
    }
    const alertB = await pageAlert(page, vesselB.id);
    assert.equal(alertB.id, evB.id);
    // It came from the replay: the page did not fetch the alert list again.
    assert.deepEqual(requests.filter((q) => q.at >= resumedAt && /\/api\/alerts(\?|$)/.test(q.url)).map((q) => q.url), []);
    const snap = await page.evaluate(() => window.shorewatch.alerts);
    assert.ok(snap.seq >= evB.seq, `the resume seq moved on to ${snap.seq}`);
    assert.ok(snap.highlighted.includes(alertB.id), 'the replayed new alert is highlighted');
    await page.locator(`#alert-list [data-alert-id="${alertB.id}"]`).waitFor({ state: 'visible', ...WAIT });
    // The first alert is still there, still acknowledged: the replay did not undo it.
    assert.equal((await pageAlert(page, vesselA.id)).state, 'acknowledged');
    await screenshot(page, 'alerts-resumed');
  });

  await step('a viewer sees the alert but no acknowledge button (and the server refuses one)', async () => {
    // A viewer account with the admin's password hash, so the same password logs it in.
    await stack.sql("INSERT INTO users (username, password_hash, role) SELECT 'watcher', password_hash, 'viewer' FROM users WHERE username = 'admin'");
    await page.click('#logout');
    await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
    assert.equal(await page.locator('#alert-list .alert-row').count(), 0, 'logout empties the panel');
    await page.fill('#login-user', 'watcher');
    await page.fill('#login-password', stack.adminPassword);
    await page.click('#login-submit');
    await page.waitForFunction(() => window.shorewatch.mapLoaded && window.shorewatch.alerts.loaded, null, WAIT);
    assert.match(await page.textContent('#user-info'), /watcher/);
    const alertB = await pageAlert(page, vesselB.id);
    assert.ok(alertB && alertB.state === 'open', 'the open alert is listed for the viewer');
    await page.click(`#alert-list [data-alert-id="${alertB.id}"]`);
    await page.locator('.alert-popup').waitFor({ state: 'visible', ...WAIT });
    assert.equal(await page.locator('.alert-popup .alert-ack').count(), 0, 'no acknowledge form for a viewer');
    const viewerToken = await stack.login('watcher', stack.adminPassword);
    const r = await stack.api('POST', `/api/alerts/${alertB.id}/ack`, { note: 'x' }, viewerToken);
    assert.equal(r.status, 403, `a viewer's acknowledgement: ${r.status} ${r.text}`);
    await page.click('.alert-popup .maplibregl-popup-close-button');
  });

  await step('English names of kinds and states', async () => {
    await page.click('#lang-toggle');
    await page.waitForFunction(() => document.documentElement.lang === 'en', null, WAIT);
    const row = await page.textContent(`#alert-list [data-alert-id="${alertA.id}"]`);
    assert.match(row, /Protection zone entered/);
    assert.match(row, /acknowledged/);
    assert.match(await page.textContent('#alerts-heading'), /Alerts/);
    await page.click('#lang-toggle');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN', null, WAIT);
  });

  await step('no console or page errors', async () => {
    assert.deepEqual(unexpectedErrors(errors, HARMLESS), []);
  });
});
