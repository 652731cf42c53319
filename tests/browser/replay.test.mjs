// replay.test.mjs -- the duty officer's vessel tools in headless Chromium against the real server:
// search a vessel (by name, registration, terminal, MMSI), open its details (owner, permit with
// zone and hours, last report, open alerts linking to the alert panel), follow it as positions
// arrive, replay its track (custom range entered in Beijing time from a browser in another zone,
// the slider and the speed chart driving each other, play at 600x), and export the track and an
// alert's evidence in every format, opening each file with ogrinfo.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, waitUntil } from '../lib/stack.mjs';
import { launchBrowser, screenshot, unexpectedErrors, ARTIFACTS } from '../lib/browser.mjs';

const execFileP = promisify(execFile);
const WAIT = { timeout: 60_000 };
const HARMLESS = [
  (e) => /favicon\.ico/.test(e.url) && /404/.test(e.text),
];
// Inside the demo protection zone PZ-01 (schema/demo/protection.geojson), well away from its edges.
const INSIDE = { lon: 117.2392, lat: 29.3800 };
const MMSI = '413999001';
const STEP_S = 20; // seconds between the track's positions

let stack;
let br;

before(async () => {
  stack = await startStack({ demo: true });
  // A browser in New York: the page must still read and show times in Beijing time (UTC+8).
  br = await launchBrowser({ timezoneId: 'America/New_York' });
}, { timeout: 180_000 });

after(async () => {
  if (br) await br.close();
  if (stack) await stack.stop();
});

