// upload.test.mjs -- POST /api/layers: planners' GIS file uploads (GeoJSON, zipped GBK shapefile), rejections, live event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startStack, logOnFailure, waitUntil } from '../lib/stack.mjs';

const execFileP = promisify(execFile);
const UPLOAD_MAX = 64 * 1024; // SHOREWATCH_UPLOAD_MAX for this stack: the 413 test stays small

let stack;
let token;
let dir;    // fixtures
let tmp;    // the server's TMPDIR: upload directories appear and must vanish here

const square = (lon, lat) => ({
  type: 'Polygon',
  coordinates: [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]],
});
const fc = (features) => JSON.stringify({ type: 'FeatureCollection', features });
const GOOD = fc([
  { type: 'Feature', properties: { code: 'K1', 名称: '湖口可采区一号' }, geometry: square(116.20, 29.70) },
  { type: 'Feature', properties: { code: 'K2', 名称: '湖口可采区二号' }, geometry: square(116.22, 29.70) },
]);
const BAD = fc([
  { type: 'Feature', properties: { code: 'B1', 名称: '好' }, geometry: square(116.30, 29.70) },
  { type: 'Feature', properties: { code: 'B2', 名称: '空' }, geometry: { type: 'Polygon', coordinates: [] } },
]);
// For the report: a square, a bow tie (repaired), an empty geometry and a ring with too few points
// (both skipped when asked to), then another square.
const BOWTIE = { type: 'Polygon', coordinates: [[[116.5, 29.7], [116.51, 29.71], [116.51, 29.7], [116.5, 29.71], [116.5, 29.7]]] };
const MIXED = fc([
  { type: 'Feature', properties: { 名称: '一' }, geometry: square(116.40, 29.70) },
  { type: 'Feature', properties: { 名称: '二' }, geometry: BOWTIE },
  { type: 'Feature', properties: { 名称: '三' }, geometry: null },
  { type: 'Feature', properties: { 名称: '四' }, geometry: { type: 'Polygon', coordinates: [[[116.6, 29.7], [116.61, 29.7], [116.6, 29.7]]] } },
  { type: 'Feature', properties: { 名称: '五' }, geometry: square(116.42, 29.70) },
]);

/** POST the bytes of FILE (a fixture name) as an upload with the query QS. */
async function upload(file, qs, tok = token) {
  const body = fs.readFileSync(path.join(dir, file));
  const q = new URLSearchParams({ filename: file, ...qs });
  const headers = { 'Content-Type': 'application/octet-stream' };
  if (tok) headers.Authorization = `Bearer ${tok}`;
  const res = await fetch(`${stack.http}/api/layers?${q}`, { method: 'POST', headers, body });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

const uploadDirs = () => fs.readdirSync(tmp).filter((f) => f.startsWith('shorewatch-upload-'));
const layerRows = (name) => stack.sql(
  'SELECT count(*)::int AS n FROM layers l JOIN layer_versions v ON v.layer_id = l.id WHERE l.name = $1', [name]);

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-upload-fixtures-'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-upload-tmp-'));
  stack = await startStack({ env: { SHOREWATCH_UPLOAD_MAX: String(UPLOAD_MAX), TMPDIR: tmp } });
  token = await stack.login();

  fs.writeFileSync(path.join(dir, '可采区.geojson'), GOOD);
  fs.writeFileSync(path.join(dir, 'bad.geojson'), BAD);
  fs.writeFileSync(path.join(dir, 'mixed.geojson'), MIXED);
  // Gauss-Krueger eastings of zone 39 with the zone number (EPSG:4527) in a shapefile whose .prj
  // declares zone 40 (EPSG:4528): the load goes through (the planner may mean it) with a warning.
  // (Declared without the zone number the eastings would not reproject at all; loader.test.mjs.)
  const gkDir = path.join(dir, 'gk');
  fs.mkdirSync(gkDir);
  await execFileP('ogr2ogr', ['-f', 'ESRI Shapefile', '-t_srs', 'EPSG:4527', '-lco', 'ENCODING=UTF-8',
    path.join(gkDir, 'gk.shp'), path.join(dir, '可采区.geojson')]);
  const prj = (await execFileP('gdalsrsinfo', ['-o', 'wkt_esri', 'EPSG:4528'])).stdout.trim();
  fs.writeFileSync(path.join(gkDir, 'gk.prj'), prj);
  await execFileP('python3', ['-c', `
import sys, zipfile, os
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w') as z:
    for f in sorted(os.listdir(src)):
        z.write(os.path.join(src, f), f)
`, gkDir, path.join(dir, 'gk.zip')]);
  // A DXF (no CRS of its own) whose closed polylines become polygons.
  await execFileP('ogr2ogr', ['-f', 'GeoJSON', '-t_srs', 'EPSG:4548', path.join(dir, 'good_4548.geojson'),
    path.join(dir, '可采区.geojson')]);
  await execFileP('ogr2ogr', ['-f', 'DXF', '-nlt', 'LINESTRING', path.join(dir, 'zones.dxf'),
    path.join(dir, 'good_4548.geojson')]);
  fs.writeFileSync(path.join(dir, 'big.geojson'), ' '.repeat(UPLOAD_MAX + 1) + GOOD);
  // A GBK shapefile (with a .cpg), zipped the way planners mail them.
  const shpDir = path.join(dir, 'shp');
  fs.mkdirSync(shpDir);
  await execFileP('ogr2ogr', ['-f', 'ESRI Shapefile', '-lco', 'ENCODING=GBK', '-nln', 'parks',
    path.join(shpDir, 'parks.shp'), path.join(dir, '可采区.geojson')]);
  await execFileP('python3', ['-c', `
import sys, zipfile, os
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(src)):
        z.write(os.path.join(src, f), f)
`, shpDir, path.join(dir, 'parks.zip')]);
}, { timeout: 180_000 });

