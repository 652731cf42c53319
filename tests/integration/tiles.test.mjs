// tiles.test.mjs -- vector tiles and TileJSON of the demo layers: tiles decoded by GDAL's own MVT driver,
// Chinese attributes, empty tiles, ETag/If-None-Match, errors, and a new layer version showing up.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, logOnFailure, startStack, waitUntil } from '../lib/stack.mjs';

const execFileP = promisify(execFile);
const LAYER = 'demo_mining_zones';
const Z = 14;

let stack;
let token;
let tmp;

before(async () => {
  stack = await startStack({ demo: true });
  token = await stack.login();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-tiles-'));
});
after(async () => {
  if (stack) await stack.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const t = (name, fn) => test(name, logOnFailure(() => stack, fn));

/** The XYZ tile holding lon/lat at zoom z (Web Mercator, y down from the north). */
function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return { x, y };
}

async function getTile(p, headers = {}, auth = token) {
  const h = { ...headers };
  if (auth) h.Authorization = `Bearer ${auth}`;
  const res = await fetch(stack.http + p, { headers: h });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes };
}

let seq = 0;
/** Decodes a tile with GDAL's MVT driver (`ogrinfo -al`): { layers: {name: [ {attr: value} ]} }. The file is
 *  written as z/x/y.mvt so that GDAL georeferences it like a tile of a tile set. */
