// track.test.mjs -- the track API (stops, zone visits, simplification), the "which vessels were inside this
// polygon" query, and the evidence exports (GeoJSON, KML, GPX, CSV, the printable HTML sheet), checked
// against PostGIS directly and, for the files, against `ogrinfo` (GDAL reads what we wrote).
// Geometry: the demo layers (schema/demo/*.geojson), loaded by demo-seed.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { logOnFailure, startStack, waitUntil } from '../lib/stack.mjs';
import { Terminal } from '../lib/jt808.mjs';

const execFileP = promisify(execFile);
let stack;
let token;
let viewerToken;
let tmp;
const V = {}; // vessels: main (the scripted track), other (for the within query), long (6000 fixes)
const NAME = '赣景德采测试088';
const PHONE = '13900000088';
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3 * 3600e3; // the track starts three hours ago
const iso = (ms) => new Date(ms).toISOString();
const ISO_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/;
const M_PER_DEG_LAT = 111320;

// Points near mining zone MZ-01 (schema/demo/mining_zones.geojson: lat 29.4154..29.4209 around lon 117.230).
const P0 = [117.2305, 29.4120]; // south of MZ-01
const P1 = [117.2298, 29.4180]; // inside MZ-01: the stop
const P2 = [117.2291, 29.4245]; // north of it: a pause too short to be a stop
const P3 = [117.2270, 29.4300]; // further north (the last legs come over JT/T 808)
const STOP_S = 900;

const script = { fixes: [], stopStart: 0, stopEnd: 0, stopN: 0, pauseStart: 0 };

/** Fixes every STEP s from t0 sailing A -> B at KN knots, with a lateral zigzag of ZIG metres. */
function sail(vessel, a, b, t0, kn = 5, step = 10, zig = 0) {
  const cos = Math.cos(a[1] * Math.PI / 180);
  const dx = (b[0] - a[0]) * cos * M_PER_DEG_LAT;
  const dy = (b[1] - a[1]) * M_PER_DEG_LAT;
  const dist = Math.hypot(dx, dy);
  const dur = dist / (kn * 0.514444);
  const out = [];
  let s = 0;
  for (; s < dur; s += step) {
    const f = s / dur;
    const off = zig ? ((out.length % 2) ? zig : -zig) : 0; // metres to the left/right of the line
    const nx = -dy / dist, ny = dx / dist;
    out.push({
      vessel, time: iso(t0 + s * 1000),
      lon: +(a[0] + (b[0] - a[0]) * f + off * nx / (cos * M_PER_DEG_LAT)).toFixed(7),
      lat: +(a[1] + (b[1] - a[1]) * f + off * ny / M_PER_DEG_LAT).toFixed(7),
      speed_kn: kn, course: Math.round((Math.atan2(dx, dy) * 180 / Math.PI + 360) % 360),
    });
  }
  return { fixes: out, end: t0 + s * 1000 };
}

/** Fixes every STEP s for DUR s at PT with a deterministic jitter of at most ~4 m, slow. */
function stay(vessel, pt, t0, dur, step = 10) {
  const out = [];
  const cos = Math.cos(pt[1] * Math.PI / 180);
  for (let s = 0, i = 0; s <= dur; s += step, i++) {
    const jx = ((i % 5) - 2) * 1.4, jy = (((i * 3) % 5) - 2) * 1.4;
    out.push({ vessel, time: iso(t0 + s * 1000), lon: +(pt[0] + jx / (cos * M_PER_DEG_LAT)).toFixed(7),
      lat: +(pt[1] + jy / M_PER_DEG_LAT).toFixed(7), speed_kn: 0.2, course: 0 });
  }
  return { fixes: out, end: t0 + dur * 1000 + step * 1000 };
}

async function post(fixes) {
  for (let i = 0; i < fixes.length; i += 2000) {
    const part = fixes.slice(i, i + 2000);
    const r = await stack.api('POST', '/api/positions', part, token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.accepted, part.length, r.text);
  }
}

async function ogrinfo(file, summary) {
  const { stdout } = await execFileP('ogrinfo', ['-ro', '-al', ...(summary ? ['-so'] : []), file], { maxBuffer: 64 << 20 });
  return stdout;
}

/** { layer: featureCount } from `ogrinfo -ro -al -so`. */
async function layerCounts(file) {
  const out = await ogrinfo(file, true);
  const counts = {};
  let layer = null;
  for (const line of out.split('\n')) {
    const m = line.match(/^Layer name: (.*)$/);
    if (m) layer = m[1].trim();
    const c = line.match(/^Feature Count: (\d+)/);
    if (c && layer) counts[layer] = Number(c[1]);
  }
  return counts;
}

async function download(p, tok = token) {
  const res = await fetch(stack.http + p, { headers: { Authorization: `Bearer ${tok}` } });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, buf, text: buf.toString('utf8') };
}

function saveAs(buf, name) {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, buf);
  return f;
}