after(async () => {
  if (stack) await stack.stop();
  for (const d of [dir, tmp]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('a GeoJSON upload becomes a version, announced on the WebSocket, temp files gone', logOnFailure(() => stack, async () => {
  const ws = await stack.ws(token);
  try {
    const r = await upload('可采区.geojson', { kind: 'mining_zone', name: 'up_zones', code_field: 'code' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(
      { layer: r.json.layer, kind: r.json.kind, version: r.json.version, features: r.json.features,
        repaired: r.json.repaired, loaded_by: r.json.loaded_by, source_file: r.json.source_file },
      { layer: 'up_zones', kind: 'mining_zone', version: 1, features: 2, repaired: 0, loaded_by: 'admin',
        source_file: '可采区.geojson' });
    assert.match(r.json.source_srs, /4326|CRS84|WGS 84/);
    const ev = await ws.next((e) => e.type === 'layer' && e.layer === 'up_zones');
    assert.deepEqual({ type: ev.type, layer: ev.layer, kind: ev.kind, version: ev.version },
      { type: 'layer', layer: 'up_zones', kind: 'mining_zone', version: 1 });
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(ws.events.filter((e) => e.type === 'layer' && e.layer === 'up_zones').length, 1, 'one event per load');
  } finally {
    ws.close();
  }
  const rows = await stack.sql(
    "SELECT f.code, f.props->>'名称' AS name FROM features f JOIN layers l ON l.current_version_id = f.layer_version_id"
    + " WHERE l.name = 'up_zones' ORDER BY f.code");
  assert.deepEqual(rows.map((x) => [x.code, x.name]), [['K1', '湖口可采区一号'], ['K2', '湖口可采区二号']]);
  assert.deepEqual(uploadDirs(), []);
}));

test('without a name the layer is named after the file', logOnFailure(() => stack, async () => {
  const r = await upload('可采区.geojson', { kind: 'protection' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.layer, '可采区');
}));

test('a zipped GBK shapefile keeps its Chinese text; versions show who and which file', logOnFailure(() => stack, async () => {
  const r = await upload('parks.zip', { kind: 'parking', name: 'up_parks' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.features, 2);
  const r2 = await upload('parks.zip', { kind: 'parking', name: 'up_parks' });
  assert.equal(r2.status, 201, r2.text);
  assert.equal(r2.json.version, 2);
  const rows = await stack.sql(
    "SELECT f.props->>'名称' AS name FROM features f JOIN layers l ON l.current_version_id = f.layer_version_id"
    + " WHERE l.name = 'up_parks' ORDER BY 1");
  assert.deepEqual(rows.map((x) => x.name), ['湖口可采区一号', '湖口可采区二号']);
  const v = await stack.api('GET', '/api/layers/up_parks/versions', null, token);
  assert.equal(v.status, 200);
  assert.deepEqual(v.json.map((x) => [x.version, x.loaded_by, x.source_file]),
    [[2, 'admin', 'parks.zip'], [1, 'admin', 'parks.zip']]);
  assert.deepEqual(uploadDirs(), []);
}));

test('the load report: repaired and skipped features by row and reason, the CRS used', logOnFailure(() => stack, async () => {
  // without skip_invalid the empty geometry refuses the whole file
  const refused = await upload('mixed.geojson', { kind: 'no_mining', name: 'up_mixed' });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.json.error, /^mixed\.geojson: feature #3 \(fid 2\): empty geometry/);
  assert.equal((await layerRows('up_mixed'))[0].n, 0);

  const r = await upload('mixed.geojson', { kind: 'no_mining', name: 'up_mixed', skip_invalid: '1' });
  assert.equal(r.status, 201, r.text);
  const rep = r.json;
  assert.deepEqual(
    { layer: rep.layer, kind: rep.kind, version: rep.version, features: rep.features, repaired: rep.repaired,
      skipped: rep.skipped, closed_polylines: rep.closed_polylines, skip_invalid: rep.skip_invalid,
      srs_from: rep.srs_from, driver: rep.driver, source_layer: rep.source_layer, warnings: rep.warnings },
    { layer: 'up_mixed', kind: 'no_mining', version: 1, features: 3, repaired: 1, skipped: 2, closed_polylines: 0,
      skip_invalid: true, srs_from: 'file', driver: 'GeoJSON', source_layer: 'mixed', warnings: [] });
  assert.equal(rep.source_srs, 'EPSG:4326');
  // the repaired bow tie: its row in the file, source fid, stored feature id, PostGIS's reason
  assert.equal(rep.repaired_features.length, 1);
  const [fixed] = rep.repaired_features;
  assert.deepEqual({ row: fixed.row, fid: fixed.fid, reason: fixed.reason },
    { row: 2, fid: 1, reason: 'Self-intersection[116.505 29.705]' });
  const stored = await stack.sql('SELECT props->>\'名称\' AS name, GeometryType(geom) AS type, ST_IsValid(geom) AS ok'
    + ' FROM features WHERE id = $1', [fixed.id]);
  assert.deepEqual(stored, [{ name: '二', type: 'MULTIPOLYGON', ok: true }]);
  // skipped: the empty one (read as such) and the degenerate ring (empty once repaired)
  assert.deepEqual(rep.skipped_features.map((x) => [x.row, x.fid]), [[3, 2], [4, 3]]);
  assert.equal(rep.skipped_features[0].reason, 'empty geometry');
  assert.match(rep.skipped_features[1].reason, /^invalid geometry \(.+\), empty once repaired$/);
  assert.ok(rep.skipped_features.every((x) => x.id === undefined), 'skipped features have no stored id');
  const names = await stack.sql("SELECT f.props->>'名称' AS n FROM features f JOIN layers l"
    + " ON f.layer_version_id = l.current_version_id WHERE l.name = 'up_mixed' ORDER BY f.id");
  assert.deepEqual(names.map((x) => x.n), ['一', '二', '五']);
  const v = (await stack.api('GET', '/api/layers/up_mixed/versions', null, token)).json;
  assert.deepEqual([v[0].features, v[0].repaired], [3, 1]);
  assert.deepEqual(uploadDirs(), []);
}));

test('the load report: a CRS that contradicts the eastings is a warning; DXF polylines closed', logOnFailure(() => stack, async () => {
  const gk = await upload('gk.zip', { kind: 'mining_zone', name: 'up_gk' });
  assert.equal(gk.status, 201, gk.text);
  assert.equal(gk.json.source_srs, 'EPSG:4528');
  assert.equal(gk.json.srs_from, 'file');
  assert.equal(gk.json.features, 2);
  assert.equal(gk.json.warnings.length, 1, JSON.stringify(gk.json.warnings));
  assert.match(gk.json.warnings[0], /^eastings 39\d{6}-39\d{6} do not fit EPSG:4528 \(expected 40000000-41000000\)$/);
  // the same file told its real CRS: no warning
  const right = await upload('gk.zip', { kind: 'mining_zone', name: 'up_gk', s_srs: 'EPSG:4527' });
  assert.equal(right.status, 201, right.text);
  assert.deepEqual([right.json.version, right.json.source_srs, right.json.srs_from, right.json.warnings],
    [2, 'EPSG:4527', 's_srs', []]);

  const nosrs = await upload('zones.dxf', { kind: 'mining_zone', name: 'up_dxf' });
  assert.equal(nosrs.status, 400, nosrs.text);
  assert.match(nosrs.json.error, /^zones\.dxf: .*--s-srs/);
  const dxf = await upload('zones.dxf', { kind: 'mining_zone', name: 'up_dxf', s_srs: 'EPSG:4548' });
  assert.equal(dxf.status, 201, dxf.text);
  assert.deepEqual({ features: dxf.json.features, closed: dxf.json.closed_polylines, srs: dxf.json.source_srs,
    from: dxf.json.srs_from, driver: dxf.json.driver },
  { features: 2, closed: 2, srs: 'EPSG:4548', from: 's_srs', driver: 'DXF' });
  const types = await stack.sql("SELECT DISTINCT GeometryType(f.geom) AS t FROM features f JOIN layers l"
    + " ON f.layer_version_id = l.current_version_id WHERE l.name = 'up_dxf'");
  assert.deepEqual(types, [{ t: 'POLYGON' }]);
  assert.deepEqual(uploadDirs(), []);
}));

test('a bad feature: 400 naming the file and the feature, nothing stored', logOnFailure(() => stack, async () => {
  const r = await upload('bad.geojson', { kind: 'no_mining', name: 'up_bad' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error, /^bad\.geojson: /);
  assert.match(r.json.error, /#2|fid 1/);
  assert.match(r.json.error, /empty/);
  assert.doesNotMatch(r.json.error, /shorewatch-upload|\/tmp/);
  assert.equal((await layerRows('up_bad'))[0].n, 0);
  assert.deepEqual(uploadDirs(), []);
}));

test('a kind mismatch is 409; bad arguments are 400', logOnFailure(() => stack, async () => {
  const r = await upload('可采区.geojson', { kind: 'river', name: 'up_zones' });
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error, /可采区\.geojson/);
  assert.equal((await layerRows('up_zones'))[0].n, 1);
  const k = await upload('可采区.geojson', { kind: 'nonsense', name: 'x' });
  assert.equal(k.status, 400);
  const e = await upload('可采区.geojson', { kind: 'river', name: 'x', filename: 'a.exe' });
  assert.equal(e.status, 400);
  assert.match(e.json.error, /unsupported/);
  assert.deepEqual(uploadDirs(), []);
}));

test('roles: no token 401, a viewer 403, a planner may', logOnFailure(() => stack, async () => {
  assert.equal((await upload('可采区.geojson', { kind: 'river', name: 'up_anon' }, null)).status, 401);
  await stack.sql("INSERT INTO users (username, password_hash, role) SELECT 'viewer_u', password_hash, 'viewer'"
    + " FROM users WHERE username = 'admin'");
  await stack.sql("INSERT INTO users (username, password_hash, role) SELECT 'planner_u', password_hash, 'planner'"
    + " FROM users WHERE username = 'admin'");
  const vt = await stack.login('viewer_u', stack.adminPassword);
  assert.equal((await upload('可采区.geojson', { kind: 'river', name: 'up_viewer' }, vt)).status, 403);
  const pt = await stack.login('planner_u', stack.adminPassword);
  const r = await upload('可采区.geojson', { kind: 'river', name: 'up_planner' }, pt);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.loaded_by, 'planner_u');
  assert.equal((await layerRows('up_anon'))[0].n + (await layerRows('up_viewer'))[0].n, 0);
  assert.deepEqual(uploadDirs(), []);
}));

test('too large is 413, and nothing is left behind', logOnFailure(() => stack, async () => {
  const r = await upload('big.geojson', { kind: 'river', name: 'up_big' });
  assert.equal(r.status, 413, r.text);
  assert.equal((await layerRows('up_big'))[0].n, 0);
  assert.deepEqual(uploadDirs(), []);
}));

test('a client that disconnects mid-upload leaves no temp directory', logOnFailure(() => stack, async () => {
  const net = await import('node:net');
  const sock = net.connect(stack.httpPort, '127.0.0.1');
  await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  sock.write(`POST /api/layers?kind=river&name=up_cut&filename=cut.geojson HTTP/1.1\r\nHost: x\r\n`
    + `Authorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 50000\r\n\r\n`
    + GOOD.slice(0, 100));
  await waitUntil(() => uploadDirs().length === 1, { what: 'the upload directory to appear' });
  const d = uploadDirs()[0];
  assert.equal(fs.statSync(path.join(tmp, d)).mode & 0o777, 0o700);
  sock.destroy();
  await waitUntil(() => uploadDirs().length === 0, { what: 'the upload directory to go' });
  assert.equal((await layerRows('up_cut'))[0].n, 0);
}));
