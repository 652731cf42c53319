// tiles.mjs -- vector tile latency: p50/p95 at zoom 10-16 over the demo layers, uncached and cached.
//
// Starts its own PostGIS and server with the demo layers (tests/lib/stack.mjs) and, for every demo
// layer and zoom 10..16, takes up to BENCH_TILES_PER_ZOOM tiles covering the layer's bounds (from its
// TileJSON), plus a synthetic layer `bench_grid` of BENCH_TILES_GRID (default 100,000; 0: none) small square
// polygons with two attributes over 0.5 x 0.5 degrees of the demo area, inserted with SQL (not the loader:
// this measures tiles, not loading) into the version's partition (sw_features_partition). The dense layer
// also gets its own p50/p95 lines, overall and per zoom, uncached and cached. One request at a time over a keep-alive connection (node's fetch), timing each from
// request to the last byte:
//   1. uncached: each tile's first request (ST_AsMVT in PostGIS);
//   2. cached: the same tiles again, back to back (the server's tile cache; the layer's version is
//      re-read from the database at most once a second);
//   3. revalidated: a cached tile after more than a second (one version lookup, no encoding);
//   4. 304: the cached tiles with If-None-Match.
// Figures are printed, never asserted: timings never decide pass or fail.
import { startStack } from '../lib/stack.mjs';

const env = process.env;
const PER_ZOOM = Number(env.BENCH_TILES_PER_ZOOM || 40);
const REVALIDATE_SAMPLES = Number(env.BENCH_TILES_REVALIDATE || 15);
const GRID = Number(env.BENCH_TILES_GRID ?? 100000);
const LAYERS = ['chang_water', 'chang_river', 'demo_mining_zones', 'demo_parking', 'demo_no_mining', 'demo_protection'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;

function tileXY(lon, lat, z) {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [
    Math.min(n - 1, Math.floor(((lon + 180) / 360) * n)),
    Math.min(n - 1, Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)),
  ];
}

/** Up to `max` tiles of zoom z covering bounds, spread evenly over the covering range. */
function tilesOver([w, s, e, n], z, max) {
  const [x0, y0] = tileXY(w, n, z);
  const [x1, y1] = tileXY(e, s, z);
  const all = [];
  for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) all.push([x, y]);
  if (all.length <= max) return all;
  const step = all.length / max;
  return Array.from({ length: max }, (_, i) => all[Math.floor(i * step)]);
}

async function timed(url, headers) {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, status: res.status, bytes: body.length, etag: res.headers.get('etag') };
}

function line(label, samples) {
  const s = samples.map((x) => x.ms).sort((a, b) => a - b);
  const bytes = samples.reduce((a, x) => a + x.bytes, 0);
  const full = samples.filter((x) => x.bytes > 0).length;
  return `${label.padEnd(28)} n=${String(s.length).padStart(4)}  p50 ${pct(s, 0.5).toFixed(2).padStart(7)} ms  ` +
    `p95 ${pct(s, 0.95).toFixed(2).padStart(7)} ms  max ${(s[s.length - 1] ?? NaN).toFixed(2).padStart(7)} ms` +
    (bytes ? `  ${full} non-empty, avg ${Math.round(bytes / full)} B` : '');
}

