// geofence.test.mjs -- gis/geofence against PostGIS: build/tests/gf_check (tests/tools/gf_check.c) on a private
// PostGIS cluster (tests/tools/pgtmp.mjs). 300 random zones (star polygons of 50-500 vertices, holes, multipolygons,
// rectilinear staircases) in a GiST-indexed table and 20,000 points (vertices, points exactly on axis-parallel edges,
// points on slanted edges, points where PostGIS's rounding puts them on an edge, points in holes, uniform points):
// every (point, candidate zone) answer of gf_query / gf_covered / gf_zone_covers must equal ST_Covers, and the
// signed distances within 100 m must equal PostGIS's, recomputed in the same local frame.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runGfCheck, startPostgis } from '../tools/pgtmp.mjs';

let db;

before(async () => {
  db = await startPostgis();
});
after(async () => {
  if (db) await db.stop();
});

/** The figures of gf_check's summary lines. */
function summary(stdout) {
  const m = stdout.match(/gf_check: (\d+) zones, (\d+) points, (\d+) covered pairs, (\d+) distances/);
  const mm = stdout.match(/gf_check: (\d+) mismatches/);
  const kinds = {};
  for (const [, k, n] of stdout.matchAll(/([a-z-]+) (\d+) \(\d+ covered pairs\)/g)) kinds[k] = Number(n);
  return m && mm
    ? { zones: +m[1], points: +m[2], covered: +m[3], distances: +m[4], mismatches: +mm[1], kinds }
    : null;
}

test('300 zones x 20,000 points: every answer equals ST_Covers, every distance PostGIS\'s', { timeout: 600000 }, async () => {
  const r = await runGfCheck(['--zones', '300', '--points', '20000', '--seed', '1', db.conninfo]);
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.code, 0, out);
  const s = summary(r.stdout);
  assert.ok(s, out);
  assert.equal(s.mismatches, 0, out);
  assert.equal(s.zones, 300);
  assert.equal(s.points, 20000);
  // the check really checked something of every kind
  assert.ok(s.covered > 10000, out);
  assert.ok(s.distances > 1000, out);
  for (const k of ['vertex', 'axis-edge', 'slanted-edge', 'hole', 'uniform']) assert.ok(s.kinds[k] > 1000, `${k}: ${out}`);
  assert.ok(s.kinds.rounding > 20, out);
});

test('another seed, more distances', { timeout: 600000 }, async () => {
  const r = await runGfCheck(['--zones', '300', '--points', '20000', '--seed', '2', '--dist-points', '6000', db.conninfo]);
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.code, 0, out);
  const s = summary(r.stdout);
  assert.ok(s && s.mismatches === 0 && s.distances > 3000, out);
});

test('the checker fails on a wrong answer (--flip-one)', { timeout: 600000 }, async () => {
  const r = await runGfCheck(['--zones', '20', '--points', '500', '--flip-one', db.conninfo]);
  assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^MISMATCH point \d+ /m);
  assert.match(r.stdout, /gf_check: [1-9]\d* mismatches/);
});