function utf8Filename(cd) {
  const m = /filename\*=UTF-8''([^;]+)/.exec(cd || '');
  return m ? decodeURIComponent(m[1]) : null;
}

const q = (o) => Object.entries(o).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
const RANGE = { from: iso(T0 - 60e3), to: iso(T0 + 2 * 3600e3) };

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-track-'));
  stack = await startStack({ demo: true });
  token = await stack.login();
  for (const [key, name, terminal] of [['main', NAME, PHONE], ['other', '赣景德采测试089', '13900000089'], ['long', '长轨迹测试090', '13900000090']]) {
    const r = await stack.api('POST', '/api/vessels', { name, registration: `TEST-${terminal}`, kind: 'sand_mining', terminal, owner: '测试船主' }, token);
    assert.equal(r.status, 201, r.text);
    V[key] = r.json;
  }
  await stack.sql("INSERT INTO users (username, password_hash, role) SELECT 'viewer9', password_hash, 'viewer' FROM users WHERE username = 'admin'");
  viewerToken = await stack.login('viewer9', stack.adminPassword);

  // The scripted track: sail into MZ-01, stop 15 min, sail out with a 3 m zigzag, pause 60 s, sail on.
  const id = V.main.id;
  let t = T0;
  const a = sail(id, P0, P1, t);
  script.fixes.push(...a.fixes);
  const b = stay(id, P1, a.end, STOP_S);
  script.stopStart = a.end;
  script.stopEnd = a.end + STOP_S * 1000;
  script.stopN = b.fixes.length;
  script.fixes.push(...b.fixes);
  const c = sail(id, P1, P2, b.end, 5, 10, 3);
  script.fixes.push(...c.fixes);
  const d = stay(id, P2, c.end, 60);
  script.pauseStart = c.end;
  script.fixes.push(...d.fixes);
  // an invalid fix (no position lock) far away: evidence, never part of the track
  script.fixes.push({ vessel: id, time: iso(d.end - 5000), lon: 117.26, lat: 29.46, speed_kn: 0, course: 0, fix_valid: false });
  script.fixes.sort((x, y) => Date.parse(x.time) - Date.parse(y.time));
  await post(script.fixes);
  const e = sail(id, P2, P3, d.end, 5, 10);
  script.jt808 = e.fixes.slice(0, 6).map((f) => ({ ...f, time: iso(Math.round(Date.parse(f.time) / 1000) * 1000) }));
  t = e.end;

  // The last legs over JT/T 808: their raw frames (hex) are evidence.
  const term = await new Terminal({ phone: PHONE, port: stack.jt808Port }).connect();
  try {
    await term.login();
    for (const f of script.jt808) {
      await term.location({ lon: f.lon, lat: f.lat, time: new Date(f.time), speedKmh: f.speed_kn * 1.852, course: f.course });
      const ack = await term.reply();
      assert.equal(ack.result, 0);
    }
  } finally {
    term.close();
  }

  // Another vessel: 5 fixes inside MZ-01 an hour in, 3 outside; and 2 inside long before the range.
  const o = V.other.id;
  const other = [];
  for (let i = 0; i < 5; i++) other.push({ vessel: o, time: iso(T0 + 3600e3 + i * 60e3), lon: 117.2299 + i * 0.00005, lat: 29.4182, speed_kn: 0.5, course: 10 });
  for (let i = 0; i < 3; i++) other.push({ vessel: o, time: iso(T0 + 3700e3 + i * 60e3), lon: 117.2050, lat: 29.3700 + i * 0.001, speed_kn: 6, course: 0 });
  for (let i = 0; i < 2; i++) other.push({ vessel: o, time: iso(T0 - 5 * 3600e3 + i * 60e3), lon: 117.2299, lat: 29.4182, speed_kn: 0.5, course: 0 });
  await post(other);

  // A long, straight, 1 Hz track of 6000 fixes with 2 m of noise.
  const l = V.long.id;
  const long = [];
  for (let i = 0; i < 6000; i++) {
    long.push({ vessel: l, time: iso(T0 + i * 1000), lon: +(117.10 + i * 0.00001 + ((i % 3) - 1) * 0.00002).toFixed(7), lat: 29.30, speed_kn: 2, course: 90 });
  }
  await post(long);

  const expected = script.fixes.length + script.jt808.length + other.length + long.length;
  await waitUntil(async () => {
    const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE vessel_id = ANY($1)', [[V.main.id, V.other.id, V.long.id]]);
    return n === expected;
  }, { ms: 20000, what: `${expected} positions in PostGIS` });
});

