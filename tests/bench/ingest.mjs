// ingest.mjs -- `make bench`: end-to-end ingest figures over real sockets into a real PostGIS.
//
// Starts its own PostGIS and server (tests/lib/stack.mjs), registers a synthetic fleet, drives it
// with shorewatch-sim (real JT/T 808), verifies in the database that every acknowledged position
// arrived, and prints:
//   1. end-to-end positions/s (frames in -> durable rows in PostGIS and live events out);
//   2. the raw COPY rate of the same rows into the same table on the same machine, and the ratio;
//   3. p50/p99 latency from frame receipt to the WebSocket event at about 10,000 positions/s;
//   4. server RSS per connected idle terminal.
// Figures are printed, never asserted: timings never decide pass or fail.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { startStack, SIM, ROOT } from '../lib/stack.mjs';

const execFileP = promisify(execFile);
const env = process.env;
const TERMINALS = Number(env.BENCH_TERMINALS || 10000);
const SECONDS = Number(env.BENCH_SECONDS || 20);
// each terminal reports `BATCH` positions per 0x0704 frame, one simulated second apart, and the
// simulated clock runs TIME_SCALE times real time: a fleet catching up after a signal gap
const BATCH = Number(env.BENCH_BATCH || 20);
const TIME_SCALE = Number(env.BENCH_TIME_SCALE || 20);
const LAT_RATE = Number(env.BENCH_LATENCY_RATE || 10000);
const IDLE_TERMINALS = Number(env.BENCH_IDLE_TERMINALS || 10000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssKiB = (pid) => Number((/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8')) || [])[1]);
const pct = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;

function runSim(stack, args) {
  const child = spawn(SIM, ['--server', `127.0.0.1:${stack.jt808Port}`, '--quiet', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const done = new Promise((resolve) => child.on('exit', () => resolve(out)));
  return { child, done };
}
const field = (summary, k) => Number((new RegExp(`${k}=([0-9.]+)`).exec(summary) || [])[1] || 0);

async function count(stack) {
  return Number((await stack.sql('SELECT count(*)::bigint AS n FROM positions'))[0].n);
}

async function liveClient(stack) {
  const token = await stack.login('admin', stack.adminPassword);
  const ws = new WebSocket(`ws://127.0.0.1:${stack.httpPort}/ws?token=${token}`);
  const st = { events: 0, lat: [], record: false };
  ws.on('message', (data) => {
    st.events++;
    if (!st.record) return;
    const m = /"received":"([^"]+)"/.exec(String(data));
    if (m) st.lat.push(Date.now() - Date.parse(m[1]));
  });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  st.close = () => ws.close();
  return st;
}

// a live ring of 2M events: the bench's own WebSocket client shares 2 cores with everything else
const stack = await startStack({ demo: false, env: { SHOREWATCH_LIVE_RING: '2000000', ...(env.SHOREWATCH_DB_WRITERS ? { SHOREWATCH_DB_WRITERS: env.SHOREWATCH_DB_WRITERS } : {}) } });
const lines = [];
const say = (s) => { lines.push(s); console.log(s); };
try {
  await stack.sql(`INSERT INTO vessels (name, terminal, kind, owner)
                   SELECT 'bench ' || i, (13900000000 + i)::text, 'sand_mining', 'bench'
                   FROM generate_series(0, $1::int - 1) AS i`, [Math.max(TERMINALS, IDLE_TERMINALS)]);
  const pid = () => stack.server.pid;

  // ---- 1. throughput, with one live client counting the events out
  const live = await liveClient(stack);
  const before = await count(stack);
  const t0 = Date.now();
  const sim = runSim(stack, ['--count', String(TERMINALS), '--batch', String(BATCH),
    '--time-scale', String(TIME_SCALE), '--interval', String(1 / TIME_SCALE),
    '--duration', String(SECONDS), ...(env.BENCH_SIM_ARGS ? env.BENCH_SIM_ARGS.split(' ') : [])]);
  const summary = await sim.done;
  const acked = field(summary, 'positions_acked') || field(summary, 'acks_received');
  const sent = field(summary, 'positions_sent');
  // wait until the queue has drained into PostGIS
  let stored = 0, last = -1, tDone = Date.now();
  for (let i = 0; i < 600; i++) {
    stored = (await count(stack)) - before;
    if (stored !== last) tDone = Date.now();
    if (stored === last && stored >= sent) break;
    last = stored;
    await sleep(250);
  }
  const health = (await stack.api('GET', '/api/health')).json;
  const dup = health.positions_duplicate || 0;
  const rej = health.positions_rejected || 0;
  const elapsed = (tDone - t0) / 1000;
  const e2e = stored / elapsed;
  say(`bench: ${TERMINALS} JT/T 808 terminals, 0x0704 batches of ${BATCH}, simulated clock x${TIME_SCALE}, ${SECONDS} s`);
  say(`  positions sent ${sent}, stored in PostGIS ${stored}, duplicates dropped ${dup}, rejected ${rej}` +
      ` (${stored + dup + rej === sent ? 'every position accounted for' : `UNACCOUNTED ${sent - stored - dup - rej}`})`);
  say(`  live events out to one WebSocket client: ${live.events}`);
  say(`  end to end: ${e2e.toFixed(0)} positions/s (${stored} rows in ${elapsed.toFixed(1)} s, frames in -> rows committed)`);
  live.close();

  // ---- 2. raw COPY of the same rows into the same table
  await stack.stopServer();
  const file = path.join(stack.tmp, 'rows.copy');
  const cols = 'vessel_id, device_time, recv_time, geom, speed_kn, course, altitude_m, fix_valid, alarm_bits, status_bits, protocol, raw, blind';
  const psql = (cmd) => execFileP('psql', [stack.db, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', cmd], { maxBuffer: 1 << 26 });
  await psql(`\\copy (SELECT ${cols} FROM positions) TO '${file}'`);
  const rows = Number((await psql('SELECT count(*) FROM positions')).stdout.trim());
  await psql('TRUNCATE positions');
  await psql('CHECKPOINT');
  const c0 = Date.now();
  await psql(`\\copy positions (${cols}) FROM '${file}'`);
  const copyS = (Date.now() - c0) / 1000;
  const copyRate = rows / copyS;
  say(`  raw COPY of the same ${rows} rows into positions: ${copyRate.toFixed(0)} rows/s (${copyS.toFixed(1)} s)`);
  say(`  ratio end-to-end / raw COPY: ${(e2e / copyRate).toFixed(2)}`);
  await stack.startServer();

  // ---- 3. latency from frame receipt to the WebSocket event at ~LAT_RATE positions/s
  const live2 = await liveClient(stack);
  const latTerminals = Math.min(TERMINALS, 2000);
  const lsim = runSim(stack, ['--count', String(latTerminals), '--time-scale', '1',
    '--interval', String(latTerminals / LAT_RATE), '--duration', '15', '--rate', String(LAT_RATE)]);
  await sleep(5000); // connected and steady
  live2.record = true;
  await sleep(8000);
  live2.record = false;
  await lsim.done;
  const lat = live2.lat.sort((a, b) => a - b);
  say(`  latency frame receipt -> WebSocket event at ~${LAT_RATE} positions/s: p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms (${lat.length} events)`);
  live2.close();

  // ---- 4. memory per idle terminal connection
  await sleep(500);
  const rss0 = rssKiB(pid());
  const idle = runSim(stack, ['--count', String(IDLE_TERMINALS), '--interval', '3600', '--duration', '25']);
  let online = 0;
  for (let i = 0; i < 80; i++) {
    await sleep(250);
    const h = (await stack.api('GET', '/api/health')).json;
    online = h.jt808_connections;
    if (online >= IDLE_TERMINALS) break;
  }
  await sleep(2000);
  const rss1 = rssKiB(pid());
  say(`  server RSS: ${rss0} KiB before, ${rss1} KiB with ${online} idle terminals connected: ` +
      `${((rss1 - rss0) / Math.max(1, online)).toFixed(2)} KiB per terminal`);
  idle.child.kill('SIGTERM');
  await idle.done;
} finally {
  await stack.stop();
}
