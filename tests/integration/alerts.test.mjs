// alerts.test.mjs -- permits and geofence alerts end to end through the real server: permits and closed
// seasons over the API, positions in over HTTP and JT/T 808, alerts opened, updated and closed in PostGIS and
// on the WebSocket, acknowledgement, the resumable feed (?since=), late (out-of-order) data, a restart that
// continues open alerts instead of duplicating them, and unregistered terminals.
// Geometry: the demo layers (schema/demo/*.geojson), loaded by demo-seed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { logOnFailure, openWs, startStack, waitUntil } from '../lib/stack.mjs';
import { MSG, Terminal } from '../lib/jt808.mjs';

let stack;
let token;
const V = {};
const DAY0 = Date.now() - 6 * 3600e3; // device times start six hours ago
const iso = (ms) => new Date(ms).toISOString();

// Points from the demo layers (centroids computed from schema/demo/*.geojson).
const P = {
  outside: [117.2050, 29.3700],   // open river, far from every zone
  mz01: [117.22985, 29.41812],    // inside mining zone MZ-01
  mz03: [117.23470, 29.40444],    // inside MZ-03
  pk01: [117.22993, 29.42670],    // inside parking PK-01
  pzSouth: [117.2385, 29.3650],   // south of protection zone PZ-01
  pzNorth: [117.2390, 29.3960],   // north of it
};
const M_PER_DEG_LAT = 111320;

/** Fixes every STEP seconds from t0 for DUR seconds, lying at PT with a few metres of jitter. */
function stay(vessel, pt, t0, dur, step = 10, jitterM = 4) {
  const out = [];
  for (let s = 0; s <= dur; s += step) {
    const j = () => (Math.random() * 2 - 1) * jitterM / M_PER_DEG_LAT;
    out.push({ vessel, time: iso(t0 + s * 1000), lon: pt[0] + j() / Math.cos(pt[1] * Math.PI / 180), lat: pt[1] + j(), speed_kn: 0.2, course: 0 });
  }
  return out;
}

/** Fixes every STEP seconds moving from A to B at KN knots, starting at t0. */
function sail(vessel, a, b, t0, kn = 8, step = 10) {
  const dx = (b[0] - a[0]) * Math.cos(a[1] * Math.PI / 180) * M_PER_DEG_LAT;
  const dy = (b[1] - a[1]) * M_PER_DEG_LAT;
  const dist = Math.hypot(dx, dy);
  const dur = dist / (kn * 0.514444);
  const out = [];
  for (let s = 0; s <= dur; s += step) {
    const f = s / dur;
    out.push({ vessel, time: iso(t0 + s * 1000), lon: a[0] + (b[0] - a[0]) * f, lat: a[1] + (b[1] - a[1]) * f, speed_kn: kn, course: 0 });
  }
  return { fixes: out, end: t0 + Math.ceil(dur / step) * step * 1000 + step * 1000 };
}

async function post(fixes) {
  for (let i = 0; i < fixes.length; i += 500) {
    const r = await stack.api('POST', '/api/positions', fixes.slice(i, i + 500), token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.accepted, fixes.slice(i, i + 500).length, r.text);
  }
}

/** A vessel's alerts, newest first; `offline` ones only when asked for (every vessel here goes quiet). */
async function alertsOf(vessel, extra = '') {
  const r = await stack.api('GET', `/api/alerts?vessel=${vessel}&status=all${extra}`, null, token);
  assert.equal(r.status, 200, r.text);
  return extra.includes('kind=offline') ? r.json.alerts : r.json.alerts.filter((a) => a.kind !== 'offline');
}

