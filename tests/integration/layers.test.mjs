// layers.test.mjs -- layer versions, version diffs and OGC API Features (also read through GDAL's OAPIF driver).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startStack, logOnFailure } from '../lib/stack.mjs';

const execFileP = promisify(execFile);
const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';

let stack;
let token;
let dir;
let versions; // GET /api/layers/t_zones/versions after both loads

// A square of side 0.01° with its south-west corner at (lon, lat).
const square = (lon, lat) => ({
  type: 'Polygon',
  coordinates: [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]],
});
const feature = (code, props, geometry) => ({ type: 'Feature', properties: { code, ...props }, geometry });
const collection = (features) => JSON.stringify({ type: 'FeatureCollection', features });

// v1: A, B, C. v2: A removed, B's properties changed, C moved, D added.
const V1 = collection([
  feature('A', { 名称: '甲区', depth: 3 }, square(117.10, 29.30)),
  feature('B', { 名称: '乙区', depth: 4 }, square(117.12, 29.30)),
  feature('C', { 名称: '丙区', depth: 5 }, square(117.14, 29.30)),
]);
const V2 = collection([
  feature('B', { 名称: '乙区（扩）', depth: 6 }, square(117.12, 29.30)),
  feature('C', { 名称: '丙区', depth: 5 }, square(117.15, 29.31)),
  feature('D', { 名称: '丁区', depth: 2 }, square(117.20, 29.40)),
]);

const get = (p, tok = token) => stack.api('GET', p, null, tok);
const codes = (fc) => fc.features.map((f) => f.properties.code).sort();
const link = (doc, rel) => doc.links.find((l) => l.rel === rel);
// An absolute href of this server, as a path + query for stack.api.
const local = (href) => {
  const u = new URL(href);
  assert.equal(u.origin, stack.http);
  return u.pathname + u.search;
};

before(async () => {
  stack = await startStack({ demo: true });
  token = await stack.login();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-layers-'));
  fs.writeFileSync(path.join(dir, 'zones_v1.geojson'), V1);
  fs.writeFileSync(path.join(dir, 'zones_v2.geojson'), V2);
  for (const f of ['zones_v1.geojson', 'zones_v2.geojson']) {
    const { stdout } = await stack.cli(['load', '--kind', 'mining_zone', '--name', 't_zones', '--code-field', 'code',
      path.join(dir, f)]);
    assert.match(stdout, /t_zones/);
  }
  // a layer with a Chinese name: its links are percent-encoded
  await stack.cli(['load', '--kind', 'protection', '--name', '岸线测试', path.join(dir, 'zones_v1.geojson')]);
  versions = (await get('/api/layers/t_zones/versions')).json;
});