const stack = await startStack({ demo: true });
try {
  if (GRID > 0) {
    const side = Math.ceil(Math.sqrt(GRID));
    const t0 = Date.now();
    await stack.sql(`WITH l AS (INSERT INTO layers (name, kind, title) VALUES ('bench_grid', 'function_zone', '基准网格') RETURNING id)
      INSERT INTO layer_versions (layer_id, version, feature_count, loaded_by) SELECT id, 1, $1, 'bench' FROM l`, [GRID]);
    // features is partitioned by version (schema/005): rows need their version's partition first
    await stack.sql(`SELECT sw_features_partition(v.id) FROM layer_versions v JOIN layers l ON l.id = v.layer_id
      WHERE l.name = 'bench_grid'`);
    await stack.sql(`INSERT INTO features (layer_version_id, fid, code, props, geom)
      SELECT v.id, i, 'G-' || i, jsonb_build_object('名称', '网格' || i, '面积_m2', 10000 + i % 977),
        ST_MakeEnvelope(117.0 + (i % $2) * (0.5 / $2), 29.2 + (i / $2) * (0.5 / $2),
                        117.0 + (i % $2 + 0.7) * (0.5 / $2), 29.2 + (i / $2 + 0.7) * (0.5 / $2), 4326)
      FROM layer_versions v JOIN layers l ON l.id = v.layer_id, generate_series(0, $1 - 1) i
      WHERE l.name = 'bench_grid'`, [GRID, side]);
    await stack.sql(`UPDATE layers l SET current_version_id = v.id FROM layer_versions v
      WHERE v.layer_id = l.id AND l.name = 'bench_grid'`);
    await stack.sql('ANALYZE features');
    LAYERS.push('bench_grid');
    console.log(`bench_grid: ${GRID} polygons inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const token = await stack.login();
  const auth = { Authorization: `Bearer ${token}` };
  const urls = []; // { url, z }
  for (const name of LAYERS) {
    const tj = await (await fetch(`${stack.http}/tiles/${name}.json`, { headers: auth })).json();
    for (let z = 10; z <= 16; z++) {
      for (const [x, y] of tilesOver(tj.bounds, z, PER_ZOOM)) urls.push({ url: `${stack.http}/tiles/${name}/${z}/${x}/${y}.mvt`, z });
    }
  }
  // warm the connection and each worker's PostGIS/PROJ state on a tile outside the measured set
  const warm = [];
  for (let i = 0; i < 8; i++) warm.push((await timed(`${stack.http}/tiles/${LAYERS[0]}/3/${i}/3.mvt`, auth)).ms);

  const uncached = [];
  for (const u of urls) uncached.push({ ...u, ...(await timed(u.url, auth)) });
  const cached = [];
  for (const u of urls) cached.push({ ...u, ...(await timed(u.url, auth)) });
  const notModified = [];
  for (const u of uncached) notModified.push(await timed(u.url, { ...auth, 'If-None-Match': u.etag }));
  const revalidated = [];
  for (let i = 0; i < REVALIDATE_SAMPLES; i++) {
    await sleep(1100);
    revalidated.push(await timed(urls[Math.floor((i * urls.length) / REVALIDATE_SAMPLES)].url, auth));
  }

  const bad = [...uncached, ...cached].filter((x) => x.status !== 200).length +
    notModified.filter((x) => x.status !== 304).length;
  console.log(`tiles: ${urls.length} distinct tiles, zoom 10-16, ${LAYERS.length} demo layers` +
    (bad ? ` (${bad} unexpected statuses!)` : ''));
  console.log(line('uncached (ST_AsMVT)', uncached));
  console.log(line('cached', cached));
  console.log(line('cached, revalidated (>1 s)', revalidated));
  console.log(line('304 If-None-Match', notModified));
  for (let z = 10; z <= 16; z++) {
    console.log(`  z${z}: ${line('uncached', uncached.filter((x) => x.z === z)).trim()}`);
  }
  if (GRID > 0) {
    // the dense layer on its own: 100,000 polygons, each about a pixel wide at z10-11
    const g = (xs) => xs.filter((x) => x.url.includes('/bench_grid/'));
    console.log(line(`bench_grid uncached`, g(uncached)));
    console.log(line(`bench_grid cached`, g(cached)));
    for (let z = 10; z <= 16; z++) {
      console.log(`  z${z}: ${line('grid uncached', g(uncached).filter((x) => x.z === z)).trim()}`);
      console.log(`  z${z}: ${line('grid cached', g(cached).filter((x) => x.z === z)).trim()}`);
    }
  }
  console.log(`  first tiles after start (PostGIS/PROJ warm-up per worker connection): ${warm.map((x) => x.toFixed(0)).join(', ')} ms`);
  console.log(`  targets (issue 4): cached p95 < 20 ms, uncached p95 < 100 ms`);
} finally {
  await stack.stop();
}