after(async () => {
  if (stack) await stack.stop();
  if (tmp && !process.env.SHOREWATCH_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

const t = (name, fn) => test(name, logOnFailure(() => stack, fn));

t('the track: a LineString, every valid fix as a Point with ISO+08:00 times, the old shape kept', async () => {
  const r = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q(RANGE)}`, null, viewerToken);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /application\/geo\+json/);
  const fc = r.json;
  assert.equal(fc.type, 'FeatureCollection');
  assert.equal(fc.vessel, V.main.id);
  assert.equal(fc.vessel_name, NAME);
  assert.equal(Date.parse(fc.from), Date.parse(RANGE.from));
  assert.match(fc.from, ISO_OFFSET);
  const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE vessel_id = $1 AND fix_valid', [V.main.id]);
  const pos = fc.features.filter((f) => f.properties.kind === 'position');
  assert.equal(pos.length, n);
  assert.equal(fc.points_in_range, n);
  for (const f of pos) {
    assert.equal(f.geometry.type, 'Point');
    assert.match(f.properties.time, ISO_OFFSET);
    assert.equal(f.properties.fix_valid, true);
    assert.equal(typeof f.properties.blind, 'boolean');
    assert.equal(typeof f.properties.speed_kn, 'number');
  }
  const times = pos.map((f) => Date.parse(f.properties.time));
  assert.deepEqual(times, [...times].sort((x, y) => x - y), 'positions in device-time order');
  const line = fc.features.find((f) => f.properties.kind === 'track');
  assert.equal(line.geometry.type, 'LineString');
  assert.equal(line.geometry.coordinates.length, n);
  assert.equal(line.properties.points, n);
  assert.equal(line.properties.points_in_range, n);
  assert.equal(line.properties.simplify_m, 0, 'no simplification under 24 h by default');
  // the invalid fix is in PostGIS but not in the track
  const [{ bad }] = await stack.sql('SELECT count(*)::int AS bad FROM positions WHERE vessel_id = $1 AND NOT fix_valid', [V.main.id]);
  assert.equal(bad, 1);
  assert.ok(!line.geometry.coordinates.some(([x]) => x === 117.26));
  // the first fix exactly as sent
  assert.deepEqual(pos[0].geometry.coordinates, [P0[0], P0[1]]);
});

t('stops are computed server-side and agree with PostGIS', async () => {
  const r = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q(RANGE)}`, null, token);
  assert.equal(r.status, 200, r.text);
  const stops = r.json.features.filter((f) => f.properties.kind === 'stop');
  assert.equal(stops.length, 1, JSON.stringify(stops)); // the 60 s pause at P2 is too short
  const s = stops[0];
  assert.equal(s.geometry.type, 'Point');
  assert.equal(Date.parse(s.properties.start), script.stopStart);
  assert.equal(Date.parse(s.properties.end), script.stopEnd);
  assert.equal(s.properties.duration_s, STOP_S);
  assert.equal(s.properties.positions, script.stopN);
  assert.match(s.properties.start, ISO_OFFSET);
  // PostGIS: every fix of the stop lies within 50 m of its first one and is slow; the fixes just before and
  // after break it (fast or farther); the centroid is the fixes' centroid
  const [chk] = await stack.sql(
    `WITH s AS (SELECT geom, speed_kn, device_time FROM positions WHERE vessel_id = $1 AND fix_valid
                AND device_time BETWEEN $2 AND $3),
          f AS (SELECT geom FROM s ORDER BY device_time LIMIT 1)
     SELECT count(*)::int AS n, max(ST_Distance(s.geom::geography, f.geom::geography)) AS far, max(s.speed_kn) AS vmax,
            ST_X(ST_Centroid(ST_Collect(s.geom))) AS cx, ST_Y(ST_Centroid(ST_Collect(s.geom))) AS cy
     FROM s, f GROUP BY f.geom`,
    [V.main.id, new Date(script.stopStart), new Date(script.stopEnd)]);
  assert.equal(chk.n, s.properties.positions);
  assert.ok(chk.far <= 50, `spread ${chk.far}`);
  assert.ok(chk.vmax <= 1.5);
  assert.ok(Math.abs(chk.cx - s.geometry.coordinates[0]) < 1e-6 && Math.abs(chk.cy - s.geometry.coordinates[1]) < 1e-6);
  const [edge] = await stack.sql(
    `SELECT (SELECT speed_kn FROM positions WHERE vessel_id = $1 AND fix_valid AND device_time < $2 ORDER BY device_time DESC LIMIT 1) AS before,
            (SELECT speed_kn FROM positions WHERE vessel_id = $1 AND fix_valid AND device_time > $3 ORDER BY device_time LIMIT 1) AS after`,
    [V.main.id, new Date(script.stopStart), new Date(script.stopEnd)]);
  assert.ok(edge.before > 1.5 && edge.after > 1.5, JSON.stringify(edge));

  // thresholds are parameters: a 50 s minimum makes the 60 s pause a stop too; a 1 m radius breaks both
  const r2 = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q({ ...RANGE, stop_min_s: 50 })}`, null, token);
  const s2 = r2.json.features.filter((f) => f.properties.kind === 'stop');
  assert.equal(s2.length, 2, r2.text.slice(0, 300));
  assert.equal(Date.parse(s2[1].properties.start), script.pauseStart);
  assert.equal(r2.json.stop_min_s, 50);
  const r3 = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q({ ...RANGE, stop_radius: 1 })}`, null, token);
  assert.equal(r3.json.features.filter((f) => f.properties.kind === 'stop').length, 0);
});

