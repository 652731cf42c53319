// alerts.mjs -- `make bench`: alert latency from frame receipt to the WebSocket event, under load.
//
// Starts its own PostGIS and server with the demo layers, drives a background fleet at about
// BENCH_ALERT_RATE positions/s with shorewatch-sim (real JT/T 808), and meanwhile sails ALERT_VESSELS
// transport vessels (real JT/T 808 terminals from tests/lib/jt808.mjs) in and out of the demo protection
// zone, one report every 200 ms of wall time and 15 s of device time, so that protection_zone alerts open
// and close all the time. Every alert event carries `received` (when the frame that caused it arrived);
// the figure is the WebSocket arrival time minus that. Printed, never asserted.
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { ROOT, SIM, startStack } from '../lib/stack.mjs';
import { Terminal } from '../lib/jt808.mjs';

const env = process.env;
const RATE = Number(env.BENCH_ALERT_RATE || 10000);
const SECONDS = Number(env.BENCH_ALERT_SECONDS || 25);
const ALERT_VESSELS = Number(env.BENCH_ALERT_VESSELS || 20);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (s, p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);

const stack = await startStack({ demo: true, env: { SHOREWATCH_LIVE_RING: '2000000' } });
try {
  const token = await stack.login();
  await stack.sql(`INSERT INTO vessels (name, terminal, kind, owner)
                   SELECT 'bench ' || i, (13900000000 + i)::text, 'sand_mining', 'bench'
                   FROM generate_series(0, 1999) AS i`);
  await stack.sql(`INSERT INTO vessels (name, terminal, kind, owner)
                   SELECT 'bench alert ' || i, (13700000000 + i)::text, 'sand_transport', 'bench'
                   FROM generate_series(0, $1::int - 1) AS i`, [ALERT_VESSELS]);
  const lat = [];
  let alertEvents = 0;
  let record = false;
  const ws = new WebSocket(`ws://127.0.0.1:${stack.httpPort}/ws?token=${token}`);
  ws.on('message', (data) => {
    const s = String(data);
    if (!s.startsWith('{"type":"alert"') && !s.includes('"type": "alert"') && !s.includes('"type":"alert"')) return;
    alertEvents++;
    const m = /"received": ?"([^"]+)"/.exec(s);
    if (record && m) lat.push(Date.now() - Date.parse(m[1]));
  });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });

  // background load: 2000 terminals at RATE positions/s in total
  const sim = spawn(SIM, ['--server', `127.0.0.1:${stack.jt808Port}`, '--quiet', '--count', '2000', '--time-scale', '1',
    '--interval', String(2000 / RATE), '--rate', String(RATE), '--duration', String(SECONDS + 5)],
  { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const simDone = new Promise((r) => sim.on('exit', r));

  // the alert vessels: back and forth across the protection zone PZ-01 (117.2356-117.2415 E, 29.3715-29.3899 N)
  const terms = [];
  for (let i = 0; i < ALERT_VESSELS; i++) {
    const t = new Terminal({ phone: String(13700000000 + i), port: stack.jt808Port });
    await t.connect();
    await t.login();
    terms.push(t);
  }
  await sleep(3000);
  record = true;
  const tEnd = Date.now() + SECONDS * 1000;
  let dev = Date.now() - 12 * 3600e3; // device time, 15 s a step
  let step = 0;
  while (Date.now() < tEnd) {
    // 24 steps south to north through the zone (about 6 km), then back
    const k = step % 48;
    const f = k < 24 ? k / 23 : (47 - k) / 23;
    const lat0 = 29.362 + f * (29.398 - 29.362);
    await Promise.all(terms.map((t, i) => {
      t.queue.length = 0; // replies are not awaited
      return t.location({ lon: 117.2385 + i * 0.00005, lat: lat0, time: new Date(dev), speedKmh: 15, course: k < 24 ? 0 : 180 });
    }));
    dev += 15000;
    step++;
    await sleep(200);
  }
  record = false;
  await simDone;
  for (const t of terms) t.close();
  ws.close();
  lat.sort((a, b) => a - b);
  const opened = (await stack.sql("SELECT count(*)::int AS n FROM alerts WHERE kind = 'protection_zone'"))[0].n;
  console.log(`bench: alert latency, frame receipt -> WebSocket alert event, with ~${RATE} positions/s of background JT/T 808 load`);
  console.log(`  ${ALERT_VESSELS} vessels crossing a protection zone: ${opened} protection_zone alerts, ${alertEvents} alert events`);
  console.log(`  latency p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms, max ${lat[lat.length - 1]} ms (${lat.length} events measured)`);
} finally {
  await stack.stop();
}