after(async () => {
  if (stack) await stack.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('versions: newest first, with who loaded what from which file', logOnFailure(() => stack, async () => {
  const r = await get('/api/layers/t_zones/versions');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.json.length, 2);
  assert.deepEqual(r.json.map((v) => v.version), [2, 1]);
  assert.deepEqual(r.json.map((v) => v.current), [true, false]);
  assert.deepEqual(r.json.map((v) => v.source_file), ['zones_v2.geojson', 'zones_v1.geojson']);
  for (const v of r.json) {
    assert.equal(v.loaded_by, 'cli');
    assert.equal(v.features, 3);
    assert.equal(v.repaired, 0);
    assert.match(v.source_srs, /4326/);
    assert.match(v.loaded_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/);
  }
  assert.ok(Date.parse(r.json[0].loaded_at) > Date.parse(r.json[1].loaded_at));

  assert.equal((await get('/api/layers/no_such_layer/versions')).status, 404);
  assert.equal((await get('/api/layers/t_zones/versions', null)).status, 401);
}));

test('diff: added, removed and changed features matched by code', logOnFailure(() => stack, async () => {
  const r = await get('/api/layers/t_zones/diff?from=1&to=2');
  assert.equal(r.status, 200);
  const d = r.json;
  assert.equal(d.layer, 't_zones');
  assert.equal(d.from, 1);
  assert.equal(d.to, 2);
  assert.deepEqual(d.added, [{ key: 'D', properties: { code: 'D', 名称: '丁区', depth: 2 } }]);
  assert.deepEqual(d.removed, [{ key: 'A', properties: { code: 'A', 名称: '甲区', depth: 3 } }]);
  assert.deepEqual(d.changed, [
    { key: 'B', geometry_changed: false, properties_changed: ['depth', '名称'].sort() },
    { key: 'C', geometry_changed: true, properties_changed: [] },
  ]);
  assert.deepEqual(d.counts, { added: 1, removed: 1, changed: 2, unchanged: 0 });

  // defaults: to = current, from = to - 1
  assert.deepEqual((await get('/api/layers/t_zones/diff')).json, d);
  // backwards: what v1 has that v2 lacks is "added"
  const back = (await get('/api/layers/t_zones/diff?from=2&to=1')).json;
  assert.deepEqual(back.added.map((f) => f.key), ['A']);
  assert.deepEqual(back.removed.map((f) => f.key), ['D']);
  // a version against itself: nothing changed
  const same = (await get('/api/layers/t_zones/diff?from=2&to=2')).json;
  assert.deepEqual(same.counts, { added: 0, removed: 0, changed: 0, unchanged: 3 });

  for (const q of ['from=x', 'from=0', 'to=-1', 'to=1.5', 'to=1']) {
    assert.equal((await get(`/api/layers/t_zones/diff?${q}`)).status, 400, q);
  }
  assert.equal((await get('/api/layers/t_zones/diff?from=1&to=9')).status, 404);
  assert.equal((await get('/api/layers/no_such_layer/diff')).status, 404);
  assert.equal((await get('/api/layers/t_zones/diff', null)).status, 401);
}));

test('OGC landing page and conformance', logOnFailure(() => stack, async () => {
  const res = await fetch(stack.http + '/', { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const landing = await res.json();
  assert.ok(landing.title);
  for (const rel of ['self', 'conformance', 'data']) assert.ok(link(landing, rel), rel);
  assert.equal(local(link(landing, 'conformance').href), '/conformance');
  assert.equal(local(link(landing, 'data').href), '/collections');
  // QGIS refuses a landing page without an OpenAPI 3.0 service-desc, and reads limit's bounds from it
  const desc = link(landing, 'service-desc');
  assert.equal(desc.type, 'application/vnd.oai.openapi+json;version=3.0');
  const api = await get(local(desc.href));
  assert.equal(api.status, 200);
  assert.match(api.headers.get('content-type'), /^application\/vnd\.oai\.openapi\+json/);
  assert.match(api.json.openapi, /^3\.0/);
  assert.deepEqual(api.json.servers, [{ url: `${stack.http}/` }]);
  assert.equal(api.json.components.parameters.limit.schema.maximum, 10000);
  assert.equal(api.json.components.parameters.limit.schema.default, 100);
  assert.ok(api.json.paths['/collections/{collectionId}/items'].get);
  assert.equal((await get('/api', null)).status, 401);

  // without a token: 401 (a browser asking for HTML still gets the map page)
  const anon = await fetch(stack.http + '/', { headers: { Accept: 'application/json' } });
  assert.equal(anon.status, 401);
  const html = await fetch(stack.http + '/', { headers: { Accept: 'text/html' } });
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type'), /text\/html/);

  const conf = await get('/conformance');
  assert.equal(conf.status, 200);
  assert.ok(conf.json.conformsTo.includes('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core'));
  assert.ok(conf.json.conformsTo.includes('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson'));
  assert.equal((await get('/conformance', null)).status, 401);
}));

test('OGC collections and a collection', logOnFailure(() => stack, async () => {
  const r = await get('/collections');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(local(link(r.json, 'self').href), '/collections');
  const ids = r.json.collections.map((c) => c.id);
  for (const id of ['chang_water', 'chang_river', 'demo_mining_zones', 'demo_parking', 'demo_no_mining',
    'demo_protection', 't_zones', '岸线测试']) assert.ok(ids.includes(id), id);

  const c = r.json.collections.find((x) => x.id === 't_zones');
  assert.equal(c.itemType, 'feature');
  assert.equal(c.description, 'mining_zone');
  assert.equal(typeof c.title, 'string');
  assert.equal(c.extent.spatial.crs, CRS84);
  // the current version: B at 117.12, C moved to 117.15/29.31, D at 117.20/29.40
  const [minx, miny, maxx, maxy] = c.extent.spatial.bbox[0];
  assert.ok(Math.abs(minx - 117.12) < 1e-6 && Math.abs(miny - 29.30) < 1e-6, String(c.extent.spatial.bbox));
  assert.ok(Math.abs(maxx - 117.21) < 1e-6 && Math.abs(maxy - 29.41) < 1e-6, String(c.extent.spatial.bbox));
  assert.deepEqual(c.extent.temporal.interval, [[versions[1].loaded_at, null]]);
  assert.equal(local(link(c, 'self').href), '/collections/t_zones');
  assert.equal(link(c, 'items').type, 'application/geo+json');
  assert.equal(local(link(c, 'items').href), '/collections/t_zones/items');

  const one = await get('/collections/t_zones');
  assert.equal(one.status, 200);
  assert.deepEqual(one.json, c);
  const zh = await get('/collections/' + encodeURIComponent('岸线测试'));
  assert.equal(zh.status, 200);
  assert.equal(zh.json.id, '岸线测试');
  assert.equal(local(link(zh.json, 'items').href), `/collections/${encodeURIComponent('岸线测试')}/items`);
  assert.equal((await get(local(link(zh.json, 'items').href))).json.numberMatched, 3);

  assert.equal((await get('/collections/no_such_layer')).status, 404);
  assert.equal((await get('/collections', null)).status, 401);
}));

test('OGC items: GeoJSON, paging, bbox, single features', logOnFailure(() => stack, async () => {
  const r = await get('/collections/t_zones/items');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/geo\+json/);
  const fc = r.json;
  assert.equal(fc.type, 'FeatureCollection');
  assert.equal(fc.numberMatched, 3);
  assert.equal(fc.numberReturned, 3);
  assert.match(fc.timeStamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/);
  assert.deepEqual(codes(fc), ['B', 'C', 'D']);
  assert.ok(link(fc, 'self'));
  assert.equal(link(fc, 'next'), undefined);
  for (const f of fc.features) {
    assert.equal(f.type, 'Feature');
    assert.ok(f.id !== undefined && f.id !== null);
    assert.equal(f.geometry.type, 'Polygon');
  }
  const d = fc.features.find((f) => f.properties.code === 'D');
  assert.deepEqual(d.properties, { code: 'D', 名称: '丁区', depth: 2 });
  assert.deepEqual(d.geometry.coordinates[0][0], [117.20, 29.40]); // lon, lat

  // paging: limit=1 gives a next link, which gives the second page
  const p1 = (await get('/collections/t_zones/items?limit=1')).json;
  assert.equal(p1.numberReturned, 1);
  assert.equal(p1.numberMatched, 3);
  const next = link(p1, 'next');
  assert.equal(next.type, 'application/geo+json');
  const p2r = await get(local(next.href));
  assert.equal(p2r.status, 200);
  const p2 = p2r.json;
  assert.equal(p2.numberReturned, 1);
  assert.notEqual(p2.features[0].id, p1.features[0].id);
  assert.equal(local(link(p2, 'self').href), local(next.href));
  const p3 = (await get(local(link(p2, 'next').href))).json;
  assert.equal(p3.numberReturned, 1);
  assert.equal(link(p3, 'next'), undefined);
  assert.deepEqual([p1, p2, p3].map((p) => p.features[0].properties.code).sort(), ['B', 'C', 'D']);
  // past the end: an empty page
  const past = (await get('/collections/t_zones/items?offset=10')).json;
  assert.equal(past.numberReturned, 0);
  assert.deepEqual(past.features, []);

  // bbox: only D lies around 117.20, 29.40
  const b = await get('/collections/t_zones/items?bbox=117.19,29.39,117.23,29.43');
  assert.equal(b.status, 200);
  assert.deepEqual(codes(b.json), ['D']);
  assert.equal(b.json.numberMatched, 1);
  const none = (await get('/collections/t_zones/items?bbox=100,10,100.5,10.5')).json;
  assert.equal(none.numberMatched, 0);
  // paging keeps the filter in the next link
  const bp = (await get('/collections/t_zones/items?bbox=117.0,29.0,117.3,29.5&limit=2')).json;
  assert.match(decodeURIComponent(link(bp, 'next').href), /bbox=117\.0,29\.0,117\.3,29\.5/);

  // single features
  const one = await get(`/collections/t_zones/items/${d.id}`);
  assert.equal(one.status, 200);
  assert.match(one.headers.get('content-type'), /^application\/geo\+json/);
  assert.equal(one.json.type, 'Feature');
  assert.equal(one.json.id, d.id);
  assert.deepEqual(one.json.properties, d.properties);
  assert.equal((await get(`/collections/demo_parking/items/${d.id}`)).status, 404);
  assert.equal((await get('/collections/t_zones/items/999999999')).status, 404);
  assert.equal((await get('/collections/t_zones/items/abc')).status, 404);

  // Chinese values intact
  const mz = (await get('/collections/demo_mining_zones/items')).json;
  assert.ok(mz.features.length > 0);
  const mz1 = mz.features.find((f) => f.properties.code === 'MZ-01');
  assert.equal(mz1.properties.名称, '昌江可采区1号');
  assert.equal(mz1.properties.说明, '演示数据 demo data');

  // bad requests
  for (const q of ['limit=0', 'limit=-5', 'limit=abc', 'offset=-1', 'bbox=1,2,3', 'bbox=a,b,c,d',
    'bbox=117.3,29,117.1,29.5', 'bbox=1,2,3,4,5', 'datetime=yesterday', 'datetime=2026-01-01T00:00:00',
    'datetime=../..', 'bbox-crs=EPSG:3857&bbox=1,2,3,4']) {
    const x = await get(`/collections/t_zones/items?${q}`);
    assert.equal(x.status, 400, `${q}: ${x.text}`);
  }
  assert.equal((await get('/collections/t_zones/items?limit=10000')).status, 200);
  // over the maximum is not an error (OGC API - Features /req/core/fc-limit-response-1): the
  // maximum is used, and the links say so
  const big = await get('/collections/t_zones/items?limit=10001');
  assert.equal(big.status, 200);
  assert.equal(big.json.numberReturned, 3);
  assert.match(link(big.json, 'self').href, /[?&]limit=10000(&|$)/);
  assert.equal((await get('/collections/no_such_layer/items')).status, 404);
  assert.equal((await get('/collections/t_zones/items', null)).status, 401);
  assert.equal((await get(`/collections/t_zones/items/${d.id}`, null)).status, 401);
}));

test('OGC items: datetime selects the version current at that time', logOnFailure(() => stack, async () => {
  const [v2, v1] = versions;
  const at = async (dt) => {
    const r = await get(`/collections/t_zones/items?datetime=${encodeURIComponent(dt)}`);
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  assert.deepEqual(codes(await at(v1.loaded_at)), ['A', 'B', 'C']);
  assert.deepEqual(codes(await at(v2.loaded_at)), ['B', 'C', 'D']);
  assert.deepEqual(codes(await at(`../${v1.loaded_at}`)), ['A', 'B', 'C']);
  // v1's properties, not v2's
  const b1 = (await at(v1.loaded_at)).features.find((f) => f.properties.code === 'B');
  assert.equal(b1.properties.名称, '乙区');
  // the same instant written in UTC
  assert.deepEqual(codes(await at(new Date(Date.parse(v1.loaded_at)).toISOString())), ['A', 'B', 'C']);
  // later than any version: the current one; an open end: the current one
  assert.deepEqual(codes(await at('2999-01-01T00:00:00Z')), ['B', 'C', 'D']);
  assert.deepEqual(codes(await at(`${v1.loaded_at}/..`)), ['B', 'C', 'D']);
  // before the first version: nothing
  const empty = await at('2000-01-01T00:00:00+08:00');
  assert.equal(empty.numberMatched, 0);
  assert.deepEqual(empty.features, []);
  // the next link keeps the datetime
  const p = await get(`/collections/t_zones/items?limit=1&datetime=${encodeURIComponent(v1.loaded_at)}`);
  const p2 = (await get(local(link(p.json, 'next').href))).json;
  assert.equal(p2.numberMatched, 3);
  assert.ok(['A', 'B', 'C'].includes(p2.features[0].properties.code));
}));

// What QGIS's OAPIF provider (and GDAL's OAPIF driver) read, in the order they read it, with the
// headers QGIS sends.
test('what QGIS\'s OAPIF provider needs: links, conformance, collections, items', logOnFailure(() => stack, async () => {
  const qgis = (p, accept = 'application/json') => fetch(stack.http + p, {
    headers: { Accept: accept, Authorization: `Bearer ${token}`, 'User-Agent': 'Mozilla/5.0 QGIS/33400/Linux' },
  });
  // the landing page: data, conformance and an OpenAPI 3.0 service-desc, absolute hrefs
  const lr = await qgis('/');
  assert.equal(lr.status, 200);
  assert.match(lr.headers.get('content-type'), /^application\/json/);
  const landing = await lr.json();
  const want = { data: 'application/json', conformance: 'application/json',
    'service-desc': 'application/vnd.oai.openapi+json;version=3.0' };
  for (const [rel, type] of Object.entries(want)) {
    const l = link(landing, rel);
    assert.ok(l, `landing page link rel=${rel}`);
    assert.equal(l.type, type, rel);
    assert.ok(l.href.startsWith(`${stack.http}/`), `${rel}: an absolute href`);
    const r = await qgis(local(l.href), rel === 'service-desc' ? type : 'application/json');
    assert.equal(r.status, 200, `${rel}: ${l.href}`);
  }
  // the API definition: the items path with its limit (QGIS takes its page size from the maximum)
  const api = await (await qgis('/api', want['service-desc'])).json();
  const items = api.paths['/collections/{collectionId}/items'].get;
  const limitRef = items.parameters.find((x) => x.$ref === '#/components/parameters/limit');
  assert.ok(limitRef, 'the items path lists limit');
  assert.deepEqual([api.components.parameters.limit.name, api.components.parameters.limit.in], ['limit', 'query']);
  assert.ok(items.responses['200'].content['application/geo+json']);
  // conformance: core and GeoJSON (what QGIS checks before paging), plus OpenAPI 3.0
  const conf = await (await qgis('/conformance')).json();
  for (const c of ['core', 'geojson', 'oas30']) {
    assert.ok(conf.conformsTo.includes(`http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/${c}`), c);
  }
  // every collection: id, title, itemType, a CRS84 extent (spatial and temporal), crs, items link
  const cr = await qgis('/collections');
  assert.match(cr.headers.get('content-type'), /^application\/json/);
  const colls = (await cr.json()).collections;
  assert.ok(colls.length >= 8);
  for (const c of colls) {
    assert.equal(typeof c.id, 'string');
    assert.equal(typeof c.title, 'string');
    assert.equal(c.itemType, 'feature');
    assert.deepEqual(c.crs, [CRS84], c.id);
    assert.equal(c.extent.spatial.crs, CRS84);
    assert.equal(c.extent.spatial.bbox.length, 1);
    const [w, s, e, n] = c.extent.spatial.bbox[0];
    assert.ok(w <= e && s <= n && w >= -180 && e <= 180 && s >= -90 && n <= 90, `${c.id}: ${c.extent.spatial.bbox}`);
    assert.ok(Array.isArray(c.extent.temporal.interval[0]));
    assert.equal(link(c, 'items').type, 'application/geo+json');
  }
  // items as QGIS pages them: GeoJSON with numberMatched/numberReturned and next links to the end
  const seen = [];
  let next = '/collections/demo_parking/items?limit=2';
  let pages = 0;
  while (next) {
    const r = await qgis(next, 'application/geo+json, application/json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/geo\+json/);
    const fc = await r.json();
    assert.equal(fc.type, 'FeatureCollection');
    assert.ok(Number.isInteger(fc.numberMatched) && Number.isInteger(fc.numberReturned));
    assert.equal(fc.numberReturned, fc.features.length);
    for (const f of fc.features) {
      assert.ok(Number.isInteger(f.id));
      assert.ok(['Point', 'MultiPoint', 'Polygon', 'MultiPolygon'].includes(f.geometry.type), f.geometry.type);
      seen.push(f.id);
    }
    const nl = link(fc, 'next');
    if (nl) assert.equal(nl.type, 'application/geo+json');
    next = nl ? local(nl.href) : null;
    pages++;
    assert.ok(pages < 20);
  }
  const total = (await get('/collections/demo_parking/items')).json.numberMatched;
  assert.equal(seen.length, total);
  assert.equal(new Set(seen).size, total, 'paging neither repeats nor skips');
  assert.ok(pages >= 2);
  // one feature by its id
  const one = await qgis(`/collections/demo_parking/items/${seen[0]}`, 'application/geo+json, application/json');
  assert.equal(one.status, 200);
  assert.match(one.headers.get('content-type'), /^application\/geo\+json/);
}));

// GDAL's OAPIF driver follows the same conventions as QGIS's OAPIF provider: if GDAL lists the
// collections and reads the features through the links we give, QGIS can add them as a source.
test('GDAL OAPIF driver reads the collections', logOnFailure(() => stack, async (t) => {
  try {
    await execFileP('ogrinfo', ['--version']);
  } catch {
    t.skip('ogrinfo is not installed');
    return;
  }
  const env = { ...process.env, GDAL_HTTP_HEADERS: `Authorization: Bearer ${token}`, GDAL_HTTP_TIMEOUT: '20' };
  const list = await execFileP('ogrinfo', ['-ro', '-q', `OAPIF:${stack.http}/`], { env });
  for (const id of ['t_zones', 'demo_mining_zones', 'demo_parking', 'chang_river']) {
    assert.match(list.stdout, new RegExp(`^\\d+: ${id}\\b`, 'm'), list.stdout);
  }
  // page size 1: GDAL must follow our next links to get all three features
  const feats = await execFileP('ogrinfo', ['-ro', '-oo', 'PAGE_SIZE=1', `OAPIF:${stack.http}/`, 't_zones'],
    { env, maxBuffer: 16 << 20 });
  const n = (feats.stdout.match(/^OGRFeature\(t_zones\):/gm) || []).length;
  assert.equal(n, 3, feats.stdout);
  assert.match(feats.stdout, /名称 \(String\) = 丁区/);
  assert.match(feats.stdout, /POLYGON \(\(117\.2 29\.4/);
  // without the token GDAL cannot open it
  await assert.rejects(execFileP('ogrinfo', ['-ro', '-q', `OAPIF:${stack.http}/`],
    { env: { ...process.env, GDAL_HTTP_TIMEOUT: '20' } }));
}));

test('a load from the command line reaches live maps as a `layer` event', logOnFailure(() => stack, async () => {
  const live = await stack.ws(token);
  try {
    await new Promise((r) => setTimeout(r, 300)); // subscribed
    await stack.cli(['load', '--kind', 'mining_zone', '--name', 't_zones', '--code-field', 'code',
      path.join(dir, 'zones_v1.geojson')]);
    const ev = await live.next((e) => e.type === 'layer' && e.layer === 't_zones', 10000);
    const now = (await get('/api/layers/t_zones/versions')).json;
    assert.equal(ev.kind, 'mining_zone');
    assert.equal(ev.version, now[0].version);
    assert.equal(ev.features, now[0].features);
  } finally {
    live.close();
  }
}));
