// geofence.mjs -- the geofence index against PostGIS: runs build/tests/gf_check --bench (tests/tools/gf_check.c)
// on a private PostGIS cluster (tests/tools/pgtmp.mjs) and prints its figures:
//   - gf_covered decisions/s on one core over 10,000 zones of 50-500 vertices (smooth outlines; then the same for
//     spiky ones, a stress case), gf_query rates, and a GEOS STRtree + prepared geometries baseline;
//   - PostGIS ST_Covers decisions/s as a user would ask (20,000 points, EXISTS over a GiST-indexed zone table, the
//     planner's own plan), its answers compared with gf_covered's, and the ratio.
// Figures are printed, never asserted (the run fails only if PostGIS and the index disagree).
// BENCH_GF_ZONES, BENCH_GF_QUERIES, BENCH_GF_PG_POINTS override the sizes.
import { runGfCheck, startPostgis } from '../tools/pgtmp.mjs';

const env = process.env;
const args = ['--bench'];
if (env.BENCH_GF_ZONES) args.push('--bench-zones', env.BENCH_GF_ZONES);
if (env.BENCH_GF_QUERIES) args.push('--bench-queries', env.BENCH_GF_QUERIES);
if (env.BENCH_GF_PG_POINTS) args.push('--bench-pg-points', env.BENCH_GF_PG_POINTS);

console.log('== geofence: gis/geofence vs PostGIS ST_Covers');
const db = await startPostgis();
try {
  const r = await runGfCheck([...args, db.conninfo], { echo: true });
  if (r.code !== 0) {
    console.error(`gf_check --bench exited with ${r.code}`);
    process.exitCode = 1;
  }
} finally {
  await db.stop();
}
