// pgtmp.mjs -- a private, throw-away PostgreSQL + PostGIS cluster for the geofence checker
// (tests/integration/geofence.test.mjs, tests/bench/geofence.mjs), and a runner for
// build/tests/gf_check (or $SW_BUILD/tests/gf_check).
//
//   const db = await startPostgis();    // { conninfo, dir, port, stop() }
//   const r = await runGfCheck(['--zones', '300', db.conninfo]);   // { code, stdout, stderr }
//   await db.stop();
//
// The cluster is server/scripts/pg.sh's (unix socket only, as the postgres OS user when run
// as root) in a fresh temporary directory; stop() stops that cluster by its data directory
// and removes the directory. An 'exit' handler does the same if a test dies first.

import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BIN, ROOT, freePort } from '../lib/stack.mjs';

const execFileP = promisify(execFile);
const PGSH = path.join(ROOT, 'server', 'scripts', 'pg.sh');
export const GF_CHECK = path.join(path.dirname(BIN), 'tests', 'gf_check');

export async function startPostgis() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-gf-'));
  fs.chmodSync(tmp, 0o755); // the postgres OS user must reach tmp/pg
  const dir = path.join(tmp, 'pg');
  const port = await freePort();
  const env = { ...process.env, SW_PG_FAST: '1' };
  let started = false;
  let removed = false;

  const stopSync = () => {
    if (started) spawnSync(PGSH, [dir, String(port), 'stop'], { stdio: 'ignore', env });
    started = false;
    if (!removed) fs.rmSync(tmp, { recursive: true, force: true });
    removed = true;
  };
  process.on('exit', stopSync);
  const pg = async (cmd) => {
    try {
      await execFileP(PGSH, [dir, String(port), cmd], { env, maxBuffer: 16 << 20 });
    } catch (e) {
      throw new Error(`pg.sh ${cmd} failed (exit ${e.code}):\n${e.stdout || ''}${e.stderr || ''}`);
    }
  };
  try {
    await pg('init');
    started = true;
    await pg('start');
  } catch (e) {
    stopSync();
    process.off('exit', stopSync);
    throw e;
  }
  return {
    dir,
    port,
    conninfo: `host=${dir}/run port=${port} dbname=shorewatch user=postgres`,
    async stop() {
      if (started) await pg('stop').catch(() => {});
      started = false;
      stopSync();
      process.off('exit', stopSync);
    },
  };
}

/** Runs gf_check with args; resolves { code, stdout, stderr } (never rejects on a non-zero exit). */
export function runGfCheck(args, { echo = false } = {}) {
  if (!fs.existsSync(GF_CHECK)) throw new Error(`${GF_CHECK} is missing: run 'make ${path.relative(ROOT, GF_CHECK)}'`);
  return new Promise((resolve, reject) => {
    const child = spawn(GF_CHECK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (echo) process.stderr.write(d);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? signal, stdout, stderr }));
  });
}
