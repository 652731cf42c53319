// load.mjs -- load time of a 100,000-polygon file: `shorewatch load` against `ogr2ogr -f PostgreSQL`, same database.
//
// Writes BENCH_LOAD_FEATURES (default 100,000) small square polygons near Jingdezhen with two attributes
// (one Chinese) as GeoJSON (node, no GDAL), starts its own PostGIS (tests/lib/stack.mjs), then loads the
// file BENCH_LOAD_RUNS times (default 3) each way, alternating: `shorewatch load --kind mining_zone` (a new
// version each time) and `ogr2ogr -f PostgreSQL PG:... -nln bench_ogr -overwrite`. Prints each time, the best of
// each and the ratio shorewatch / ogr2ogr (target <= 1.0). Figures are printed, never asserted. Each
// `shorewatch load` is a new version, i.e. a new partition of features (schema/005): the versions
// already stored do not slow the next one down, which the per-run times show.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startStack, BIN } from '../lib/stack.mjs';

const execFileP = promisify(execFile);
const N = Number(process.env.BENCH_LOAD_FEATURES || 100000);
const RUNS = Number(process.env.BENCH_LOAD_RUNS || 3);

function writeSquares(file, n) {
  const side = Math.ceil(Math.sqrt(n));
  const d = 0.0005;
  const parts = ['{"type":"FeatureCollection","features":[\n'];
  for (let i = 0; i < n; i++) {
    const lon = 117.0 + (i % side) * d * 1.5;
    const lat = 29.2 + Math.floor(i / side) * d * 1.5;
    const ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]];
    parts.push(`${i ? ',' : ''}{"type":"Feature","properties":{"code":"Q${i}","名称":"采区${i}号"},` +
      `"geometry":{"type":"Polygon","coordinates":[${JSON.stringify(ring)}]}}\n`);
  }
  parts.push(']}\n');
  fs.writeFileSync(file, parts.join(''));
}

async function timed(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  await execFileP(cmd, args, { env, maxBuffer: 64 << 20 });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const stack = await startStack();
try {
  const file = path.join(stack.tmp, 'bench_squares.geojson');
  writeSquares(file, N);
  console.log(`load: ${N.toLocaleString('en')} polygons, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB GeoJSON`);
  const ours = [];
  const theirs = [];
  for (let r = 0; r < RUNS; r++) {
    theirs.push(await timed('ogr2ogr', ['-f', 'PostgreSQL', `PG:${stack.db}`, file, '-nln', 'bench_ogr', '-overwrite'],
      process.env));
    ours.push(await timed(BIN, ['load', '--kind', 'mining_zone', '--name', 'bench_load', file], stack.env));
    console.log(`  run ${r + 1}: shorewatch load ${ours[r].toFixed(2)} s, ogr2ogr ${theirs[r].toFixed(2)} s`);
  }
  const a = Math.min(...ours);
  const b = Math.min(...theirs);
  console.log(`load: shorewatch ${a.toFixed(2)} s, ogr2ogr -f PostgreSQL ${b.toFixed(2)} s, ratio ${(a / b).toFixed(2)} (target <= 1.0)`);
} finally {
  await stack.stop();
}