t('zone visits: MZ-01 entered and left, at the times PostGIS finds on the track line', async () => {
  const r = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q(RANGE)}`, null, token);
  const visits = r.json.features.filter((f) => f.properties.kind === 'zone_visit');
  // PostGIS, independently: the track as a LineStringM (M = epoch seconds), cut by every zone of the current
  // layer versions, the cut pieces' ends located back on the line
  const rows = await stack.sql(
    `WITH l AS (SELECT ST_SetSRID(ST_MakeLine(ST_MakePointM(ST_X(geom), ST_Y(geom), extract(epoch FROM device_time)::float8)
                ORDER BY device_time), 4326) AS g FROM positions WHERE vessel_id = $1 AND fix_valid),
          z AS (SELECT f.code, l.name AS layer, l.kind, f.geom FROM layers l JOIN features f ON f.layer_version_id = l.current_version_id
                WHERE l.kind IN ('mining_zone', 'parking', 'no_mining', 'protection'))
     SELECT z.code, z.layer, z.kind,
            min(least(ST_InterpolatePoint(l.g, ST_StartPoint(d.geom)), ST_InterpolatePoint(l.g, ST_EndPoint(d.geom)))) AS enter,
            max(greatest(ST_InterpolatePoint(l.g, ST_StartPoint(d.geom)), ST_InterpolatePoint(l.g, ST_EndPoint(d.geom)))) AS exit
     FROM l, z, ST_Dump(ST_Intersection(ST_Force2D(l.g), z.geom)) d
     WHERE ST_Intersects(ST_Force2D(l.g), z.geom) AND ST_GeometryType(d.geom) = 'ST_LineString'
     GROUP BY z.code, z.layer, z.kind ORDER BY enter`, [V.main.id]);
  assert.deepEqual(rows.map((x) => x.code), ['MZ-01']);
  assert.equal(visits.length, rows.length, JSON.stringify(visits.map((v) => v.properties)));
  const v = visits[0].properties;
  assert.equal(v.code, 'MZ-01');
  assert.equal(v.layer, 'demo_mining_zones');
  assert.equal(v.layer_kind, 'mining_zone');
  assert.equal(v.name, '昌江可采区1号');
  assert.match(v.enter, ISO_OFFSET);
  assert.ok(Math.abs(Date.parse(v.enter) / 1000 - rows[0].enter) < 1, `enter ${v.enter} vs ${rows[0].enter}`);
  assert.ok(Math.abs(Date.parse(v.exit) / 1000 - rows[0].exit) < 1, `exit ${v.exit} vs ${rows[0].exit}`);
  assert.ok(Date.parse(v.enter) < script.stopStart && Date.parse(v.exit) > script.stopEnd);
  assert.equal(v.inside_at_start, false);
  assert.ok(['Polygon', 'MultiPolygon'].includes(visits[0].geometry.type));
  // a range that starts inside the zone: entered at the range's first fix
  const r2 = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q({ from: iso(script.stopStart + 60e3), to: RANGE.to })}`, null, token);
  const v2 = r2.json.features.filter((f) => f.properties.kind === 'zone_visit');
  assert.equal(v2.length, 1);
  assert.equal(v2[0].properties.inside_at_start, true);
  assert.equal(Date.parse(v2[0].properties.enter), script.stopStart + 60e3);
});