/** ISO-8601 in Beijing time with its offset. */
function iso(ms) {
  return `${new Date(ms + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
}

/** A datetime-local value ("YYYY-MM-DDTHH:MM") of MS in Beijing time. */
function localValue(ms) {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 16);
}

const M_PER_DEG_LAT = 110_540;
const mPerDegLon = (lat) => 111_320 * Math.cos((lat * Math.PI) / 180);

/** [lon, lat] moved by DX, DY metres. */
function offset([lon, lat], dx, dy) {
  return [lon + dx / mPerDegLon(lat), lat + dy / M_PER_DEG_LAT];
}

function distance(a, b) {
  return Math.hypot((b[0] - a[0]) * mPerDegLon(a[1]), (b[1] - a[1]) * M_PER_DEG_LAT);
}

function course(a, b) {
  const dx = (b[0] - a[0]) * mPerDegLon(a[1]);
  const dy = (b[1] - a[1]) * M_PER_DEG_LAT;
  return Math.round(((Math.atan2(dx, dy) * 180) / Math.PI + 360) % 360);
}

/**
 * The test track of VESSEL through mining zone ZONE (a polygon ring) ending in the protection
 * zone, about 40 minutes up to NOW: 10 min along the zone's long axis to its middle, 12 min
 * stopped there, 16 min towards the protection zone, then 100 s inside it (recent enough for the
 * rules engine to raise a protection_zone alert).
 */
function makeTrack(vessel, ring, now) {
  const pts = ring.slice(0, -1);
  const c = [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
  // The zone's long axis: its longest edge.
  let axis = null;
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i];
    const b = pts[(i + 1) % pts.length];
    const d = distance(a, b);
    if (!axis || d > axis.d) axis = { d, ux: ((b[0] - a[0]) * mPerDegLon(a[1])) / d, uy: ((b[1] - a[1]) * M_PER_DEG_LAT) / d };
  }
  const out = [];
  const push = (ms, p, speed, crs) => out.push({
    vessel, time: iso(ms), lon: +p[0].toFixed(7), lat: +p[1].toFixed(7), speed_kn: speed, course: crs,
  });
  let ms = now - 40 * 60_000;
  // 1. Ten minutes at 3 kn from 900 m out to the zone's middle.
  const start = offset(c, -axis.ux * 900, -axis.uy * 900);
  const n1 = 30;
  for (let i = 0; i < n1; i++, ms += STEP_S * 1000) {
    const f = i / n1;
    push(ms, [start[0] + (c[0] - start[0]) * f, start[1] + (c[1] - start[1]) * f], 3.0, course(start, c));
  }
  // 2. Twelve minutes stopped in the middle of the zone (a metre or two of GPS jitter).
  const stopStart = ms;
  for (let i = 0; i < 36; i++, ms += STEP_S * 1000) push(ms, offset(c, (i % 3) - 1, (i % 2) - 0.5), 0.1, 0);
  const stopEnd = ms - STEP_S * 1000;
  // 3. Towards the protection zone, arriving 100 s before NOW.
  const n3 = Math.floor((now - 100_000 - ms) / (STEP_S * 1000));
  const dist = distance(c, [INSIDE.lon, INSIDE.lat]);
  const kn = Math.round(((dist / (n3 * STEP_S)) / 0.514444) * 10) / 10;
  for (let i = 0; i < n3; i++, ms += STEP_S * 1000) {
    const f = i / n3;
    push(ms, [c[0] + (INSIDE.lon - c[0]) * f, c[1] + (INSIDE.lat - c[1]) * f], kn, course(c, [INSIDE.lon, INSIDE.lat]));
  }
  // 4. 100 s inside the protection zone, drifting slowly.
  for (let i = 0; i <= 10; i++) {
    push(now - (100 - i * 10) * 1000, [INSIDE.lon + i * 0.00001, INSIDE.lat + i * 0.00002], 1.2, 20);
  }
  return { positions: out, stopStart, stopEnd, centre: c, first: Date.parse(out[0].time), last: now };
}

async function api(method, p, body, token) {
  const r = await stack.api(method, p, body, token);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

/** ogrinfo -ro -al FILE: {layers: {name: featureCount}, text}. */
async function ogrinfo(file) {
  const { stdout } = await execFileP('ogrinfo', ['-ro', '-al', file], { maxBuffer: 64 << 20 });
  const layers = {};
  let current = null;
  for (const line of stdout.split('\n')) {
    const ln = /^Layer name: (.*)$/.exec(line);
    if (ln) {
      current = ln[1].trim();
      layers[current] = 0;
      continue;
    }
    const f = /^OGRFeature\((.*)\):\d+/.exec(line);
    if (f) layers[f[1]] = (layers[f[1]] || 0) + 1;
  }
  return { layers, text: stdout };
}

/** Click the button SELECTOR, wait for the download it starts and save it under tests/artifacts. */
async function download(page, selector, name) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click(selector)]);
  const failure = await dl.failure();
  assert.equal(failure, null, `download of ${selector}: ${failure}`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await dl.saveAs(file);
  return { file, suggested: dl.suggestedFilename() };
}

test('vessel panel: search, details, follow, track replay with slider and chart, exports', { timeout: 480_000 }, async (t) => {
  const { page, errors } = br;
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
  let vessel;
  let zone;
  let track;
  let permitNumber;
  let alert;
  let serverTrack;

  await step('a demo vessel gets an MMSI, a permit and a 40-minute track ending in the protection zone', async () => {
    token = await stack.login();
    const vessels = await api('GET', '/api/vessels', null, token);
    vessel = vessels.filter((v) => v.kind === 'sand_mining').sort((a, b) => a.id - b.id)[0];
    assert.ok(vessel?.terminal, 'the demo has a sand-mining vessel with a terminal');
    await stack.sql('UPDATE vessels SET mmsi = $1 WHERE id = $2', [MMSI, vessel.id]);
    // The mining zone nearest the protection zone.
    const zones = (await api('GET', '/collections/demo_mining_zones/items?limit=100', null, token)).features;
    const centre = (f) => {
      const r = f.geometry.coordinates[0].slice(0, -1);
      return [r.reduce((s, p) => s + p[0], 0) / r.length, r.reduce((s, p) => s + p[1], 0) / r.length];
    };
    zone = zones.map((f) => ({ f, d: distance(centre(f), [INSIDE.lon, INSIDE.lat]) })).sort((a, b) => a.d - b.d)[0].f;
    permitNumber = `赣景采证-T${Date.now() % 100000}`;
    await stack.sql(`INSERT INTO permits (vessel_id, number, zone_layer, zone_code, valid_from, valid_to, hours_from, hours_to)
      VALUES ($1, $2, 'demo_mining_zones', $3, current_date - 30, current_date + 335, '07:00', '19:00')`,
    [vessel.id, permitNumber, zone.properties.code]);
    track = makeTrack(vessel.id, zone.geometry.coordinates[0], Date.now() - 2000);
    const r = await api('POST', '/api/positions', track.positions, token);
    assert.equal(r.accepted, track.positions.length, JSON.stringify(r));
    // The vessel's last position reaches the registry (written every 2 s) before the page loads it:
    // the live events of these positions went out before the page connected.
    await waitUntil(async () => (await api('GET', `/api/vessels/${vessel.id}`, null, token))?.last != null,
      { ms: 30_000, what: "the vessel's last position stored" });
    // The protection-zone visit raises an alert for the vessel.
    alert = await waitUntil(async () => {
      const list = await api('GET', `/api/alerts?status=active`, null, token);
      return list.alerts.find((a) => a.vessel === vessel.id && a.kind === 'protection_zone');
    }, { ms: 30_000, what: 'the protection_zone alert' });
  });

  await step('log in; the vessel list and the map load', async () => {
    await page.goto(`${stack.http}/`);
    await page.locator('#login-form').waitFor({ state: 'visible', ...WAIT });
    // Every module loaded (main.js, the last to evaluate, defines the debug object): the form is live.
    await page.waitForFunction(() => typeof window.shorewatch === 'object', null, WAIT);
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', stack.adminPassword);
    await page.click('#login-submit');
    await page.waitForFunction(() => window.shorewatch.mapLoaded && window.shorewatch.ws === 'open', null, WAIT);
    await page.waitForFunction((id) => window.shorewatch.vessels.get(id)?.lon != null, vessel.id, WAIT);
    await page.waitForFunction(() => window.shorewatch.alerts.loaded, null, WAIT);
  });

  await step('search finds the vessel by name, registration, terminal and MMSI', async () => {
    const total = await page.evaluate(() => window.shorewatch.vessels.size);
    for (const q of [vessel.name, vessel.registration.slice(-6), vessel.terminal, MMSI.slice(2)]) {
      await page.fill('#vessel-search', q);
      const shown = await page.waitForFunction(([id, text]) => {
        const l = window.shorewatch.list;
        return l.query === text.toLowerCase() && l.shown.includes(id) ? l.shown : null;
      }, [vessel.id, q], WAIT);
      const ids = await shown.jsonValue();
      assert.ok(ids.length < total, `"${q}" narrows the list (${ids.length} of ${total})`);
      const visible = await page.$$eval('#vessel-list .vessel-row:not([hidden])', (rows) => rows.map((r) => Number(r.dataset.vesselId)));
      assert.deepEqual(visible, ids, 'the visible rows are the matches');
    }
    await page.fill('#vessel-search', 'no-such-vessel-xyz');
    await page.locator('#vessel-empty').waitFor({ state: 'visible', ...WAIT });
    assert.match(await page.textContent('.panel-vessels h2'), new RegExp(`\\(0/${total}\\)`));
    await page.fill('#vessel-search', vessel.terminal);
    await page.waitForFunction((id) => window.shorewatch.list.shown[0] === id, vessel.id, WAIT);
  });

  await step('the details show owner, permit with zone and hours, last report and the open alert', async () => {
    await page.click(`#vessel-list [data-vessel-id="${vessel.id}"]`);
    const panel = page.locator('#vessel-details');
    await panel.waitFor({ state: 'visible', ...WAIT });
    assert.equal((await page.textContent('#vd-name')).trim(), vessel.name);
    const props = await page.textContent('#vd-props');
    for (const s of [vessel.registration, vessel.owner, vessel.terminal, MMSI, '采砂船']) assert.ok(props.includes(s), `details show ${s}: ${props}`);
    // The last report in Beijing time, with its age.
    const v = await page.evaluate((id) => window.shorewatch.vessels.get(id), vessel.id);
    const bj = new Date(Date.parse(v.time) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    assert.ok((await page.textContent('#vd-props .vd-last')).includes(bj), `last report ${bj} in UTC+8`);
    assert.match(await page.textContent('#vd-props .vd-last'), /秒前|分钟前/);
    // Ours among the vessel's permits (the demo data may hold others).
    const permit = page.locator('#vd-permits [data-permit-id]', { hasText: permitNumber });
    await permit.waitFor({ state: 'visible', ...WAIT });
    const ptext = await permit.textContent();
    assert.ok(ptext.includes(permitNumber), ptext);
    assert.ok(ptext.includes(zone.properties.code), `the permit's zone: ${ptext}`);
    assert.match(ptext, /07:00-19:00/);
    assert.match(ptext, /当前有效/);
    const row = page.locator(`#vd-alerts [data-alert-id="${alert.id}"]`);
    await row.waitFor({ state: 'visible', ...WAIT });
    assert.match(await row.textContent(), /水源保护区闯入/);
    // Its link shows the alert in the alert panel.
    await row.locator('.vd-alert-link').click();
    await page.waitForFunction((id) => window.shorewatch.alerts.selected === id, alert.id, WAIT);
    await page.locator('.alert-popup').waitFor({ state: 'visible', ...WAIT });
    await page.click('.alert-popup .maplibregl-popup-close-button');
    await page.waitForFunction(() => !window.shorewatch.mapMoving, null, WAIT);
    await screenshot(page, 'replay-details');
  });

  await step('follow keeps the map on the vessel as positions arrive, until the map is dragged', async () => {
    await page.click('#vd-follow');
    assert.equal(await page.getAttribute('#vd-follow', 'aria-pressed'), 'true');
    const mapCentre = () => page.evaluate(() => {
      const r = document.getElementById('map').getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    // A new position 300 m further on.
    const next = offset([INSIDE.lon + 0.0001, INSIDE.lat + 0.0002], 250, 150);
    await api('POST', '/api/positions', [{ vessel: vessel.id, time: iso(Date.now() - 500), lon: next[0], lat: next[1], speed_kn: 2, course: 60 }], token);
    await page.waitForFunction(([id, lon]) => Math.abs(window.shorewatch.vessels.get(id).lon - lon) < 1e-6, [vessel.id, next[0]], WAIT);
    await page.waitForFunction(() => !window.shorewatch.mapMoving, null, WAIT);
    await waitUntil(async () => {
      const c = await mapCentre();
      const p = await page.evaluate(([lon, lat]) => window.shorewatch.project(lon, lat), next);
      return Math.hypot(p.x - c.x, p.y - c.y) < 5;
    }, { ms: 10_000, what: 'the map centred on the followed vessel' });
    // Dragging the map stops following.
    const c = await mapCentre();
    await page.mouse.move(c.x, c.y);
    await page.mouse.down();
    await page.mouse.move(c.x - 120, c.y - 60, { steps: 6 });
    await page.mouse.up();
    await page.waitForFunction(() => !window.shorewatch.list.following, null, WAIT);
    assert.equal(await page.getAttribute('#vd-follow', 'aria-pressed'), 'false');
  });

  await step('a custom range in Beijing time loads the track: line, stops with durations, zones visited', async () => {
    await page.click('.replay-presets [data-hours="custom"]');
    await page.locator('#replay-custom').waitFor({ state: 'visible', ...WAIT });
    const from = track.first - 5 * 60_000;
    const to = Date.now() + 2 * 60_000;
    await page.fill('#replay-from', localValue(from));
    await page.fill('#replay-to', localValue(to));
    await page.click('#replay-load');
    await page.waitForFunction(() => window.shorewatch.replay.loaded || /失败|没有/.test(window.shorewatch.replay.status || ''), null, WAIT);
    const r = await page.evaluate(() => window.shorewatch.replay);
    assert.ok(r.loaded, `the track loaded: ${r.status}`);
    // The inputs were read as UTC+8 although the browser is in New York.
    assert.equal(r.from, `${localValue(from)}:00+08:00`);
    assert.equal(r.to, `${localValue(to)}:00+08:00`);
    serverTrack = await api('GET', `/api/vessels/${vessel.id}/track?${new URLSearchParams({ from: r.from, to: r.to })}`, null, token);
    const kinds = (k) => serverTrack.features.filter((f) => f.properties?.kind === k);
    assert.equal(r.positions, kinds('position').length, 'every position of the answer is in the replay');
    assert.ok(r.positions >= track.positions.length, `${r.positions} positions, ${track.positions.length} posted`);
    assert.ok(r.stops >= 1 && r.stops === kinds('stop').length, `stops: ${r.stops}`);
    assert.ok(r.zones.some((z) => z.code === zone.properties.code), `zone visits: ${JSON.stringify(r.zones)}`);
    assert.ok(r.zones.some((z) => z.layerKind === 'protection'), 'the protection zone visit is listed');
    // The stop in the zone's middle lasted about 12 minutes.
    const stop = kinds('stop').map((f) => f.properties).find((p) => Math.abs(Date.parse(p.start) - track.stopStart) < 5 * 60_000);
    assert.ok(stop && stop.duration_s >= 9 * 60 && stop.duration_s <= 14 * 60, `the 12-minute stop: ${JSON.stringify(stop)}`);
    const labels = await page.$$eval('.stop-label', (els) => els.map((e) => e.textContent));
    assert.equal(labels.length, r.stops, 'every stop is labelled on the map');
    assert.ok(labels.some((l) => /^\d+ 分$|小时/.test(l)), `stop labels: ${labels}`);
    assert.equal(await page.locator('#replay-stops .replay-stop').count(), r.stops);
    assert.ok((await page.textContent('#replay-zones')).includes(zone.properties.code));
    assert.ok(await page.isVisible('#replay-bar'));
    assert.ok(r.chart.drawn && r.chart.points === r.positions);
    assert.ok(r.chart.stops >= 1, 'stops are shaded on the chart');
    assert.equal(r.slider.max, Math.round((r.t1 - r.t0) / 1000));
    // The replay starts at the first position, in Beijing time.
    const shown = (await page.textContent('#replay-time')).trim();
    assert.equal(shown, new Date(r.t0 + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' '));
    await page.waitForFunction(() => !window.shorewatch.mapMoving, null, WAIT);
    await screenshot(page, 'replay-track');
  });

  await step('the slider moves the marker and the chart cursor; the chart moves the slider', async () => {
    const before = await page.evaluate(() => window.shorewatch.replay);
    const box = await page.locator('#replay-slider').boundingBox();
    // Half way along the slider (the thumb's travel is the box minus the thumb's width).
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const mid = await page.evaluate(() => window.shorewatch.replay);
    const frac = (mid.time - mid.t0) / (mid.t1 - mid.t0);
    assert.ok(Math.abs(frac - 0.5) < 0.06, `slider at ${frac}`);
    assert.equal(mid.slider.value, Math.round((mid.time - mid.t0) / 1000));
    const cx = mid.chart.plotLeft + frac * (mid.chart.plotRight - mid.chart.plotLeft);
    assert.ok(Math.abs(mid.chart.cursorX - cx) < 2, `chart cursor at ${mid.chart.cursorX}, expected ${cx}`);
    assert.notDeepEqual(mid.cursor, before.cursor, 'the marker moved along the track');
    // A press on the chart at a quarter of its width moves the slider there.
    const x = mid.chart.plotLeft + 0.25 * (mid.chart.plotRight - mid.chart.plotLeft);
    await page.mouse.click(x, (mid.chart.top + mid.chart.bottom) / 2);
    const q = await page.evaluate(() => window.shorewatch.replay);
    const qf = (q.time - q.t0) / (q.t1 - q.t0);
    assert.ok(Math.abs(qf - 0.25) < 0.01, `the chart set the time to ${qf}`);
    assert.ok(Math.abs(q.slider.value / q.slider.max - 0.25) < 0.01, `the slider followed: ${q.slider.value}/${q.slider.max}`);
    // A stop in the list jumps to its start.
    await page.click('#replay-stops .replay-stop >> nth=0');
    const s = await page.evaluate(() => window.shorewatch.replay);
    assert.ok(s.time >= s.t0 && s.time < q.t1);
  });

  await step('play at 600x: time, marker and chart cursor advance; pause stops them', async () => {
    await page.click('#replay-stops .replay-stop >> nth=0');
    await page.selectOption('#replay-speed', '600');
    const a = await page.evaluate(() => window.shorewatch.replay);
    await page.click('#replay-play');
    await page.waitForFunction(() => window.shorewatch.replay.playing, null, WAIT);
    await page.waitForTimeout(1200);
    const b = await page.evaluate(() => window.shorewatch.replay);
    assert.ok(b.time - a.time > 300_000, `1.2 s at 600x moved ${(b.time - a.time) / 1000} s`);
    assert.ok(b.chart.cursorX > a.chart.cursorX, `the chart cursor moved from ${a.chart.cursorX} to ${b.chart.cursorX}`);
    assert.ok(b.slider.value > a.slider.value);
    await screenshot(page, 'replay-playing');
    await page.click('#replay-play');
    await page.waitForFunction(() => !window.shorewatch.replay.playing, null, WAIT);
    const c = await page.evaluate(() => window.shorewatch.replay.time);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.shorewatch.replay.time), c, 'paused');
  });

  await step('the track exports as GeoJSON, KML, GPX and CSV that ogrinfo reads, and an evidence sheet with a SHA-256', async () => {
    const positions = serverTrack.features.filter((f) => f.properties?.kind === 'position').length;
    const counts = {};
    for (const fmt of ['geojson', 'kml', 'gpx', 'csv']) {
      const { file, suggested } = await download(page, `#replay-result [data-export="${fmt}"]`, `replay-track.${fmt}`);
      assert.ok(suggested.endsWith(`.${fmt}`), suggested);
      const info = await ogrinfo(file);
      counts[fmt] = info.layers;
      const total = Object.values(info.layers).reduce((s, n) => s + n, 0);
      assert.ok(total >= positions, `${fmt}: ${JSON.stringify(info.layers)} holds the ${positions} positions`);
    }
    // Each format holds the whole track: the line, every position, the stops and the zone visits.
    const n = (k) => serverTrack.features.filter((f) => f.properties?.kind === k).length;
    assert.equal(n('track'), 1);
    assert.equal(Object.values(counts.geojson)[0], serverTrack.features.length, `GeoJSON: ${JSON.stringify(counts.geojson)}`);
    assert.deepEqual(counts.kml, { track: 1, positions, stops: n('stop'), zone_visits: n('zone_visit') }, 'KML layers');
    assert.equal(counts.gpx.track_points, positions, `GPX: ${JSON.stringify(counts.gpx)}`);
    assert.equal(counts.gpx.waypoints, n('stop'), 'GPX waypoints are the stops');
    assert.equal(counts.gpx.tracks, 1);
    assert.equal(Object.values(counts.csv)[0], positions, `CSV rows: ${JSON.stringify(counts.csv)}`);
    console.log(`# exported ${positions} positions: ${JSON.stringify(counts)}`);
    const ev = await download(page, '#replay-result [data-export="evidence"]', 'replay-evidence.html');
    const html = fs.readFileSync(ev.file, 'utf8');
    assert.match(html, /SHA-256/i);
    assert.match(html, /\b[0-9a-f]{64}\b/i, 'the sheet carries a SHA-256 digest');
    assert.ok(html.includes(vessel.name), 'the sheet names the vessel');
    assert.match(await page.textContent('#replay-export-status'), /已导出/);
  });

  await step("the alert's evidence exports in every format", async () => {
    const full = await api('GET', `/api/alerts/${alert.id}`, null, token);
    const n = full.evidence.length;
    const counts = {};
    for (const fmt of ['geojson', 'kml', 'gpx', 'csv']) {
      const { file } = await download(page, `#vd-alerts [data-alert-id="${alert.id}"] [data-evidence="${fmt}"]`, `alert-evidence.${fmt}`);
      const info = await ogrinfo(file);
      counts[fmt] = info.layers;
      const total = Object.values(info.layers).reduce((s, c) => s + c, 0);
      assert.ok(total >= n, `${fmt}: ${JSON.stringify(info.layers)} holds the ${n} evidence positions`);
    }
    console.log(`# alert ${alert.id} evidence (${n} positions): ${JSON.stringify(counts)}`);
    assert.ok(counts.kml.positions >= n && counts.gpx.track_points >= n && Object.values(counts.csv)[0] >= n);
    const { file } = await download(page, `#vd-alerts [data-alert-id="${alert.id}"] [data-evidence="html"]`, 'alert-evidence.html');
    const html = fs.readFileSync(file, 'utf8');
    assert.match(html, /\b[0-9a-f]{64}\b/i);
    assert.ok(html.includes(full.detail.rule), 'the sheet names the rule that fired');
  });

  await step('English labels; closing the replay and the details', async () => {
    await page.click('#lang-toggle');
    await page.waitForFunction(() => document.documentElement.lang === 'en', null, WAIT);
    assert.match(await page.textContent('#vessel-details'), /Track replay/);
    assert.match(await page.textContent('#vd-permits'), /valid now/);
    assert.match(await page.textContent('#replay-summary'), /positions/);
    await screenshot(page, 'replay-english');
    await page.click('#lang-toggle');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN', null, WAIT);
    await page.click('#replay-close');
    await page.locator('#replay-bar').waitFor({ state: 'hidden', ...WAIT });
    assert.equal(await page.locator('.stop-label').count(), 0);
    await page.click('#vd-close');
    await page.locator('#vessel-details').waitFor({ state: 'hidden', ...WAIT });
  });

  await step('no console or page errors', async () => {
    assert.deepEqual(unexpectedErrors(errors, HARMLESS), []);
  });
});