before(async () => {
  // offline after 20 s of wall-clock silence, so that the test can watch one go dark
  stack = await startStack({ demo: true, env: { SHOREWATCH_RULES_OFFLINE_AFTER_S: '20' } });
  token = await stack.login();
  const reg = {
    miner: { name: 'alert-miner', terminal: '13800000901', kind: 'sand_mining' },
    nopermit: { name: 'alert-nopermit', terminal: '13800000902', kind: 'sand_mining' },
    night: { name: 'alert-night', terminal: '13800000903', kind: 'sand_mining' },
    transport: { name: 'alert-transport', terminal: '13800000904', kind: 'sand_transport' },
    late: { name: 'alert-late', terminal: '13800000905', kind: 'sand_mining' },
    restart: { name: 'alert-restart', terminal: '13800000906', kind: 'sand_mining' },
    season: { name: 'alert-season', terminal: '13800000907', kind: 'sand_mining' },
  };
  for (const [k, body] of Object.entries(reg)) {
    const r = await stack.api('POST', '/api/vessels', body, token);
    assert.equal(r.status, 201, r.text);
    V[k] = r.json.id;
  }
});
after(async () => {
  if (stack) await stack.stop();
});

const t = (name, fn) => test(name, logOnFailure(() => stack, fn));
const wsSince = (since) => openWs(`ws://127.0.0.1:${stack.httpPort}/ws?token=${encodeURIComponent(token)}&since=${since}`);

t('permits: created by vessel and zone code, validated, listed', async () => {
  const year = new Date().getUTCFullYear();
  const ok = await stack.api('POST', '/api/permits', {
    vessel: V.miner, number: '赣采证-2026-001', zone_layer: 'demo_mining_zones', zone_code: 'MZ-01',
    valid_from: `${year - 1}-01-01`, valid_to: `${year + 1}-12-31`, hours: '00:00-24:00',
  }, token);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.number, '赣采证-2026-001');
  assert.equal(ok.json.hours, '00:00-24:00');
  assert.equal(ok.json.valid_now, true);
  // by name, and a permit for night work only 08:00-18:00 for the "night" vessel
  const night = await stack.api('POST', '/api/permits', {
    vessel: 'alert-night', number: '赣采证-2026-002', zone_layer: 'demo_mining_zones', zone_code: 'MZ-03',
    valid_from: `${year - 1}-01-01`, valid_to: `${year + 1}-12-31`, hours: '08:00-18:00',
  }, token);
  assert.equal(night.status, 201, night.text);
  assert.equal(night.json.vessel, V.night);
  for (const k of ['late', 'restart', 'season']) {
    const r = await stack.api('POST', '/api/permits', {
      vessel: V[k], number: `赣采证-2026-${k}`, zone_layer: 'demo_mining_zones', zone_code: k === 'season' ? 'MZ-03' : 'MZ-01',
      valid_from: `${year - 1}-01-01`, valid_to: `${year + 1}-12-31`,
    }, token);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.hours, null);
  }
  const noZone = await stack.api('POST', '/api/permits', {
    vessel: V.miner, number: 'X-1', zone_layer: 'demo_mining_zones', zone_code: 'MZ-99', valid_from: '2026-01-01', valid_to: '2026-12-31',
  }, token);
  assert.equal(noZone.status, 422, noZone.text);
  assert.match(noZone.json.error, /MZ-99/);
  const wrongKind = await stack.api('POST', '/api/permits', {
    vessel: V.miner, number: 'X-2', zone_layer: 'demo_parking', zone_code: 'PK-01', valid_from: '2026-01-01', valid_to: '2026-12-31',
  }, token);
  assert.equal(wrongKind.status, 422, wrongKind.text);
  assert.match(wrongKind.json.error, /not a mining_zone/);
  const badHours = await stack.api('POST', '/api/permits', {
    vessel: V.miner, number: 'X-3', zone_layer: 'demo_mining_zones', zone_code: 'MZ-01', valid_from: '2026-01-01', valid_to: '2026-12-31', hours: '7-19',
  }, token);
  assert.equal(badHours.status, 400, badHours.text);
  const noVessel = await stack.api('POST', '/api/permits', {
    vessel: 'no-such-vessel', number: 'X-4', zone_layer: 'demo_mining_zones', zone_code: 'MZ-01', valid_from: '2026-01-01', valid_to: '2026-12-31',
  }, token);
  assert.equal(noVessel.status, 422, noVessel.text);
  const dup = await stack.api('POST', '/api/permits', {
    vessel: V.miner, number: '赣采证-2026-001', zone_layer: 'demo_mining_zones', zone_code: 'MZ-01', valid_from: '2026-01-01', valid_to: '2026-12-31',
  }, token);
  assert.equal(dup.status, 409, dup.text);
  const list = await stack.api('GET', '/api/permits', null, token);
  assert.equal(list.status, 200);
  // demo-seed gave each demo vessel a permit (演示许可-…); ours are the five above
  assert.equal(list.json.filter((p) => !p.number.startsWith('演示许可')).length, 5);
  assert.equal(list.json.filter((p) => p.number.startsWith('演示许可')).length, 20);
  const mine = await stack.api('GET', `/api/permits?vessel=${V.night}`, null, token);
  assert.deepEqual(mine.json.map((p) => p.number), ['赣采证-2026-002']);
  // a yearly closed season on MZ-03 covering every day of the year: the "season" vessel may not work there
  const cs = await stack.api('POST', '/api/closed-seasons', {
    name: '演示禁采期', zone_layer: 'demo_mining_zones', zone_code: 'MZ-03', from: '01-01', to: '12-31', yearly: true,
  }, token);
  assert.equal(cs.status, 201, cs.text);
  assert.equal(cs.json.from, '01-01');
  const rules = await stack.api('GET', '/api/rules', null, token);
  assert.equal(rules.status, 200);
  assert.equal(rules.json.offline_after_s, 20);
  assert.equal(rules.json.stop_alert_s, 600);
});