t('simplify: fewer points, every fix within the tolerance of the simplified line', async () => {
  const r = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q({ ...RANGE, simplify: 10 })}`, null, token);
  assert.equal(r.status, 200, r.text);
  const line = r.json.features.find((f) => f.properties.kind === 'track');
  assert.equal(line.properties.simplify_m, 10);
  assert.ok(line.properties.points < line.properties.points_in_range / 4, `${line.properties.points} of ${line.properties.points_in_range}`);
  assert.equal(line.geometry.coordinates.length, line.properties.points);
  const [{ far }] = await stack.sql(
    `SELECT max(ST_Distance(p.geom::geography, ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)::geography)) AS far
     FROM positions p WHERE p.vessel_id = $1 AND p.fix_valid AND p.device_time BETWEEN $3 AND $4`,
    [V.main.id, JSON.stringify(line.geometry), new Date(RANGE.from), new Date(RANGE.to)]);
  assert.ok(far <= 10.05, `farthest fix ${far} m from the simplified line`);
  assert.ok(far > 1, 'the zigzag and the stop jitter were simplified away');
  // the kept vertices are real fixes
  const pos = r.json.features.filter((f) => f.properties.kind === 'position');
  assert.equal(r.json.positions_mode, 'all', 'few fixes: all of them still come');
  assert.equal(pos.length, line.properties.points_in_range);
  // stops do not depend on simplification
  assert.equal(r.json.features.filter((f) => f.properties.kind === 'stop').length, 1);
  // a longer range than a day: 10 m by default
  const r2 = await stack.api('GET', `/api/vessels/${V.main.id}/track?${q({ from: iso(T0 - 23 * 3600e3), to: RANGE.to })}`, null, token);
  assert.equal(r2.json.simplify_m, 10);
  assert.equal(r2.json.features.find((f) => f.properties.kind === 'track').properties.simplify_m, 10);
});

t('a long track: 6000 fixes simplified; positions limited to the line\'s vertices and the property says so', async () => {
  const range = { from: iso(T0 - 1000), to: iso(T0 + 6000e3) };
  const all = await stack.api('GET', `/api/vessels/${V.long.id}/track?${q({ ...range, simplify: 0 })}`, null, token);
  assert.equal(all.status, 200);
  assert.equal(all.json.features.filter((f) => f.properties.kind === 'position').length, 6000);
  assert.equal(all.json.positions_mode, 'all');
  const r = await stack.api('GET', `/api/vessels/${V.long.id}/track?${q({ ...range, simplify: 5 })}`, null, token);
  const line = r.json.features.find((f) => f.properties.kind === 'track');
  assert.equal(line.properties.points_in_range, 6000);
  assert.ok(line.properties.points < 100, `${line.properties.points} vertices`);
  assert.equal(r.json.positions_mode, 'vertices');
  assert.equal(line.properties.positions_mode, 'vertices');
  const pos = r.json.features.filter((f) => f.properties.kind === 'position');
  assert.equal(pos.length, line.properties.points);
  assert.deepEqual(pos.map((f) => f.geometry.coordinates), line.geometry.coordinates);
});

t('bad input: 400 for times, ranges and numbers; 404 for an unknown vessel or format; 401 without a token', async () => {
  const base = `/api/vessels/${V.main.id}/track`;
  for (const qs of ['from=yesterday', 'from=2024-05-01T08:00:00', `from=${encodeURIComponent(RANGE.to)}&to=${encodeURIComponent(RANGE.from)}`,
    'simplify=-1', 'simplify=abc', 'stop_radius=0', `from=2023-01-01T00:00:00Z&to=2024-06-01T00:00:00Z`]) {
    const r = await stack.api('GET', `${base}?${qs}`, null, token);
    assert.equal(r.status, 400, `${qs}: ${r.text}`);
    assert.ok(r.json.error, r.text);
  }
  // an unencoded "+08:00" arrives as a space and is still understood
  const plus = await stack.api('GET', `${base}?from=${iso(T0 + 8 * 3600e3).slice(0, 19)}+08:00&to=${RANGE.to}`, null, token);
  assert.equal(plus.status, 200, plus.text);
  assert.equal(Date.parse(plus.json.from), T0);
  for (const p of ['/api/vessels/999999/track', '/api/vessels/999999/track.csv', '/api/vessels/999999/track/evidence.html', '/api/vessels/abc/track',
    '/api/alerts/999999/evidence.csv', `/api/vessels/${V.main.id}/track.shp`, `/api/vessels/${V.main.id}/track.html`]) {
    const r = await stack.api('GET', p, null, token);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
  }
  for (const p of [base, `${base}.csv`, `${base}.kml`, `${base}/evidence.html`, '/api/alerts/1/evidence.html']) {
    const r = await stack.api('GET', p);
    assert.equal(r.status, 401, `${p}: ${r.text}`);
  }
  const w = await stack.api('POST', '/api/query/within', { geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } });
  assert.equal(w.status, 401);
});

t('within: the vessels inside a polygon between two times, as PostGIS answers directly', async () => {
  const [{ g }] = await stack.sql(
    `SELECT ST_AsGeoJSON(f.geom) AS g FROM layers l JOIN features f ON f.layer_version_id = l.current_version_id
     WHERE l.name = 'demo_mining_zones' AND f.code = 'MZ-01'`);
  const geometry = JSON.parse(g);
  const body = { geometry, from: iso(T0 - 60e3), to: iso(T0 + 2 * 3600e3) };
  const r = await stack.api('POST', '/api/query/within', body, viewerToken);
  assert.equal(r.status, 200, r.text);
  const direct = await stack.sql(
    `SELECT v.id, v.name, v.kind, min(p.device_time) AS first, max(p.device_time) AS last, count(*)::int AS n
     FROM positions p JOIN vessels v ON v.id = p.vessel_id
     WHERE p.fix_valid AND p.device_time BETWEEN $2 AND $3 AND ST_Covers(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), p.geom)
     GROUP BY v.id ORDER BY v.id`, [g, new Date(body.from), new Date(body.to)]);
  assert.deepEqual(r.json.vessels.map((x) => x.id), direct.map((x) => x.id));
  assert.deepEqual(r.json.vessels.map((x) => x.id).sort(), [V.main.id, V.other.id].sort());
  for (const [i, x] of r.json.vessels.entries()) {
    assert.equal(x.name, direct[i].name);
    assert.equal(x.kind, direct[i].kind);
    assert.equal(x.positions, direct[i].n);
    assert.equal(Date.parse(x.first), direct[i].first.getTime());
    assert.equal(Date.parse(x.last), direct[i].last.getTime());
    assert.match(x.first, ISO_OFFSET);
  }
  assert.equal(r.json.vessels.find((x) => x.id === V.other.id).positions, 5, 'the two fixes before the range do not count');
  // a MultiPolygon far away: nobody
  const far = await stack.api('POST', '/api/query/within', { geometry: { type: 'MultiPolygon', coordinates: [[[[100, 10], [100.1, 10], [100.1, 10.1], [100, 10]]]] }, from: body.from, to: body.to }, token);
  assert.equal(far.status, 200, far.text);
  assert.deepEqual(far.json.vessels, []);
});

t('within: 400 on bad geometry (PostGIS names the problem) or a range over 31 days', async () => {
  const from = iso(T0), to = iso(T0 + 3600e3);
  const cases = [
    [{ geometry: { type: 'Point', coordinates: [117.2, 29.4] }, from, to }, /Polygon or MultiPolygon/],
    [{ geometry: { type: 'Polygon', coordinates: [[[117.2, 29.4], [117.3, 29.4]]] }, from, to }, /geometry/],
    [{ geometry: { type: 'Polygon', coordinates: 'nope' }, from, to }, /geometry/],
    [{ geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]] }, from, to }, /not valid: Self-intersection/],
    [{ geometry: { type: 'Polygon', coordinates: [[[117.2, 29.4], [117.3, 29.4], [117.3, 29.5], [117.2, 29.4]]] }, from: iso(T0 - 40 * 86400e3), to }, /31 days/],
    [{ geometry: { type: 'Polygon', coordinates: [[[117.2, 29.4], [117.3, 29.4], [117.3, 29.5], [117.2, 29.4]]] }, from: 'noon', to }, /ISO-8601/],
    [{ geometry: { type: 'Polygon', coordinates: [[[117.2, 29.4], [117.3, 29.4], [117.3, 29.5], [117.2, 29.4]]] }, from: to, to: from }, /after/],
    [{ geometry: { type: 'Polygon', coordinates: [[[500000, 3200000], [501000, 3200000], [501000, 3201000], [500000, 3200000]]] }, from, to }, /lon\/lat/],
  ];
  for (const [body, re] of cases) {
    const r = await stack.api('POST', '/api/query/within', body, token);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 120)}: ${r.text}`);
    assert.match(r.json.error, re);
  }
});

