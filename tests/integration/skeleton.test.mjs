// skeleton.test.mjs -- the walking skeleton end to end: REST registry -> JT/T 808 terminal -> PostGIS ->
// WebSocket live event -> track and last position over REST.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { logOnFailure, startStack, waitUntil } from '../lib/stack.mjs';
import { MSG, Terminal } from '../lib/jt808.mjs';

let stack;
let token;
let vessel;
const PHONE = '13800000077';
const LON = 117.181234;
const LAT = 29.301234;
// a whole second, some minutes ago (the wire time has one-second resolution)
const TIME = new Date(Math.floor(Date.now() / 1000) * 1000 - 7 * 60 * 1000);
const ISO_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/;

before(async () => {
  stack = await startStack();
});
after(async () => {
  if (stack) await stack.stop();
});

const t = (name, fn) => test(name, logOnFailure(() => stack, fn));

t('health answers with database and PostGIS versions', async () => {
  const r = await stack.api('GET', '/api/health');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ok');
  assert.match(String(r.json.database), /^15/);
  assert.match(String(r.json.postgis), /^3\./);
});

t('login: wrong password and missing token are 401', async () => {
  const bad = await stack.api('POST', '/api/login', { user: 'admin', password: 'not-' + stack.adminPassword });
  assert.equal(bad.status, 401, bad.text);
  assert.equal(bad.json?.token, undefined);
  const unknown = await stack.api('POST', '/api/login', { user: 'nobody', password: 'x' });
  assert.equal(unknown.status, 401, unknown.text);
  const noToken = await stack.api('GET', '/api/vessels');
  assert.equal(noToken.status, 401, noToken.text);
  const badToken = await stack.api('GET', '/api/vessels', null, 'not.a.token');
  assert.equal(badToken.status, 401, badToken.text);
  const noTokenPost = await stack.api('POST', '/api/vessels', { name: 'x', terminal: '13800000099' });
  assert.equal(noTokenPost.status, 401, noTokenPost.text);
  const r = await stack.api('POST', '/api/login', { user: 'admin', password: stack.adminPassword });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.role, 'admin');
  assert.ok(r.json.token);
  token = r.json.token;
});

t('admin registers a vessel with terminal 13800000077', async () => {
  token ??= await stack.login();
  const r = await stack.api('POST', '/api/vessels', {
    name: '赣九江采0077', registration: 'JJ-TEST-0077', kind: 'sand_mining', terminal: PHONE, owner: 'test owner',
  }, token);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.terminal, PHONE);
  assert.equal(r.json.name, '赣九江采0077');
  assert.equal(r.json.kind, 'sand_mining');
  assert.ok(Number.isInteger(r.json.id));
  assert.equal(r.json.last, null);
  vessel = r.json;
  const dup = await stack.api('POST', '/api/vessels', { name: 'dup', terminal: PHONE }, token);
  assert.equal(dup.status, 409, dup.text);
  const got = await stack.api('GET', `/api/vessels/${vessel.id}`, null, token);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.registration, 'JJ-TEST-0077');
});

t('a viewer can read the registry but cannot register or change vessels', async () => {
  // No user-management API yet: make a viewer in the database with the admin's password hash.
  await stack.sql("INSERT INTO users (username, password_hash, role) SELECT 'viewer1', password_hash, 'viewer' FROM users WHERE username = 'admin'");
  const login = await stack.api('POST', '/api/login', { user: 'viewer1', password: stack.adminPassword });
  assert.equal(login.status, 200, login.text);
  assert.equal(login.json.role, 'viewer');
  const vt = login.json.token;
  const list = await stack.api('GET', '/api/vessels', null, vt);
  assert.equal(list.status, 200, list.text);
  const post = await stack.api('POST', '/api/vessels', { name: 'by a viewer', terminal: '13800000098' }, vt);
  assert.equal(post.status, 403, post.text);
  if (vessel) {
    const patch = await stack.api('PATCH', `/api/vessels/${vessel.id}`, { name: 'renamed by a viewer' }, vt);
    assert.equal(patch.status, 403, patch.text);
  }
  const rows = await stack.sql("SELECT count(*)::int AS n FROM vessels WHERE name IN ('by a viewer', 'renamed by a viewer')");
  assert.equal(rows[0].n, 0);
});