t('a stop outside every zone and parking point raises one illegal_stop, closed when the vessel moves on', async () => {
  const ws = await stack.ws(token);
  try {
    let t0 = DAY0;
    // parked at night at PK-01, sails to open water, stops 20 minutes, sails back to its zone and works
    const fixes = stay(V.miner, P.pk01, t0, 3600);
    t0 += 3610e3;
    const a = sail(V.miner, P.pk01, P.outside, t0);
    fixes.push(...a.fixes);
    fixes.push(...stay(V.miner, P.outside, a.end, 1200));
    const b = sail(V.miner, P.outside, P.mz01, a.end + 1210e3);
    fixes.push(...b.fixes);
    fixes.push(...stay(V.miner, P.mz01, b.end, 1800));
    await post(fixes);
    const open = await ws.next((e) => e.type === 'alert' && e.vessel === V.miner && e.kind === 'illegal_stop', 15000);
    assert.ok(open.seq > 0);
    assert.ok(open.id > 0);
    assert.equal(open.vessel_name, 'alert-miner');
    assert.ok(Array.isArray(open.evidence) && open.evidence.length > 0, 'evidence positions');
    assert.ok(open.detail && typeof open.detail === 'object');
    const closed = await ws.next((e) => e.type === 'alert' && e.id === open.id && e.state === 'closed', 15000);
    assert.ok(Date.parse(closed.closed) > Date.parse(closed.opened));
    // the stop lasted 20 minutes: opened about 10 minutes in, closed when it left
    const stopStart = a.end;
    assert.ok(Date.parse(closed.opened) >= stopStart + 540e3 && Date.parse(closed.opened) <= stopStart + 700e3, `opened ${closed.opened}, stop from ${iso(stopStart)}: ${JSON.stringify(closed)}`);
    // the live event goes out first; the database has it a moment later
    await waitUntil(async () => (await alertsOf(V.miner)).some((x) => x.id === open.id && x.state === 'closed'), { what: 'the alert stored' });
    const all = await alertsOf(V.miner);
    assert.deepEqual(all.map((x) => x.kind), ['illegal_stop'], JSON.stringify(all));
    assert.equal(all[0].opened, closed.opened);
    assert.equal(all[0].closed, closed.closed);
    const rows = await stack.sql('SELECT kind, closed_at IS NOT NULL AS closed, jsonb_array_length(evidence) AS n FROM alerts WHERE vessel_id = $1', [V.miner]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].closed, true);
    assert.ok(rows[0].n > 0);
  } finally {
    ws.close();
  }
});

