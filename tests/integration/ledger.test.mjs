// ledger.test.mjs -- shoreline ledger: typed fields from Chinese columns, dates, geodesic shoreline length, mappings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, logOnFailure } from '../lib/stack.mjs';

let stack;
let dir;
let vid; // layer_versions.id of the shoreline layer's current version

// A stretch of the demo river (schema/demo/chang_river.geojson, first vertices), lon/lat.
const RIVER = [[117.8444495, 29.9152819], [117.8394446, 29.9130541], [117.8347295, 29.9100023],
  [117.8297246, 29.9077745], [117.824445, 29.9055619], [117.818616, 29.9041733], [117.8119478, 29.9033341]];
const NORTH = 0.002; // ≈ 222 m

// A project polygon: one side on the river from vertex 2 to 4, the other 222 m north.
const BANK = RIVER.slice(2, 5);
const POLY = [...BANK, ...BANK.slice().reverse().map(([x, y]) => [x, y + NORTH]), BANK[0]];
const PIPE = RIVER.slice(4, 6); // a line along the river
const FAR = [[117.70, 29.70], [117.71, 29.70], [117.71, 29.71], [117.70, 29.71], [117.70, 29.70]];

const feat = (props, geometry) => ({ type: 'Feature', properties: props, geometry });
const PROJECTS = {
  type: 'FeatureCollection',
  features: [
    feat({ 项目名称: '长河一号码头', 批复文号: '赣水岸〔2021〕12号', 业主单位: '景德镇港务公司', 利用类型: '码头',
      功能区: '开发利用区', 批复日期: '2021-05-06', 起始日期: '2021/5/6', 终止日期: '2031年5月5日', 备注: '含引桥',
      管理单位: '浮梁县水利局' }, { type: 'Polygon', coordinates: [POLY] }),
    feat({ 项目名称: '', 名称: '城北取水口', 批复文号: '浮水许〔2019〕3号', 业主单位: '自来水公司', 利用类型: '取水口',
      功能区: '控制利用区', 批复日期: '2019年3月1日', 备注: '' }, { type: 'Point', coordinates: [117.8200, 29.9046] }),
    feat({ 项目名称: '过河管道', 批复文号: 'X-7', 业主单位: '燃气公司', 利用类型: '管道', 批复日期: 20200115,
      备注: '穿越' }, { type: 'LineString', coordinates: PIPE }),
    feat({ 项目名称: '远处砂场', 利用类型: '砂场', 批复日期: '2021.13.45', 终止日期: '2022/2/30', 备注: '待核' },
      { type: 'Polygon', coordinates: [FAR] }),
  ],
};