t('exports: GeoJSON, KML, GPX and CSV open in GDAL with the right features and attributes, Chinese intact', async () => {
  const id = V.main.id;
  const [{ n, nvalid }] = await stack.sql('SELECT count(*)::int AS n, count(*) FILTER (WHERE fix_valid)::int AS nvalid FROM positions WHERE vessel_id = $1', [id]);
  const types = { geojson: 'application/geo+json', kml: 'application/vnd.google-earth.kml+xml', gpx: 'application/gpx+xml', csv: 'text/csv; charset=utf-8' };
  const files = {};
  for (const ext of Object.keys(types)) {
    const r = await download(`/api/vessels/${id}/track.${ext}?${q(RANGE)}`, viewerToken);
    assert.equal(r.status, 200, `${ext}: ${r.text.slice(0, 300)}`);
    assert.equal(r.headers.get('content-type'), types[ext]);
    const cd = r.headers.get('content-disposition');
    assert.match(cd, new RegExp(`^attachment; filename="track-${id}-\\d{8}-\\d{4}\\.${ext}"; filename\\*=UTF-8''`));
    assert.ok(utf8Filename(cd).startsWith(NAME), cd);
    assert.ok(utf8Filename(cd).endsWith(`.${ext}`), cd);
    files[ext] = saveAs(r.buf, `track.${ext}`);
  }

  const gj = await layerCounts(files.geojson);
  assert.equal(Object.values(gj)[0], 1 + n + 1 + 1, JSON.stringify(gj)); // track + every fix + 1 stop + 1 zone visit
  const gjText = fs.readFileSync(files.geojson, 'utf8');
  assert.ok(JSON.parse(gjText).vessel_detail.name === NAME);

  const kml = await layerCounts(files.kml);
  assert.deepEqual(kml, { track: 1, positions: n, stops: 1, zone_visits: 1 });
  const kmlAll = await ogrinfo(files.kml);
  assert.ok(kmlAll.includes(`Name (String) = ${NAME}`), 'the vessel name in the KML (LIBKML reads <name> as Name)');
  assert.ok(kmlAll.includes('昌江可采区1号'), 'the zone name in the KML');
  assert.match(kmlAll, /timestamp \(DateTime\) = \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(\.\d+)?\+08/);
  assert.match(kmlAll, /speed_kn \((Real|String)\) = 5/); // <Data> elements: read back as strings
  assert.match(fs.readFileSync(files.kml, 'utf8'), /<TimeStamp>\s*<when>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00<\/when>/);

  const gpx = await layerCounts(files.gpx);
  assert.equal(gpx.waypoints, 1, JSON.stringify(gpx));
  assert.equal(gpx.track_points, nvalid);
  assert.equal(gpx.tracks, 1);
  const gpxAll = await ogrinfo(files.gpx);
  assert.ok(gpxAll.includes(`name (String) = ${NAME}`), 'the track is named after the vessel');
  assert.ok(gpxAll.includes('停泊 1 Stop 1'));
  assert.match(gpxAll, /sw_speed_kn \(Real\) = 5/);

  const csv = await layerCounts(files.csv);
  assert.equal(Object.values(csv)[0], n);
  const csvAll = await ogrinfo(files.csv);
  assert.ok(csvAll.includes(`vessel (String) = ${NAME}`));
  assert.match(csvAll, /time \(String\) = \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00/);
  assert.match(csvAll, /fix_valid \(String\) = 0/, 'the invalid fix is in the CSV');
  const raws = await stack.sql("SELECT raw FROM positions WHERE vessel_id = $1 AND protocol = 'jt808' ORDER BY device_time", [id]);
  assert.equal(raws.length, script.jt808.length);
  const csvText = fs.readFileSync(files.csv, 'utf8');
  assert.ok(csvText.startsWith('\ufeffseq,vessel_id,vessel,time,lon,lat,speed_kn,course,fix_valid,blind,protocol,received,alarm_bits,raw\r\n'), csvText.slice(0, 200));
  for (const { raw } of raws) assert.ok(csvText.includes(raw), 'the raw JT/T 808 frame (hex) is in the CSV');
});