t('a terminal registers, authenticates, beats and reports; the position reaches WebSocket, PostGIS and REST', async () => {
  assert.ok(vessel, 'the vessel was created by the previous test');
  const live = await stack.ws(token);
  const term = await new Terminal({ phone: PHONE, port: stack.jt808Port }).connect();
  try {
    // 0x0100 -> 0x8100 result 0 with an auth code
    const rs = await term.register();
    const reg = await term.reply();
    assert.equal(reg.id, MSG.REGISTER_RESPONSE);
    assert.equal(reg.ackSerial, rs);
    assert.equal(reg.result, 0);
    assert.ok(reg.authCode && reg.authCode.length > 0, 'an auth code');
    assert.equal(reg.phone, '0' + PHONE, 'the phone BCD is echoed');
    assert.equal(reg.version, 2013);

    // 0x0102 -> 0x8001 (ack id 0x0102, result 0, serial echoed)
    const as = await term.auth(reg.authCode);
    const auth = await term.reply();
    assert.equal(auth.id, MSG.PLAT_RESPONSE);
    assert.deepEqual([auth.ackSerial, auth.ackId, auth.result], [as, MSG.AUTH, 0]);

    // 0x0002 -> 0x8001
    const hs = await term.heartbeat();
    const hb = await term.reply();
    assert.deepEqual([hb.id, hb.ackSerial, hb.ackId, hb.result], [MSG.PLAT_RESPONSE, hs, MSG.HEARTBEAT, 0]);

    // 0x0200 -> 0x8001
    const ls = await term.location({ lon: LON, lat: LAT, time: TIME, speedKmh: 9.3, course: 271 });
    const la = await term.reply();
    assert.deepEqual([la.id, la.ackSerial, la.ackId, la.result], [MSG.PLAT_RESPONSE, ls, MSG.LOCATION, 0]);
  } finally {
    term.close();
  }

  // the live event
  const ev = await live.next((e) => e.type === 'position' && e.vessel === vessel.id);
  live.close();
  assert.equal(ev.lon, LON);
  assert.equal(ev.lat, LAT);
  assert.match(ev.time, ISO_OFFSET);
  assert.equal(Date.parse(ev.time), TIME.getTime());
  assert.ok(Math.abs(ev.speed_kn - 9.3 / 1.852) < 0.01, `speed_kn ${ev.speed_kn}`);
  assert.equal(ev.course, 271);

  // the stored row, exact
  const rows = await waitUntil(async () => {
    const r = await stack.sql(
      'SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, ST_SRID(geom) AS srid, device_time, protocol, fix_valid FROM positions WHERE vessel_id = $1',
      [vessel.id]);
    return r.length ? r : null;
  }, { what: 'the position row in PostGIS' });
  assert.equal(rows.length, 1);
  assert.equal(rows[0].lon, LON);
  assert.equal(rows[0].lat, LAT);
  assert.equal(rows[0].srid, 4326);
  assert.equal(rows[0].device_time.getTime(), TIME.getTime());
  assert.equal(rows[0].protocol, 'jt808');
  assert.equal(rows[0].fix_valid, true);

  // the track as GeoJSON
  const from = encodeURIComponent(new Date(TIME.getTime() - 3600e3).toISOString());
  const to = encodeURIComponent(new Date(TIME.getTime() + 3600e3).toISOString());
  const tr = await stack.api('GET', `/api/vessels/${vessel.id}/track?from=${from}&to=${to}`, null, token);
  assert.equal(tr.status, 200, tr.text);
  assert.equal(tr.json.type, 'FeatureCollection');
  const pts = tr.json.features.filter((f) => f.geometry?.type === 'Point');
  assert.equal(pts.length, 1, tr.text);
  assert.deepEqual(pts[0].geometry.coordinates, [LON, LAT]);
  assert.equal(Date.parse(pts[0].properties.time), TIME.getTime());
  assert.match(pts[0].properties.time, ISO_OFFSET);

  // a range that excludes the point returns none
  const from2 = encodeURIComponent(new Date(TIME.getTime() + 60e3).toISOString());
  const empty = await stack.api('GET', `/api/vessels/${vessel.id}/track?from=${from2}&to=${to}`, null, token);
  assert.equal(empty.status, 200, empty.text);
  assert.equal(empty.json.features.filter((f) => f.geometry?.type === 'Point').length, 0, empty.text);

  // the vessel's last position
  const v = await waitUntil(async () => {
    const r = await stack.api('GET', '/api/vessels', null, token);
    assert.equal(r.status, 200, r.text);
    const me = r.json.find((x) => x.id === vessel.id);
    return me?.last ? me : null;
  }, { what: "the vessel's last position" });
  assert.equal(v.last.lon, LON);
  assert.equal(v.last.lat, LAT);
  assert.equal(Date.parse(v.last.time), TIME.getTime());
  assert.match(v.last.time, ISO_OFFSET);
});

t('the WebSocket refuses a missing or bad token', async () => {
  await assert.rejects(stack.ws('bad-token'));
  const { openWs } = await import('../lib/stack.mjs');
  await assert.rejects(openWs(`ws://127.0.0.1:${stack.httpPort}/ws`));
});

t('the web page and its assets load one after another over a single keep-alive connection', async () => {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (p) => new Promise((resolve, reject) => {
    const req = http.get(`${stack.http}${p}`, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('aborted', () => reject(new Error(`${p}: response aborted`)));
      res.on('error', (e) => reject(new Error(`${p}: ${e.message}`)));
    });
    req.on('error', (e) => reject(new Error(`${p}: ${e.message}`)));
  });
  const fs = await import('node:fs');
  const { ROOT } = await import('../lib/stack.mjs');
  try {
    for (const p of ['/', '/js/main.js', '/js/api.js', '/api/health', '/vendor/maplibre-gl.js', '/api/config', '/']) {
      const r = await get(p);
      assert.equal(r.status, 200, `GET ${p}`);
      if (r.headers['content-length'] !== undefined) assert.equal(Number(r.headers['content-length']), r.body.length, `GET ${p}: Content-Length`);
      if (p.startsWith('/js/') || p.startsWith('/vendor/')) {
        assert.equal(r.body.length, fs.statSync(`${ROOT}/web${p}`).size, `GET ${p}: the whole file`);
      }
    }
  } finally {
    agent.destroy();
  }
});