// ---- independent geometry in JS: spherical (haversine) lengths, local planar distances
const R = 6371008.8;
const rad = (d) => (d * Math.PI) / 180;
function haversine([x1, y1], [x2, y2]) {
  const a = Math.sin(rad(y2 - y1) / 2) ** 2 + Math.cos(rad(y1)) * Math.cos(rad(y2)) * Math.sin(rad(x2 - x1) / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}
const pathLength = (pts) => pts.slice(1).reduce((s, p, i) => s + haversine(pts[i], p), 0);
// metres east/north of lat0 (equirectangular; exact enough over a few km)
const LAT0 = 29.91;
const xy = ([x, y]) => [rad(x) * R * Math.cos(rad(LAT0)), rad(y) * R];
function distToSegment(p, a, b) {
  const [px, py] = xy(p), [ax, ay] = xy(a), [bx, by] = xy(b);
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}
const distToRiver = (p) => Math.min(...RIVER.slice(1).map((b, i) => distToSegment(p, RIVER[i], b)));
// Length of ring's boundary within 50 m of the river, by sampling each edge every ~0.2 m.
function lengthNearRiver(ring) {
  let total = 0;
  for (let i = 1; i < ring.length; i++) {
    const a = ring[i - 1], b = ring[i], len = haversine(a, b), n = Math.ceil(len / 0.2);
    for (let k = 0; k < n; k++) {
      const t = (k + 0.5) / n;
      if (distToRiver([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]) <= 50) total += len / n;
    }
  }
  return total;
}
const near = (got, want, rel = 0.01) =>
  assert.ok(Math.abs(got - want) <= rel * want, `${got} is not within ${rel * 100}% of ${want}`);

const ledger = async () => Object.fromEntries((await stack.sql(
  `SELECT f.props, lp.* , lp.approved_on::text AS ao, lp.valid_from::text AS vf, lp.valid_to::text AS vt
     FROM ledger_projects lp JOIN features f ON f.id = lp.feature_id WHERE lp.layer_version_id = $1`, [vid]))
  .map((r) => [r.props.项目名称 || r.props.名称, r]));
const fill = async (mapping) =>
  (await stack.sql('SELECT sw_ledger_fill($1::int, $2::jsonb) AS n',
    [vid, mapping === null ? null : JSON.stringify(mapping)]))[0].n;

before(async () => {
  stack = await startStack({ demo: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-ledger-'));
  fs.writeFileSync(path.join(dir, 'projects.geojson'), JSON.stringify(PROJECTS));
  fs.writeFileSync(path.join(dir, 'river.geojson'), JSON.stringify({ type: 'FeatureCollection',
    features: [feat({ 名称: '昌江' }, { type: 'LineString', coordinates: RIVER })] }));
  await stack.cli(['load', '--kind', 'shoreline_project', '--name', 't_shore', path.join(dir, 'projects.geojson')]);
  vid = (await stack.sql("SELECT current_version_id AS v FROM layers WHERE name = 't_shore'"))[0].v;
});

after(async () => {
  if (stack) await stack.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a load of a shoreline_project layer fills the ledger by itself', logOnFailure(() => stack, async () => {
  // before any explicit sw_ledger_fill: `shorewatch load` did it in its transaction
  const l = await ledger();
  assert.equal(Object.keys(l).length, 4);
  assert.equal(l.长河一号码头.length_method, 'half_perimeter');
}));

test('no river layer: polygons get half the geodesic perimeter', logOnFailure(() => stack, async () => {
  assert.equal(await fill(null), 4);
  const l = await ledger();
  assert.equal(l.长河一号码头.length_method, 'half_perimeter');
  near(l.长河一号码头.shoreline_length_m, pathLength(POLY) / 2);
  assert.equal(l.过河管道.length_method, 'line');
}));

test('typed fields from Chinese columns; dates parsed; other columns kept', logOnFailure(() => stack, async () => {
  await stack.cli(['load', '--kind', 'river', '--name', 't_river', path.join(dir, 'river.geojson')]);
  assert.equal(await fill(null), 4);
  const l = await ledger();
  const a = l.长河一号码头;
  assert.equal(a.project_name, '长河一号码头');
  assert.equal(a.approval_no, '赣水岸〔2021〕12号');
  assert.equal(a.owner, '景德镇港务公司');
  assert.equal(a.use_type, '码头');
  assert.equal(a.function_zone, '开发利用区');
  assert.deepEqual([a.ao, a.vf, a.vt], ['2021-05-06', '2021-05-06', '2031-05-05']);
  assert.equal(a.sources.project_name, '项目名称');
  assert.equal(a.props.备注, '含引桥'); // every source column stays in props
  assert.equal(a.props.批复日期, '2021-05-06');
  // blank 项目名称: the next column, 名称, wins
  const b = l.城北取水口;
  assert.equal(b.project_name, '城北取水口');
  assert.equal(b.sources.project_name, '名称');
  assert.equal(b.ao, '2019-03-01');
  assert.equal(b.shoreline_length_m, null); // a point has no length
  assert.equal(l.过河管道.ao, '2020-01-15');
  // unparseable dates stay NULL and are recorded
  const d = l.远处砂场;
  assert.equal(d.ao, null);
  assert.equal(d.vt, null);
  assert.deepEqual(d.bad_dates, { approved_on: '2021.13.45', valid_to: '2022/2/30' });
  assert.equal(d.function_zone, null);
}));

test('shoreline length: geodesic, only the boundary within 50 m of the river', logOnFailure(() => stack, async () => {
  const l = await ledger();
  const a = l.长河一号码头;
  assert.equal(a.length_method, 'river_50m');
  const want = lengthNearRiver(POLY);
  assert.ok(want > pathLength(BANK) && want < pathLength(BANK) + 200, `JS reference ${want}`);
  near(a.shoreline_length_m, want);
  assert.equal(l.过河管道.length_method, 'line');
  near(l.过河管道.shoreline_length_m, pathLength(PIPE));
  assert.equal(l.远处砂场.shoreline_length_m, 0); // no river within 50 m
}));

test('sw_ledger_props merges typed fields over the source props (for OGC items)', logOnFailure(() => stack, async () => {
  const rows = await stack.sql(
    `SELECT f.props || sw_ledger_props(f.id) AS p FROM features f WHERE f.layer_version_id = $1
       AND f.props->>'项目名称' = '长河一号码头'`, [vid]);
  const p = rows[0].p;
  assert.equal(p.project_name, '长河一号码头');
  assert.equal(p.approved_on, '2021-05-06');
  assert.equal(p.备注, '含引桥');
  assert.equal(typeof p.shoreline_length_m, 'number');
  const other = await stack.sql(
    "SELECT sw_ledger_props(f.id) AS p FROM features f JOIN layers l ON l.current_version_id = f.layer_version_id WHERE l.name = 't_river'");
  assert.deepEqual(other[0].p, {});
  const view = await stack.sql("SELECT count(*)::int AS n FROM ledger_current WHERE layer = 't_shore'");
  assert.equal(view[0].n, 4);
}));

test('a custom mapping from a JSON file replaces the listed fields only', logOnFailure(() => stack, async () => {
  const file = path.join(dir, 'map.json');
  fs.writeFileSync(file, JSON.stringify({ owner: ['管理单位'], function_zone: [] }));
  // the config accepts the file (every command checks it at startup)
  await stack.cli(['migrate'], { env: { SHOREWATCH_LEDGER_MAP: file } });
  assert.equal(await fill(JSON.parse(fs.readFileSync(file, 'utf8'))), 4);
  const l = await ledger();
  assert.equal(l.长河一号码头.owner, '浮梁县水利局');
  assert.equal(l.长河一号码头.function_zone, null);
  assert.equal(l.城北取水口.owner, null);
  assert.equal(l.长河一号码头.ao, '2021-05-06'); // not listed: the built-in columns
  await fill(null); // back to the built-in mapping
  assert.equal((await ledger()).长河一号码头.owner, '景德镇港务公司');
}));

test('a bad mapping is rejected with a clear message', logOnFailure(() => stack, async () => {
  await assert.rejects(fill({ ownr: ['x'] }), /"ownr" is not a ledger field/);
  await assert.rejects(fill({ owner: '业主单位' }), /"owner" must be an array of column names/);
  await assert.rejects(fill(['业主单位']), /must be a JSON object/);
  const cases = [
    [{ owner: [1] }, /ledger_map .*bad\.json: ledger mapping: "owner" must be an array of column names/],
    [{ 业主: ['业主单位'] }, /"业主" is not a ledger field/],
  ];
  for (const [m, re] of cases) {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(m));
    await assert.rejects(stack.cli(['migrate'], { env: { SHOREWATCH_LEDGER_MAP: file } }),
      (e) => e.code === 2 && re.test(e.stderr));
  }
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"owner": [');
  await assert.rejects(stack.cli(['migrate'], { env: { SHOREWATCH_LEDGER_MAP: path.join(dir, 'broken.json') } }),
    (e) => /ledger_map .*broken\.json: .*line 1/.test(e.stderr));
  // the rows of the last good fill are untouched
  assert.equal((await ledger()).长河一号码头.owner, '景德镇港务公司');
}));

test('ledger rows point at their feature by (version, id); deleting a version takes both along', logOnFailure(() => stack, async () => {
  // features is partitioned by version (schema/005): the key the ledger refers to is the pair
  const fk = await stack.sql(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint
    WHERE conrelid = 'ledger_projects'::regclass AND contype = 'f' ORDER BY 1`);
  assert.ok(fk.some((r) => r.d === 'FOREIGN KEY (layer_version_id, feature_id) REFERENCES features(layer_version_id, id) ON DELETE CASCADE'),
    JSON.stringify(fk));
  // a ledger row naming a feature of another version is refused
  const river = (await stack.sql(`SELECT f.id FROM features f JOIN layers l ON f.layer_version_id = l.current_version_id
    WHERE l.name = 't_river'`))[0].id;
  await assert.rejects(stack.sql('INSERT INTO ledger_projects (feature_id, layer_version_id) VALUES ($1, $2)', [river, vid]),
    /foreign key/);
  // version 2 of the projects, then version 1 deleted: its features and ledger rows go, version 2's stay
  const { stdout } = await stack.cli(['load', '--kind', 'shoreline_project', '--name', 't_shore', path.join(dir, 'projects.geojson')]);
  assert.match(stdout, /^layer t_shore version 2: 4 features/);
  const vid2 = (await stack.sql("SELECT current_version_id AS v FROM layers WHERE name = 't_shore'"))[0].v;
  const count = async (v) => (await stack.sql(`SELECT (SELECT count(*)::int FROM features WHERE layer_version_id = $1) AS f,
    (SELECT count(*)::int FROM ledger_projects WHERE layer_version_id = $1) AS lp`, [v]))[0];
  assert.deepEqual(await count(vid), { f: 4, lp: 4 });
  await stack.sql('DELETE FROM layer_versions WHERE id = $1', [vid]);
  assert.deepEqual(await count(vid), { f: 0, lp: 0 });
  assert.deepEqual(await count(vid2), { f: 4, lp: 4 });
  assert.equal((await stack.sql("SELECT count(*)::int AS n FROM ledger_current WHERE layer = 't_shore'"))[0].n, 4);
}));