t('the evidence sheet: self-contained HTML with the SVG map, raw hex, and the SHA-256 of the CSV export', async () => {
  const id = V.main.id;
  const r = await download(`/api/vessels/${id}/track/evidence.html?${q(RANGE)}`);
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="track-\d+-\d{8}-\d{4}-evidence\.html"; filename\*=UTF-8''/);
  assert.match(r.headers.get('content-security-policy'), /default-src 'self'/, 'the server\'s CSP applies');
  assert.ok(utf8Filename(r.headers.get('content-disposition')).startsWith(NAME));
  const html = r.text;
  saveAs(r.buf, 'evidence.html');
  assert.match(html, /^<!DOCTYPE html>\n<html lang="zh-CN">/);
  assert.ok(!/<script/i.test(html), 'no script');
  assert.ok(!/\b(src|href)=/i.test(html), 'nothing fetched from elsewhere');
  assert.ok(html.includes(NAME));
  assert.ok(html.includes('TEST-13900000088'));
  const svg = html.match(/<svg[\s\S]*?<\/svg>/);
  assert.ok(svg, 'an inline SVG map');
  assert.match(svg[0], /<polyline [^>]*stroke="#1f4e9c"/, 'the track');
  assert.match(svg[0], /<path d="M[^"]+" fill="#cdebc3"/, 'a mining zone in light fill');
  assert.match(svg[0], />N<\/text>/, 'a north arrow');
  assert.match(svg[0], />\d+(\.\d+)? k?m<\/text>/, 'a scale bar');
  assert.match(svg[0], />MZ-01<\/text>/);
  const raws = await stack.sql("SELECT raw FROM positions WHERE vessel_id = $1 AND protocol = 'jt808'", [id]);
  for (const { raw } of raws) {
    assert.match(raw, /^[0-9a-f]+$/i);
    assert.ok(html.includes(raw), 'the raw frame (hex) in the positions table');
  }
  assert.ok(html.includes('停泊') && html.includes('昌江可采区1号'));
  // the hash: printed, with the CSV download it covers; downloading that CSV gives the same hash
  const hash = html.match(/<p class="hash" id="sha256">([0-9a-f]{64})<\/p>/)[1];
  const url = html.match(/<code>GET (\/api\/vessels\/\d+\/track\.csv\?[^<]+)<\/code>/)[1].replace(/&amp;/g, '&');
  const csv = await download(url);
  assert.equal(csv.status, 200);
  assert.equal(crypto.createHash('sha256').update(csv.buf).digest('hex'), hash);
  assert.ok(html.includes(`（${csv.buf.length} 字节 bytes`), 'the byte count');
  // the same CSV as the export of the same range
  const direct = await download(`/api/vessels/${id}/track.csv?${q(RANGE)}`);
  assert.equal(crypto.createHash('sha256').update(direct.buf).digest('hex'), hash);
  // times in the sheet are local (UTC+8): the stop's start
  const local = new Date(script.stopStart + 8 * 3600e3).toISOString().replace('T', ' ').slice(0, 19);
  assert.ok(html.includes(local), `the stop start ${local} in local time`);
});