t('working in its zone outside the permit hours is off_hours; in a closed season too; no permit is no_permit', async () => {
  // local 02:00 (UTC+8) of yesterday: the night vessel works in MZ-03, hours 08:00-18:00
  const d = new Date(Date.now() - 86400e3);
  const local2am = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 2, 0, 0) - 8 * 3600e3;
  await post(stay(V.night, P.mz03, local2am, 1800));
  await post(stay(V.season, P.mz03, local2am + 86400e3 / 2, 1800)); // 14:00 local: within any hours
  await post(stay(V.nopermit, P.mz01, local2am, 1800));
  await waitUntil(async () => (await alertsOf(V.night)).length === 1 && (await alertsOf(V.nopermit)).length === 1
    && (await alertsOf(V.season)).length === 1, { ms: 15000, what: 'three alerts' }).catch(async (e) => { e.message += JSON.stringify([await alertsOf(V.night), await alertsOf(V.season), await alertsOf(V.nopermit)]); throw e; });
  const night = await alertsOf(V.night);
  assert.equal(night[0].kind, 'off_hours', JSON.stringify(night));
  assert.equal(night[0].subject, 'demo_mining_zones/MZ-03');
  assert.equal(night[0].permit, '赣采证-2026-002');
  const season = await alertsOf(V.season);
  assert.equal(season[0].kind, 'off_hours', JSON.stringify(season));
  assert.match(JSON.stringify(season[0].detail), /演示禁采期|season/);
  const np = await alertsOf(V.nopermit);
  assert.equal(np[0].kind, 'no_permit', JSON.stringify(np));
});

t('a transport vessel passing through a protection zone: one alert, opened on entry and closed after leaving', async () => {
  const a = sail(V.transport, P.pzSouth, P.pzNorth, DAY0, 6);
  await post(a.fixes);
  await post(stay(V.transport, P.pzNorth, a.end, 300, 10, 3).map((f) => ({ ...f, speed_kn: 0 })));
  await waitUntil(async () => {
    const x = await alertsOf(V.transport);
    return x.length === 1 && x[0].state === 'closed';
  }, { ms: 15000, what: 'a closed protection_zone alert' });
  const x = await alertsOf(V.transport);
  assert.equal(x[0].kind, 'protection_zone');
  assert.equal(x[0].subject, 'demo_protection/PZ-01');
  assert.equal(x[0].severity, 3);
});

t('acknowledgement: viewer refused, admin acknowledges with a note, published, not twice', async () => {
  const [al] = await alertsOf(V.nopermit);
  const ws = await stack.ws(token);
  try {
    const none = await stack.api('POST', `/api/alerts/${al.id}/ack`, { note: 'x' }, null);
    assert.equal(none.status, 401);
    const r = await stack.api('POST', `/api/alerts/${al.id}/ack`, { note: '已派执法船核查' }, token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'acknowledged');
    assert.equal(r.json.ack.note, '已派执法船核查');
    assert.equal(r.json.ack.by, 'admin');
    const ev = await ws.next((e) => e.type === 'alert' && e.id === al.id && e.state === 'acknowledged');
    assert.ok(ev.seq > 0);
    const again = await stack.api('POST', `/api/alerts/${al.id}/ack`, { note: 'again' }, token);
    assert.equal(again.status, 409);
    const missing = await stack.api('POST', '/api/alerts/999999999/ack', { note: '' }, token);
    assert.equal(missing.status, 404);
    const active = await stack.api('GET', '/api/alerts?status=acknowledged', null, token);
    assert.ok(active.json.alerts.some((x) => x.id === al.id));
  } finally {
    ws.close();
  }
});