async function decode(bytes, z, x, y) {
  const dir = path.join(tmp, String(seq++), String(z), String(x));
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${y}.mvt`);
  fs.writeFileSync(file, bytes);
  const { stdout } = await execFileP('ogrinfo', ['-ro', '-al', file], { maxBuffer: 16 << 20 });
  const layers = {};
  let layer = null;
  let feature = null;
  for (const line of stdout.split('\n')) {
    let m = /^Layer name: (.*)$/.exec(line);
    if (m) {
      layer = layers[m[1]] = [];
      feature = null;
      continue;
    }
    if (/^OGRFeature\(/.test(line) && layer) {
      feature = {};
      layer.push(feature);
      continue;
    }
    m = /^ {2}(.+?) \((\w+)\) = (.*)$/.exec(line);
    if (m && feature) feature[m[1]] = m[2] === 'String' ? m[3] : Number(m[3]);
    else if (feature && /^ {2}(MULTI)?POLYGON/.test(line)) {
      feature.wkt = line.trim();
      feature.xy = [...line.matchAll(/(-?[\d.]+) (-?[\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])]);
    }
  }
  return { layers, text: stdout };
}

const zones = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'demo', 'mining_zones.geojson'), 'utf8'));
const mz1 = zones.features.find((f) => f.properties.code === 'MZ-01');
const [lon1, lat1] = mz1.geometry.coordinates[0][0];
const { x: X, y: Y } = tileOf(lon1, lat1, Z);
const TILE = `/tiles/${LAYER}/${Z}/${X}/${Y}.mvt`;

/** EPSG:3857 metres of lon/lat. */
function mercator(lon, lat) {
  const R = 6378137;
  return [(R * lon * Math.PI) / 180, R * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360))];
}

/** Names (名称) of the current version's features in tile z/x/y with the 64/4096 buffer, per PostGIS. */
async function namesInTile(z, x, y) {
  const rows = await stack.sql(
    `SELECT f.props->>'名称' AS name FROM features f JOIN layers l ON f.layer_version_id = l.current_version_id
      WHERE l.name = $1 AND ST_Intersects(ST_Transform(f.geom, 3857), ST_TileEnvelope($2, $3, $4, margin => 64.0 / 4096))`,
    [LAYER, z, x, y]);
  return rows.map((r) => r.name).sort();
}

t('a z14 tile over the mining zones decodes with GDAL: layer name, features, Chinese attributes', async () => {
  const r = await getTile(TILE);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
  assert.equal(r.headers.get('cache-control'), 'private, max-age=60');
  assert.match(r.headers.get('etag') || '', /^"[^"]+"$/, 'a strong ETag');
  assert.ok(r.bytes.length > 0);
  const { layers, text } = await decode(r.bytes, Z, X, Y);
  assert.deepEqual(Object.keys(layers), [LAYER], text);
  const feats = layers[LAYER];
  const expected = await namesInTile(Z, X, Y);
  assert.ok(expected.length >= 1);
  assert.equal(feats.length, expected.length, text);
  assert.deepEqual(feats.map((f) => f['名称']).sort(), expected);
  const f1 = feats.find((f) => f.code === 'MZ-01');
  assert.ok(f1, text);
  assert.equal(f1['名称'], '昌江可采区1号');
  assert.equal(f1['河段'], '昌江上游河段');
  assert.equal(f1['长度_m'], 600);
  assert.equal(f1['说明'], '演示数据 demo data');
  // geometry: every source vertex inside the tile lands within a tile unit (~0.6 m at z14) of a decoded
  // vertex (outside the tile and its buffer, polygons are clipped)
  assert.ok(f1.xy?.length >= 4, text);
  const W = 20037508.342789244;
  const size = (2 * W) / 2 ** Z;
  const [minx, maxy] = [-W + X * size, W - Y * size];
  let inside = 0;
  for (const [lon, lat] of mz1.geometry.coordinates[0]) {
    const [mx, my] = mercator(lon, lat);
    if (mx < minx || mx > minx + size || my > maxy || my < maxy - size) continue;
    inside++;
    const d = Math.min(...f1.xy.map(([x, y]) => Math.hypot(x - mx, y - my)));
    assert.ok(d < 1.5, `vertex ${lon},${lat} is ${d.toFixed(2)} m from the decoded polygon ${f1.wkt}`);
  }
  assert.ok(inside >= 2, 'MZ-01 has vertices inside the tile');
});

t('the same tile again comes from the cache, byte for byte', async () => {
  const a = await getTile(TILE);
  const b = await getTile(TILE);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.deepEqual(b.bytes, a.bytes);
  assert.equal(b.headers.get('etag'), a.headers.get('etag'));
});

t('an empty tile far away (z14 over the Atlantic) is 200 with zero features', async () => {
  const { x, y } = tileOf(-30, 30, Z);
  const r = await getTile(`/tiles/${LAYER}/${Z}/${x}/${y}.mvt`);
  assert.equal(r.status, 200);
  assert.equal(r.bytes.length, 0);
  assert.ok(r.headers.get('etag'));
});

t('If-None-Match with the ETag is 304 with no body; a different one is 200', async () => {
  const a = await getTile(TILE);
  const etag = a.headers.get('etag');
  const b = await getTile(TILE, { 'If-None-Match': etag });
  assert.equal(b.status, 304);
  assert.equal(b.bytes.length, 0);
  assert.equal(b.headers.get('etag'), etag);
  // after the 1 s revalidation window, the database is asked again and still says 304
  await new Promise((res) => setTimeout(res, 1100));
  const c = await getTile(TILE, { 'If-None-Match': `"other", W/${etag}` });
  assert.equal(c.status, 304);
  const d = await getTile(TILE, { 'If-None-Match': '"mvt1-0-0-0-0"' });
  assert.equal(d.status, 200);
  assert.deepEqual(d.bytes, a.bytes);
});

t('errors: unknown layer 404, bad z/x/y 400, other suffix 404, no token 401', async () => {
  assert.equal((await getTile(`/tiles/no_such_layer/${Z}/${X}/${Y}.mvt`)).status, 404);
  for (const p of ['23/0/0', '-1/0/0', 'a/0/0', '14/16384/0', '14/0/16384', '14/x/0', '0/1/0', '14/1.5/0', '14/0/']) {
    const r = await getTile(`/tiles/${LAYER}/${p}.mvt`);
    assert.equal(r.status, 400, `${p}: ${r.status}`);
  }
  assert.equal((await getTile(`/tiles/${LAYER}/${Z}/${X}/${Y}.png`)).status, 404);
  assert.equal((await getTile(TILE, {}, null)).status, 401);
  assert.equal((await getTile(`/tiles/${LAYER}.json`, {}, null)).status, 401);
  assert.equal((await getTile('/tiles/no_such_layer.json')).status, 404);
});

t('TileJSON 3.0.0: fields, bounds, center and the tile URL template', async () => {
  const r = await stack.api('GET', `/tiles/${LAYER}.json`, null, token);
  assert.equal(r.status, 200, r.text);
  const j = r.json;
  assert.equal(j.tilejson, '3.0.0');
  assert.equal(j.name, LAYER);
  assert.deepEqual(j.tiles, [`${stack.http}/tiles/${LAYER}/{z}/{x}/{y}.mvt`]);
  assert.equal(j.minzoom, 0);
  assert.equal(j.maxzoom, 22);
  assert.equal(j.bounds.length, 4);
  const [w, s, e, n] = j.bounds;
  for (const f of zones.features) {
    for (const [lon, lat] of f.geometry.coordinates[0]) {
      assert.ok(lon >= w - 1e-9 && lon <= e + 1e-9 && lat >= s - 1e-9 && lat <= n + 1e-9, `${lon},${lat} in ${j.bounds}`);
    }
  }
  assert.equal(j.center.length, 3);
  assert.ok(j.center[0] > w && j.center[0] < e && j.center[1] > s && j.center[1] < n);
  assert.equal(j.vector_layers.length, 1);
  const vl = j.vector_layers[0];
  assert.equal(vl.id, LAYER);
  assert.equal(vl.fields['名称'], 'String');
  assert.equal(vl.fields['河段'], 'String');
  assert.equal(vl.fields['长度_m'], 'Number');
  assert.equal(vl.fields.code, 'String');
  // the template works as it is
  const url = j.tiles[0].replace('{z}', Z).replace('{x}', X).replace('{y}', Y);
  const tr = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(tr.status, 200);
});

t('a new version of the layer shows in the next tiles (within ~1 s) with a new ETag', async () => {
  const before1 = await getTile(TILE);
  const oldTag = before1.headers.get('etag');
  const changed = structuredClone(zones);
  changed.features = changed.features.filter((f) => f.properties.code === 'MZ-01');
  changed.features[0].properties['名称'] = '昌江可采区1号（调整）';
  const file = path.join(tmp, 'mining_zones_v2.geojson');
  fs.writeFileSync(file, JSON.stringify(changed));
  await stack.cli(['load', '--kind', 'mining_zone', '--name', LAYER, '--code-field', 'code', file]);

  const after1 = await waitUntil(async () => {
    const r = await getTile(TILE);
    return r.status === 200 && r.headers.get('etag') !== oldTag ? r : null;
  }, { ms: 3000, what: 'a tile of the new version' });
  const { layers, text } = await decode(after1.bytes, Z, X, Y);
  assert.equal(layers[LAYER].length, 1, text);
  assert.equal(layers[LAYER][0]['名称'], '昌江可采区1号（调整）');
  // the old ETag no longer validates
  const r = await getTile(TILE, { 'If-None-Match': oldTag });
  assert.equal(r.status, 200);
  // and TileJSON follows the new version
  const tj = await stack.api('GET', `/tiles/${LAYER}.json`, null, token);
  assert.equal(tj.status, 200);
  assert.ok(tj.json.bounds[2] - tj.json.bounds[0] < 0.01, `bounds of one zone: ${tj.json.bounds}`);
});

/** lon/lat of EPSG:3857 metres. */
function lonLat(x, y) {
  const R = 6378137;
  return [(x / R) * (180 / Math.PI), (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * (180 / Math.PI)];
}

t('low zooms leave out features smaller than a pixel; points, lines and big areas stay; high zooms keep all', async () => {
  // 30 squares 40 m wide (under a z10 pixel, 153 m; 8 pixels at z15), one 2 km square, a 1.5 km
  // line of no width, and a point, near 117.3 E 29.5 N
  const sq = (lon, lat, d) => ({ type: 'Polygon', coordinates: [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]] });
  const features = [];
  for (let i = 0; i < 30; i++) {
    features.push({ type: 'Feature', properties: { code: `T${i}`, 名称: `小块${i}` }, geometry: sq(117.30 + (i % 6) * 0.002, 29.50 + Math.floor(i / 6) * 0.002, 0.0004) });
  }
  features.push({ type: 'Feature', properties: { code: 'BIG', 名称: '大块' }, geometry: sq(117.33, 29.50, 0.02) });
  features.push({ type: 'Feature', properties: { code: 'LINE', 名称: '线' }, geometry: { type: 'LineString', coordinates: [[117.30, 29.53], [117.315, 29.53]] } });
  features.push({ type: 'Feature', properties: { code: 'PT', 名称: '点' }, geometry: { type: 'Point', coordinates: [117.31, 29.49] } });
  const file = path.join(tmp, 'tiny.geojson');
  fs.writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features }));
  await stack.cli(['load', '--kind', 'function_zone', '--name', 'tiny', '--code-field', 'code', file]);

  const codesIn = async (z, lon, lat) => {
    const { x, y } = tileOf(lon, lat, z);
    const r = await getTile(`/tiles/tiny/${z}/${x}/${y}.mvt`);
    assert.equal(r.status, 200);
    const { layers, text } = await decode(r.bytes, z, x, y);
    return { codes: (layers.tiny || []).map((f) => f.code).sort(), text };
  };
  // z10: one tile holds them all (117.3-117.35 E, 29.49-29.53 N)
  assert.deepEqual((await codesIn(10, 117.31, 29.51)).codes, ['BIG', 'LINE', 'PT']);
  // z15: a small square is 8 pixels wide, and there
  const z15 = await codesIn(15, 117.3002, 29.5002);
  assert.ok(z15.codes.includes('T0'), z15.text);
  // and every source feature is in some z15 tile: none is lost for good
  const seen = new Set();
  for (const f of features) {
    const [lon, lat] = f.geometry.type === 'Point' ? f.geometry.coordinates
      : f.geometry.type === 'LineString' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
    for (const c of (await codesIn(15, lon + 1e-6, lat + 1e-6)).codes) seen.add(c);
  }
  assert.equal(seen.size, features.length);
});

t('a large polygon is simplified for a low-zoom tile without leaving the shape', async () => {
  // a 2,000-vertex circle of radius 400 m in Web Mercator metres around 117.25 E 29.45 N
  const [cx, cy] = mercator(117.25, 29.45);
  const r = 400;
  const ring = [];
  for (let i = 0; i < 2000; i++) {
    const a = (2 * Math.PI * i) / 2000;
    ring.push(lonLat(cx + r * Math.cos(a), cy + r * Math.sin(a)));
  }
  ring.push(ring[0]);
  const file = path.join(tmp, 'circle.geojson');
  fs.writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [
    { type: 'Feature', properties: { 名称: '圆' }, geometry: { type: 'Polygon', coordinates: [ring] } }] }));
  await stack.cli(['load', '--kind', 'function_zone', '--name', 'circle', file]);
  const z = 12;
  const { x, y } = tileOf(117.25, 29.45, z);
  const tile = await getTile(`/tiles/circle/${z}/${x}/${y}.mvt`);
  assert.equal(tile.status, 200);
  const { layers, text } = await decode(tile.bytes, z, x, y);
  assert.equal(layers.circle?.length, 1, text);
  const [f] = layers.circle;
  assert.equal(f['名称'], '圆');
  const unit = (2 * 20037508.342789244) / 2 ** z / 4096; // metres per tile unit, 2.4 m at z12
  const inTile = f.xy.filter(([px, py]) => Math.abs(Math.hypot(px - cx, py - cy) - r) < r / 2);
  assert.ok(inTile.length > 20 && inTile.length < 1000, `${f.xy.length} vertices: simplified but still round`);
  for (const [px, py] of inTile) {
    const d = Math.hypot(px - cx, py - cy);
    assert.ok(Math.abs(d - r) < 1.5 * unit, `vertex ${px},${py} is ${(d - r).toFixed(2)} m off the circle`);
  }
});