t('alert evidence: its fixes marked, the positions from 10 minutes before it opened, the rule and thresholds', async () => {
  const id = V.main.id;
  const evid = script.fixes.filter((f) => { const x = Date.parse(f.time); return x >= script.stopStart && x <= script.stopStart + 20e3; })
    .map((f) => ({ time: iso(Date.parse(f.time)), lon: f.lon, lat: f.lat, speed_kn: f.speed_kn, course: f.course }));
  const opened = script.stopStart + 600e3, closed = script.stopEnd;
  const [{ aid }] = await stack.sql(
    `INSERT INTO alerts (vessel_id, kind, subject, severity, opened_at, updated_at, closed_at, geom, detail, evidence)
     VALUES ($1, 'no_permit', 'demo_mining_zones/MZ-01', 3, $2, $3, $3, ST_SetSRID(ST_MakePoint($4, $5), 4326), $6, $7)
     RETURNING id::int AS aid`,
    [id, new Date(opened), new Date(closed), P1[0], P1[1],
      JSON.stringify({ rule: '停泊 600 s，无有效许可 stopped 600 s without a valid permit', stop_alert_s: 600, stopped_s: 600, zone: 'MZ-01' }),
      JSON.stringify(evid)]);
  const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE vessel_id = $1 AND device_time BETWEEN $2 AND $3',
    [id, new Date(opened - 600e3), new Date(closed)]);

  const c = await download(`/api/alerts/${aid}/evidence.csv`, viewerToken);
  assert.equal(c.status, 200, c.text);
  assert.equal(c.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(c.headers.get('content-disposition'), new RegExp(`^attachment; filename="alert-${aid}-evidence\\.csv"; filename\\*=UTF-8''`));
  const cname = utf8Filename(c.headers.get('content-disposition'));
  assert.ok(cname.startsWith(`${NAME}-`) && cname.includes(String(aid)) && cname.endsWith('.csv'), cname);
  const f = saveAs(c.buf, 'alert.csv');
  assert.equal(Object.values(await layerCounts(f))[0], n);
  const all = await ogrinfo(f);
  assert.equal((all.match(/evidence \(String\) = 1/g) || []).length, evid.length);

  for (const [ext, check] of [
    ['geojson', (counts) => assert.equal(Object.values(counts)[0], 1 + n + 1 + 1)],
    ['kml', (counts) => assert.deepEqual(counts, { track: 1, positions: n, stops: 1, zone_visits: 1 })],
    ['gpx', (counts) => assert.equal(counts.track_points, n)],
  ]) {
    const r = await download(`/api/alerts/${aid}/evidence.${ext}`);
    assert.equal(r.status, 200, `${ext}: ${r.text.slice(0, 200)}`);
    check(await layerCounts(saveAs(r.buf, `alert.${ext}`)));
  }
  const gj = JSON.parse((await download(`/api/alerts/${aid}/evidence.geojson`)).text);
  assert.equal(gj.alert.id, aid);
  assert.equal(gj.features.filter((x) => x.properties.evidence === true).length, evid.length);

  const h = await download(`/api/alerts/${aid}/evidence.html`);
  assert.equal(h.status, 200, h.text.slice(0, 200));
  saveAs(h.buf, 'alert-evidence.html');
  assert.ok(h.text.includes('无证作业 No valid permit'));
  assert.ok(h.text.includes('停泊 600 s，无有效许可'), 'the rule that fired');
  assert.ok(h.text.includes('<code>stop_alert_s</code></th><td>600</td>'), 'its thresholds');
  assert.equal((h.text.match(/<tr class="ev">/g) || []).length, evid.length, 'evidence rows marked');
  assert.match(h.text, /<circle [^>]*fill="#d62728"/, 'evidence fixes on the map');
  const hash = h.text.match(/<p class="hash" id="sha256">([0-9a-f]{64})<\/p>/)[1];
  const url = h.text.match(/<code>GET (\/api\/alerts\/\d+\/evidence\.csv\?to=[^<]+)<\/code>/)[1];
  const again = await download(url);
  assert.equal(crypto.createHash('sha256').update(again.buf).digest('hex'), hash);
  assert.equal(crypto.createHash('sha256').update(c.buf).digest('hex'), hash, 'a closed alert: the plain CSV is the same');

  // an alert whose vessel is unknown (an unregistered terminal): its evidence fixes alone
  const [{ uid }] = await stack.sql(
    `INSERT INTO alerts (vessel_id, kind, subject, opened_at, updated_at, detail, evidence)
     VALUES (NULL, 'unregistered', '13912345678', $1, $1, '{"rule":"unregistered terminal"}', $2) RETURNING id::int AS uid`,
    [new Date(T0 + 3600e3), JSON.stringify(evid.slice(0, 2))]);
  const u = await download(`/api/alerts/${uid}/evidence.csv?to=${encodeURIComponent(iso(T0 + 2 * 3600e3))}`);
  assert.equal(u.status, 200, u.text);
  assert.equal(Object.values(await layerCounts(saveAs(u.buf, 'unreg.csv')))[0], 2);
  assert.equal(utf8Filename(u.headers.get('content-disposition')), `未登记终端-告警${uid}-证据.csv`, 'short enough for the whole name');
  const uh = await download(`/api/alerts/${uid}/evidence.html?to=${encodeURIComponent(iso(T0 + 2 * 3600e3))}`);
  assert.equal(uh.status, 200, uh.text.slice(0, 300));
  assert.ok(uh.text.includes('13912345678'));
});