t('the live feed resumes: ?since=N replays every alert changed after event N, then goes on live', async () => {
  const all = await stack.api('GET', '/api/alerts?status=all', null, token);
  const seq = all.json.seq;
  assert.ok(seq > 0);
  // everything from the start
  const ws0 = await wsSince(0);
  try {
    await waitUntil(() => ws0.events.filter((e) => e.type === 'alert').length >= all.json.alerts.length, { what: 'replayed alerts' });
    const ids = new Set(ws0.events.filter((e) => e.type === 'alert').map((e) => e.id));
    for (const a of all.json.alerts) assert.ok(ids.has(a.id), `alert ${a.id} replayed: ${JSON.stringify(ws0.events.filter((e) => e.type === 'alert').map((e) => [e.id, e.seq]))}`);
  } finally {
    ws0.close();
  }
  // a client that saw up to `seq` misses a new alert while away, and gets exactly it on reconnect
  const t0 = DAY0 + 3 * 3600e3;
  await post(stay(V.nopermit, P.outside, t0, 1500));
  await waitUntil(async () => (await alertsOf(V.nopermit, '&status=active')).some((x) => x.subject === '' && x.kind === 'no_permit' && x.state === 'open'), { what: 'second no_permit' });
  const ws1 = await wsSince(seq);
  try {
    const ev = await ws1.next((e) => e.type === 'alert' && e.vessel === V.nopermit && e.state === 'open');
    assert.ok(ev.seq > seq);
    assert.ok(ws1.events.filter((e) => e.type === 'alert').every((e) => e.seq > seq), 'nothing older than since');
  } finally {
    ws1.close();
  }
  const bad = await wsSince('abc').then((w) => new Promise((res) => { w.ws.once('close', (code) => res(code)); }), () => 'refused');
  assert.ok(bad === 1008 || bad === 'refused', `bad since: ${bad}`);
});

t('late data: positions re-sent after a gap reveal an earlier stop, raised once as late', async () => {
  const t0 = DAY0;
  // the live track first: at its parking point, then later working in its zone
  const live = stay(V.late, P.pk01, t0, 600);
  const later = stay(V.late, P.mz01, t0 + 5400e3, 600);
  await post([...live, ...later]);
  // then the stored positions of the gap: it sailed out and stopped 20 minutes in open water
  const a = sail(V.late, P.pk01, P.outside, t0 + 610e3);
  const gap = [...a.fixes, ...stay(V.late, P.outside, a.end, 1200)];
  const b = sail(V.late, P.outside, P.mz01, a.end + 1210e3);
  gap.push(...b.fixes.filter((f) => Date.parse(f.time) < t0 + 5400e3));
  await post(gap);
  await waitUntil(async () => (await alertsOf(V.late)).length >= 1, { ms: 15000, what: 'a late alert' });
  // the same batch again changes nothing
  const dupRes = await stack.api('POST', '/api/positions', gap.slice(0, 400), token);
  assert.equal(dupRes.status, 200);
  await new Promise((r) => setTimeout(r, 1500));
  const x = await alertsOf(V.late);
  assert.equal(x.length, 1, JSON.stringify(x));
  assert.equal(x[0].kind, 'illegal_stop');
  assert.equal(x[0].late, true);
  assert.equal(x[0].state, 'closed');
  assert.ok(Date.parse(x[0].opened) >= a.end + 540e3 && Date.parse(x[0].opened) <= a.end + 700e3 && Date.parse(x[0].closed) <= a.end + 1300e3, `${x[0].opened} .. ${x[0].closed}, stop ${iso(a.end)}: ${JSON.stringify(x[0])}`);
});

t('a restart continues open alerts: no second alert for the same stop', async () => {
  const t0 = DAY0 + 2 * 3600e3;
  await post(stay(V.restart, P.outside, t0, 900));
  await waitUntil(async () => (await alertsOf(V.restart)).length === 1, { ms: 15000, what: 'restart alert' });
  const [before1] = await alertsOf(V.restart);
  assert.equal(before1.state, 'open');
  await stack.stopServer();
  await stack.startServer();
  token = await stack.login();
  await post(stay(V.restart, P.outside, t0 + 910e3, 900));
  const m = sail(V.restart, P.outside, P.mz01, t0 + 1820e3);
  await post(m.fixes);
  await waitUntil(async () => (await alertsOf(V.restart))[0]?.state === 'closed', { ms: 15000, what: 'closed after restart' });
  const after1 = await alertsOf(V.restart);
  assert.equal(after1.length, 1, JSON.stringify(after1));
  assert.equal(after1[0].id, before1.id);
});

