// loader.test.mjs -- `shorewatch load` per format, CRS and encoding; validity; rejection paths (all or nothing);
// the per-version partitions of features (schema/005), concurrent loads, and data migrating from the old layout.
//
// Every fixture is made here by ogr2ogr (or python3's zipfile) from one small GeoJSON with Chinese attributes
// near Jingdezhen. Stored coordinates are compared with GDAL's own reprojection of the same fixture to
// EPSG:4326 (ogr2ogr to GeoJSON) to 1e-8 degrees (about a millimetre), attributes byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startStack, logOnFailure, ROOT } from '../lib/stack.mjs';

const execFileP = promisify(execFile);
const TOL = 1e-8;

let stack;
let dir;

const square = (lon, lat, d = 0.01) => [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]];
const feature = (props, geometry) => ({ type: 'Feature', properties: props, geometry });
const collection = (features) => JSON.stringify({ type: 'FeatureCollection', features });

// Three polygons: a plain square, a square with a hole, and (as its own multipolygon file) two squares.
const NAMES = ['昌江采区一号', '乐平·鄱阳湖（保护）', '浮梁县「禁采」区'];
const SRC = collection([
  feature({ 名称: NAMES[0], 编号: 'A1', depth: 3.5 }, { type: 'Polygon', coordinates: [square(117.18, 29.30)] }),
  feature({ 名称: NAMES[1], 编号: 'B2', depth: 4 },
    { type: 'Polygon', coordinates: [square(117.20, 29.30, 0.02), square(117.205, 29.305, 0.005).reverse()] }),
  feature({ 名称: NAMES[2], 编号: 'C3', depth: 5 }, { type: 'Polygon', coordinates: [square(117.24, 29.32)] }),
]);

const ogr = (args) => execFileP('ogr2ogr', args, { maxBuffer: 64 << 20 });
const p = (name) => path.join(dir, name);
// A test whose failure carries the server log's tail.
const check = (name, fn) => test(name, logOnFailure(() => stack, fn));
const load = (args) => stack.cli(['load', ...args]);

/** Loads expecting failure; returns stderr. */
async function loadFails(args) {
  try {
    await load(args);
  } catch (e) {
    assert.equal(e.code, 1, e.message);
    return e.stderr;
  }
  assert.fail(`load ${args.join(' ')} succeeded`);
}

/** The current version's features of layer name, in file order: props and GeoJSON geometry. */
async function stored(name) {
  return stack.sql(
    `SELECT f.props, ST_AsGeoJSON(f.geom, 15)::json AS g, GeometryType(f.geom) AS type,
            CASE WHEN GeometryType(f.geom) = 'POLYGON' THEN ST_NumInteriorRings(f.geom) END AS holes
       FROM features f JOIN layers l ON l.current_version_id = f.layer_version_id
      WHERE l.name = $1 ORDER BY f.id`, [name]);
}

/** GDAL's own reprojection of file (layer) to EPSG:4326, as GeoJSON features. */
async function gdal4326(file, extra = [], layers = []) {
  const { stdout } = await ogr(['-f', 'GeoJSON', '-t_srs', 'EPSG:4326', '-lco', 'COORDINATE_PRECISION=15',
    ...extra, '/vsistdout/', file, ...layers]);
  return JSON.parse(stdout).features;
}

const flat = (coords) => (typeof coords[0] === 'number' ? [coords] : coords.flatMap(flat));

function assertSameCoords(actual, expected, what) {
  const a = flat(actual.coordinates);
  const e = flat(expected.coordinates);
  assert.equal(a.length, e.length, `${what}: vertex count`);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i][0] - e[i][0]) < TOL && Math.abs(a[i][1] - e[i][1]) < TOL,
      `${what}: vertex ${i} ${a[i]} != ${e[i]}`);
  }
}