t('an unregistered terminal raises one unregistered alert however often it tries', async () => {
  for (let i = 0; i < 3; i++) {
    const term = new Terminal({ phone: '13899990001', port: stack.jt808Port });
    await term.connect();
    await term.register();
    const r = await term.reply();
    assert.equal(r.id, MSG.REGISTER_RESPONSE);
    assert.equal(r.result, 4, 'not in the registry');
    term.sock.destroy();
  }
  await waitUntil(async () => {
    const r = await stack.api('GET', '/api/alerts?kind=unregistered', null, token);
    return r.json.alerts.length === 1 && r.json.alerts[0].subject === '13899990001';
  }, { ms: 10000, what: 'one unregistered alert' });
  await new Promise((r) => setTimeout(r, 500));
  const r = await stack.api('GET', '/api/alerts?kind=unregistered', null, token);
  assert.equal(r.json.alerts.length, 1);
  assert.equal(r.json.alerts[0].vessel, null);
});

t('a terminal that goes dark away from parking raises offline; reports resuming close it with the gap', async () => {
  // alert-miner last reported (device time hours ago, received seconds ago) in its zone
  await post(stay(V.miner, P.mz01, Date.now() - 60e3, 30));
  await waitUntil(async () => (await alertsOf(V.miner, '&kind=offline')).some((x) => x.state === 'open'), { ms: 40000, what: 'offline alert' });
  const [off] = await alertsOf(V.miner, '&kind=offline');
  assert.equal(off.severity, 3, 'dark away from parking is critical');
  await post(stay(V.miner, P.mz01, Date.now() - 5e3, 0));
  await waitUntil(async () => (await alertsOf(V.miner, '&kind=offline'))[0].state === 'closed', { ms: 10000, what: 'offline closed' });
  const [closed] = await alertsOf(V.miner, '&kind=offline');
  assert.ok(JSON.stringify(closed.detail).match(/gap/), JSON.stringify(closed.detail));
});

t('alert queries validate their parameters', async () => {
  for (const q of ['status=bogus', 'kind=bogus', 'vessel=x', 'since=yesterday', 'limit=0']) {
    const r = await stack.api('GET', `/api/alerts?${q}`, null, token);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
  }
  const one = await stack.api('GET', '/api/alerts/999999999', null, token);
  assert.equal(one.status, 404);
});

t('the fleet overview: each vessel\'s state from the rules engine, counted', async () => {
  // fresh reports: the "season" vessel lies in MZ-03 (working), the transport vessel north of the
  // protection zone (stopped), the miner at its parking point (parked)
  const now = Date.now() - 400e3;
  await post([...stay(V.season, P.mz03, now, 390), ...stay(V.transport, P.pzNorth, now, 390), ...stay(V.miner, P.pk01, now, 390)]);
  // the engine sees positions once they are committed: wait for the miner's offline alert to close
  await waitUntil(async () => (await stack.api('GET', '/api/fleet', null, token)).json.vessels.find((v) => v.id === V.miner)?.state === 'parked',
    { what: 'the positions evaluated' });
  const r = await stack.api('GET', '/api/fleet', null, token);
  assert.equal(r.status, 200, r.text);
  const by = new Map(r.json.vessels.map((v) => [v.id, v]));
  const demo = (await stack.api('GET', '/api/vessels', null, token)).json;
  for (const v of demo) assert.ok(by.has(v.id), `vessel ${v.id} in the fleet`);
  const expectState = { season: 'working', transport: 'stopped', miner: 'parked' };
  for (const [k, st] of Object.entries(expectState)) assert.equal(by.get(V[k]).state, st, `${k}: ${JSON.stringify(by.get(V[k]))}`);
  assert.equal(by.get(V.season).zone, 'demo_mining_zones/MZ-03');
  const late = by.get(V.late);
  assert.equal(late.state, late.last_received ? 'offline' : 'unknown', `silent for longer than offline_after_s: ${JSON.stringify(late)}`);
  const sum = ['unknown', 'moving', 'stopped', 'parked', 'working', 'offline'].reduce((n, k) => n + r.json.counts[k], 0);
  assert.equal(sum, r.json.vessels.length);
  assert.equal(r.json.counts.alerting, r.json.vessels.filter((v) => v.alerting).length);
  const none = await stack.api('GET', '/api/fleet', null, null);
  assert.equal(none.status, 401);
});