/** Loads file as layer name and checks geometry against GDAL and 名称 byte for byte. */
async function loadAndCompare(name, file, extraLoad = [], { gdalOpts = [], gdalLayers = [], props = true } = {}) {
  const { stdout } = await load(['--kind', 'mining_zone', '--name', name, ...extraLoad, file]);
  assert.match(stdout, new RegExp(`^layer ${name} version 1: 3 features \\(0 repaired\\)\\n$`));
  const rows = await stored(name);
  const want = await gdal4326(file, gdalOpts, gdalLayers);
  assert.equal(rows.length, 3);
  rows.forEach((r, i) => {
    assertSameCoords(r.g, want[i].geometry, `${name} #${i + 1}`);
    if (props) assert.equal(Buffer.from(r.props.名称).toString('hex'), Buffer.from(NAMES[i]).toString('hex'));
  });
  return rows;
}

before(async () => {
  stack = await startStack();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-loader-'));
  fs.writeFileSync(p('src.geojson'), SRC);
});

after(async () => {
  if (stack) await stack.stop();
  if (dir && !process.env.SHOREWATCH_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

check('GBK shapefile with .cpg: attributes byte for byte, holes kept', async () => {
  await ogr(['-f', 'ESRI Shapefile', '-lco', 'ENCODING=GBK', p('gbk_cpg.shp'), p('src.geojson')]);
  assert.ok(fs.existsSync(p('gbk_cpg.cpg')));
  const rows = await loadAndCompare('gbk_cpg', p('gbk_cpg.shp'));
  assert.equal(rows[1].type, 'POLYGON');
  assert.equal(rows[1].holes, 1);
  assert.equal(rows[0].props.编号, 'A1');
});

check('GBK shapefile without .cpg: the DBF language byte, else --encoding GBK', async () => {
  await ogr(['-f', 'ESRI Shapefile', '-lco', 'ENCODING=GBK', p('gbk_nocpg.shp'), p('src.geojson')]);
  fs.rmSync(p('gbk_nocpg.cpg'));
  // GDAL 3.6 writes GBK as .cpg only (language driver id, byte 29 of the DBF, stays 0): without
  // the .cpg the bytes are not UTF-8, and the load fails with a clear message until --encoding GBK.
  const dbf = fs.readFileSync(p('gbk_nocpg.dbf'));
  assert.equal(dbf[29], 0);
  const err = await loadFails(['--kind', 'mining_zone', '--name', 'gbk_bare', p('gbk_nocpg.shp')]);
  assert.match(err, /gbk_nocpg\.shp: feature #1 \(fid 0\): field .* not valid UTF-8 \(wrong or missing --encoding\?\)/);
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM layers WHERE name = $1', ['gbk_bare']))[0].n, 0);
  await loadAndCompare('gbk_bare', p('gbk_nocpg.shp'), ['--encoding', 'GBK']);
  // A DBF whose language byte says 0x4D (CP936, as ArcGIS writes) needs neither.
  dbf[29] = 0x4d;
  fs.writeFileSync(p('gbk_nocpg.dbf'), dbf);
  await loadAndCompare('gbk_ldid', p('gbk_nocpg.shp'));
});

for (const [epsg, what] of [
  [4490, 'CGCS2000 geographic (latitude first in EPSG)'],
  [4527, 'Gauss-Krueger 3° zone 39 with the zone number'],
  [4548, 'Gauss-Krueger 3° CM 117E without the zone number'],
  [4502 + 7, 'Gauss-Krueger 6° CM 117E without the zone number'],
  [4491 + 7, 'Gauss-Krueger 6° zone 20 with the zone number'],
]) {
  test(`EPSG:${epsg} (${what}) to a millimetre of GDAL's reprojection`, async () => {
    const file = p(`crs_${epsg}.shp`);
    await ogr(['-f', 'ESRI Shapefile', '-lco', 'ENCODING=UTF-8', '-t_srs', `EPSG:${epsg}`, file, p('src.geojson')]);
    const { stderr } = await load(['--kind', 'mining_zone', '--name', `crs_${epsg}`, file]);
    assert.doesNotMatch(stderr, /eastings/);
    const rows = await stored(`crs_${epsg}`);
    const want = await gdal4326(file);
    rows.forEach((r, i) => assertSameCoords(r.g, want[i].geometry, `EPSG:${epsg} #${i + 1}`));
    assert.equal(rows[2].props.名称, NAMES[2]);
    const v = await stack.sql(`SELECT v.source_srs FROM layer_versions v JOIN layers l ON l.current_version_id = v.id
      WHERE l.name = $1`, [`crs_${epsg}`]);
    assert.equal(v[0].source_srs, `EPSG:${epsg}`);
  });
}

check('KML and KMZ', async () => {
  await ogr(['-f', 'KML', p('zones.kml'), p('src.geojson')]);
  await loadAndCompare('kml', p('zones.kml'));
  await execFileP('python3', ['-c', `import zipfile,sys
with zipfile.ZipFile(sys.argv[1], 'w') as z: z.write(sys.argv[2], 'doc.kml')`, p('zones.kmz'), p('zones.kml')]);
  const { stdout } = await load(['--kind', 'mining_zone', '--name', 'kmz', p('zones.kmz')]);
  assert.match(stdout, /3 features/);
  const rows = await stored('kmz');
  const want = await gdal4326(p('zones.kml'));
  rows.forEach((r, i) => assertSameCoords(r.g, want[i].geometry, `kmz #${i + 1}`));
  assert.deepEqual(rows.map((r) => r.props.名称), NAMES);
});

check('DXF: --s-srs required; closed polylines become polygons', async () => {
  await ogr(['-f', 'GeoJSON', '-t_srs', 'EPSG:4548', '-lco', 'COORDINATE_PRECISION=6', p('src_4548.geojson'), p('src.geojson')]);
  // polygons would be written as HATCHes: as lines they become closed LWPOLYLINEs (the rings)
  await ogr(['-f', 'DXF', '-nlt', 'LINESTRING', p('zones.dxf'), p('src_4548.geojson')]);
  const err = await loadFails(['--kind', 'mining_zone', '--name', 'dxf', p('zones.dxf')]);
  assert.match(err, /zones\.dxf: .*--s-srs/);
  const { stdout, stderr } = await load(['--kind', 'mining_zone', '--name', 'dxf', '--s-srs', 'EPSG:4548', p('zones.dxf')]);
  assert.match(stdout, /version 1: 3 features/);
  assert.match(stderr, /zones\.dxf: 2 closed polylines stored as polygons/);
  const rows = await stored('dxf');
  assert.equal(rows.length, 3);
  // the plain squares are closed LWPOLYLINEs; the square with a hole stays a HATCH, read as a polygon
  assert.deepEqual(rows.map((r) => r.type), ['POLYGON', 'POLYGON', 'POLYGON']);
  assert.equal(rows[1].holes, 1);
  // GDAL's reprojection of the same DXF vertices (read as lines) from EPSG:4548
  const want = await gdal4326(p('zones.dxf'), ['-s_srs', 'EPSG:4548']);
  rows.forEach((r, i) => assertSameCoords(r.g, want[i].geometry, `dxf #${i + 1}`));
});

check('CSV with a WKT column', async () => {
  const lines = ['WKT,名称,编号', ...JSON.parse(SRC).features.map((f, i) => {
    const rings = f.geometry.coordinates.map((r) => `(${r.map((c) => c.join(' ')).join(',')})`).join(',');
    return `"POLYGON (${rings})",${NAMES[i]},${f.properties.编号}`;
  })];
  fs.writeFileSync(p('zones.csv'), lines.join('\n') + '\n');
  const rows = await loadAndCompare('csv', p('zones.csv'), ['--s-srs', 'EPSG:4326'],
    { gdalOpts: ['-s_srs', 'EPSG:4326', '-oo', 'GEOM_POSSIBLE_NAMES=WKT', '-oo', 'KEEP_GEOM_COLUMNS=NO'] });
  assert.deepEqual(Object.keys(rows[0].props).sort(), ['名称', '编号'].sort());
});

check('a zipped shapefile inside a folder', async () => {
  await ogr(['-f', 'ESRI Shapefile', '-lco', 'ENCODING=GBK', '-t_srs', 'EPSG:4548', p('zipped.shp'), p('src.geojson')]);
  await execFileP('python3', ['-c', `import zipfile,sys,os
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
  for ext in ('shp', 'shx', 'dbf', 'prj', 'cpg'):
      z.write(os.path.join(sys.argv[2], 'zipped.' + ext), '岸线资料/zipped.' + ext)`, p('mailed.zip'), dir]);
  const { stdout } = await load(['--kind', 'mining_zone', '--name', 'zipped', p('mailed.zip')]);
  assert.match(stdout, /^layer zipped version 1: 3 features \(0 repaired\)$/m);
  const rows = await stored('zipped');
  const want = await gdal4326(p('zipped.shp'));
  rows.forEach((r, i) => assertSameCoords(r.g, want[i].geometry, `zip #${i + 1}`));
  assert.deepEqual(rows.map((r) => r.props.名称), NAMES);
});

check('a GeoPackage with two layers: --layer chooses', async () => {
  await ogr(['-f', 'GPKG', '-nln', '采区', p('two.gpkg'), p('src.geojson')]);
  await ogr(['-f', 'GPKG', '-update', '-nln', 'other', '-t_srs', 'EPSG:4490', p('two.gpkg'), p('src.geojson')]);
  const err = await loadFails(['--kind', 'mining_zone', '--name', 'gpkg', p('two.gpkg')]);
  assert.match(err, /two\.gpkg: the file has 2 layers \(采区, other\); choose one with --layer/);
  await loadAndCompare('gpkg', p('two.gpkg'), ['--layer', 'other'], { gdalLayers: ['other'] });
});

check('multipolygons are kept as they are', async () => {
  fs.writeFileSync(p('multi.geojson'), collection([
    feature({ 名称: '双区' }, { type: 'MultiPolygon', coordinates: [[square(117.1, 29.3)], [square(117.3, 29.3)]] }),
  ]));
  await load(['--kind', 'mining_zone', '--name', 'multi', p('multi.geojson')]);
  const rows = await stored('multi');
  assert.equal(rows[0].type, 'MULTIPOLYGON');
  assert.equal(rows[0].g.coordinates.length, 2);
});

check('an invalid (bow-tie) polygon is repaired and reported by feature', async () => {
  fs.writeFileSync(p('bowtie.geojson'), collection([
    feature({ 名称: '正常' }, { type: 'Polygon', coordinates: [square(117.1, 29.3)] }),
    feature({ 名称: '蝴蝶结' }, { type: 'Polygon', coordinates: [[[117.2, 29.3], [117.21, 29.31], [117.21, 29.3], [117.2, 29.31], [117.2, 29.3]]] }),
  ]));
  const { stdout, stderr } = await load(['--kind', 'mining_zone', '--name', 'bowtie', p('bowtie.geojson')]);
  assert.match(stdout, /^layer bowtie version 1: 2 features \(1 repaired\)$/m);
  assert.match(stderr, /warning: .*bowtie\.geojson: 1 invalid geometry repaired: #2 \(fid 1\)/);
  // and why, with the stored feature's id
  const why = /^shorewatch load: {3}#2 \(fid 1\) \(feature id (\d+)\): Self-intersection\[117\.205 29\.305\]$/m.exec(stderr);
  assert.ok(why, stderr);
  assert.equal((await stack.sql('SELECT props->>\'名称\' AS n FROM features WHERE id = $1', [why[1]]))[0].n, '蝴蝶结');
  const rows = await stored('bowtie');
  assert.equal(rows[1].type, 'MULTIPOLYGON');
  const v = await stack.sql(`SELECT bool_and(ST_IsValid(geom)) AS ok FROM features f JOIN layers l
    ON l.current_version_id = f.layer_version_id WHERE l.name = 'bowtie'`);
  assert.equal(v[0].ok, true);
});

check('an empty geometry rejects the load naming the feature, unless --skip-invalid', async () => {
  fs.writeFileSync(p('empty.geojson'), collection([
    feature({ 名称: '有' }, { type: 'Polygon', coordinates: [square(117.1, 29.3)] }),
    feature({ 名称: '无' }, null),
    feature({ 名称: '有二' }, { type: 'Polygon', coordinates: [square(117.2, 29.3)] }),
  ]));
  const err = await loadFails(['--kind', 'mining_zone', '--name', 'empty', p('empty.geojson')]);
  assert.match(err, /^shorewatch load: \S*empty\.geojson: feature #2 \(fid 1\): empty geometry/);
  assert.equal(err.trim().split('\n').length, 1);
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM layers WHERE name = $1', ['empty']))[0].n, 0);
  const { stdout } = await load(['--kind', 'mining_zone', '--name', 'empty', '--skip-invalid', p('empty.geojson')]);
  assert.match(stdout, /^layer empty version 1: 2 features \(0 repaired, 1 skipped\)$/m);
  assert.deepEqual((await stored('empty')).map((r) => r.props.名称), ['有', '有二']);
});

check('a truncated file: a clear error and nothing stored', async () => {
  await ogr(['-f', 'ESRI Shapefile', '-lco', 'ENCODING=UTF-8', p('trunc.shp'), p('src.geojson')]);
  const shp = fs.readFileSync(p('trunc.shp'));
  fs.writeFileSync(p('trunc.shp'), shp.subarray(0, shp.length - 60));
  const before = (await stack.sql('SELECT count(*)::int AS n FROM features'))[0].n;
  const err = await loadFails(['--kind', 'mining_zone', '--name', 'trunc', p('trunc.shp')]);
  assert.match(err, /^shorewatch load: \S*trunc\.shp: feature #3 .*/);
  assert.equal(err.trim().split('\n').length, 1);
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM layers WHERE name = $1', ['trunc']))[0].n, 0);
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM features'))[0].n, before);
  // nor a staged table: it was made in the transaction that rolled back
  assert.deepEqual(await stack.sql(`SELECT relname FROM pg_class WHERE relname ~ '^features_v[0-9]+$'
    AND relkind = 'r' AND NOT relispartition`), []);
});

// schema/005: features is LIST-partitioned by layer_version_id, a partition per loaded version.
check('each load is its own indexed partition of features; ids stay unique across versions', async () => {
  const versions = [];
  for (let i = 0; i < 2; i++) {
    const { stdout } = await load(['--kind', 'mining_zone', '--name', 'parts', '--code-field', '编号', p('src.geojson')]);
    assert.match(stdout, new RegExp(`^layer parts version ${i + 1}: 3 features`));
    versions.push((await stack.sql("SELECT current_version_id AS v FROM layers WHERE name = 'parts'"))[0].v);
  }
  for (const v of versions) {
    const part = await stack.sql(`SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound,
        (SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY 1) FROM pg_index i WHERE i.indrelid = c.oid) AS idx,
        (SELECT count(*)::int FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
      FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
      WHERE h.inhparent = 'features'::regclass AND c.relname = $1`, [`features_v${v}`]);
    assert.equal(part.length, 1, `features_v${v} is a partition of features`);
    assert.equal(part[0].bound, `FOR VALUES IN (${v})`);
    assert.equal(part[0].cols, 6, 'the staging column sw_valid is gone');
    assert.ok(part[0].idx.some((d) => /USING gist \(geom\)/.test(d)), part[0].idx.join('; '));
    assert.ok(part[0].idx.some((d) => /UNIQUE INDEX .* \(id, layer_version_id\)/.test(d)), part[0].idx.join('; '));
  }
  const ids = await stack.sql('SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM features');
  assert.equal(ids[0].n, ids[0].d, 'features.id is unique across all versions');
  // the usual read of the current features, and a plan that reads only the current partition
  const cur = await stack.sql(`SELECT f.id, f.code, f.props, f.geom FROM features f
    JOIN layers l ON f.layer_version_id = l.current_version_id WHERE l.name = 'parts' ORDER BY f.id`);
  assert.deepEqual(cur.map((r) => r.code), ['A1', 'B2', 'C3']);
  const plan = (await stack.sql(`EXPLAIN (COSTS OFF) SELECT count(*) FROM features WHERE layer_version_id = $1`,
    [versions[1]])).map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, new RegExp(`features_v${versions[1]}`));
  assert.doesNotMatch(plan, new RegExp(`features_v${versions[0]}\\b`));
  // an older version keeps its rows and stays queryable
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM features WHERE layer_version_id = $1', [versions[0]]))[0].n, 3);
});

check('the join of features to the layers\' current versions reads only those versions', async () => {
  // two versions of a 20,000-polygon layer: reading every version would read the old one too
  const n = 20000;
  fs.writeFileSync(p('many.geojson'), collection(Array.from({ length: n }, (_, i) =>
    feature({ 编号: `M${i}` }, { type: 'Polygon', coordinates: [square(117 + (i % 150) * 0.002, 29 + Math.floor(i / 150) * 0.002, 0.001)] }))));
  const vs = [];
  for (let i = 0; i < 2; i++) {
    await load(['--kind', 'river', '--name', 'many', p('many.geojson')]);
    vs.push((await stack.sql("SELECT current_version_id AS v FROM layers WHERE name = 'many'"))[0].v);
  }
  await stack.sql('ANALYZE features'); // autovacuum's job, done now
  // as the alerts engine reads its zones: the current features of the layers of some kinds
  const sql = `SELECT f.id, f.code, f.props, f.geom FROM features f JOIN layers l ON f.layer_version_id = l.current_version_id
    WHERE l.kind IN ('river', 'parking')`;
  const plan = (await stack.sql(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sql}`)).map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /Nested Loop/, plan);
  assert.match(plan, new RegExp(`on features_v${vs[0]} .*\\(never executed\\)`), plan);
  assert.match(plan, new RegExp(`on features_v${vs[1]} .*rows=${n} loops=1`), plan);
  assert.equal((await stack.sql(`SELECT count(*)::int AS c FROM (${sql}) q`))[0].c, n);
});

check('loads at the same time each get their version (no deadlock between attaches)', async () => {
  // two rounds of four: two layers of zones and two shoreline layers (whose ledger rows reference
  // the partition being attached), the second round making version 2 of each
  const jobs = [['mining_zone', 'together_a'], ['protection', 'together_b'],
    ['shoreline_project', 'together_c'], ['shoreline_project', 'together_d']];
  for (const round of [1, 2]) {
    const out = await Promise.all(jobs.map(([kind, name]) => load(['--kind', kind, '--name', name, p('src.geojson')])));
    out.forEach((o, i) => assert.match(o.stdout, new RegExp(`^layer ${jobs[i][1]} version ${round}: 3 features`)));
  }
  const rows = await stack.sql(`SELECT l.name, count(f.id)::int AS n, count(lp.feature_id)::int AS ledger
    FROM layers l JOIN features f ON f.layer_version_id = l.current_version_id
    LEFT JOIN ledger_projects lp ON lp.feature_id = f.id
    WHERE l.name LIKE 'together_%' GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(rows, [{ name: 'together_a', n: 3, ledger: 0 }, { name: 'together_b', n: 3, ledger: 0 },
    { name: 'together_c', n: 3, ledger: 3 }, { name: 'together_d', n: 3, ledger: 3 }]);
});

check('rows stored before 005 move into per-version partitions, ids and ledger rows kept', async () => {
  // a second database with migrations 001-004 only, filled the way the old loader did
  const db = `old_layout_${process.pid}`;
  await stack.sql(`CREATE DATABASE ${db}`);
  const conninfo = stack.db.replace(/dbname=\S+/, `dbname=${db}`);
  const old = path.join(dir, 'schema_001_004');
  fs.mkdirSync(old, { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, 'schema'))) {
    if (/^00[1-4]_.*\.sql$/.test(f)) fs.copyFileSync(path.join(ROOT, 'schema', f), path.join(old, f));
  }
  const env = { SHOREWATCH_DB: conninfo };
  await stack.cli(['migrate'], { env: { ...env, SHOREWATCH_SCHEMA_DIR: old } });
  const c = new pg.Client({ host: `${stack.pgDir}/run`, port: stack.pgPort, user: 'postgres', database: db });
  await c.connect();
  try {
    const q = async (sql, params) => (await c.query(sql, params)).rows;
    assert.equal((await q("SELECT count(*)::int AS n FROM pg_partitioned_table WHERE partrelid = 'features'::regclass"))[0].n, 0);
    await q(`WITH l AS (INSERT INTO layers (name, kind) VALUES ('old_shore', 'shoreline_project') RETURNING id)
      INSERT INTO layer_versions (layer_id, version) SELECT id, v FROM l, generate_series(1, 2) v`);
    await q(`INSERT INTO features (layer_version_id, fid, code, props, geom)
      SELECT lv.id, i, 'P' || i, jsonb_build_object('项目名称', '码头' || i, '批复日期', '2021-05-0' || i),
        ST_MakeEnvelope(117.1 + i * 0.01, 29.3, 117.105 + i * 0.01, 29.305, 4326)
      FROM layer_versions lv, generate_series(1, 3) i`);
    await q("UPDATE layers SET current_version_id = (SELECT max(id) FROM layer_versions) WHERE name = 'old_shore'");
    for (const { id } of await q('SELECT id FROM layer_versions')) await q('SELECT sw_ledger_fill($1, NULL)', [id]);
    const before = await q(`SELECT f.id, f.layer_version_id AS v, f.code, lp.project_name, lp.approved_on::text AS d
      FROM features f JOIN ledger_projects lp ON lp.feature_id = f.id ORDER BY f.id`);
    assert.equal(before.length, 6);

    const { stdout } = await stack.cli(['migrate'], { env });
    assert.match(stdout, /migrations applied/);
    const after = await q(`SELECT f.id, f.layer_version_id AS v, f.code, lp.project_name, lp.approved_on::text AS d
      FROM features f JOIN ledger_projects lp ON lp.feature_id = f.id AND lp.layer_version_id = f.layer_version_id
      ORDER BY f.id`);
    assert.deepEqual(after, before);
    const parts = await q(`SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
      WHERE h.inhparent = 'features'::regclass ORDER BY 1`);
    assert.deepEqual(parts.map((r) => r.relname), ['features_v1', 'features_v2']);
    assert.equal((await q('SELECT count(*)::int AS n FROM ledger_current'))[0].n, 3);
    // a new load into the migrated database: a new partition, ids after the old ones
    const file = path.join(dir, 'old_shore.geojson');
    fs.writeFileSync(file, collection([feature({ 项目名称: '新码头' }, { type: 'Polygon', coordinates: [square(117.2, 29.3)] })]));
    const l = await stack.cli(['load', '--kind', 'shoreline_project', '--name', 'old_shore', file], { env });
    assert.match(l.stdout, /^layer old_shore version 3: 1 feature /);
    const fresh = await q(`SELECT f.id, lp.project_name FROM features f JOIN layers l ON f.layer_version_id = l.current_version_id
      JOIN ledger_projects lp ON lp.feature_id = f.id WHERE l.name = 'old_shore'`);
    assert.equal(fresh.length, 1);
    assert.ok(Number(fresh[0].id) > Math.max(...before.map((r) => Number(r.id))), 'the id sequence goes on');
    assert.equal(fresh[0].project_name, '新码头');
    // deleting a layer still takes its features and ledger rows along
    await q("UPDATE layers SET current_version_id = NULL WHERE name = 'old_shore'");
    await q("DELETE FROM layers WHERE name = 'old_shore'");
    assert.deepEqual(await q('SELECT (SELECT count(*)::int FROM features) AS f, (SELECT count(*)::int FROM ledger_projects) AS lp'),
      [{ f: 0, lp: 0 }]);
  } finally {
    await c.end();
  }
});
