// ingest.mjs -- end-to-end JT/T 808 ingest figures: N simulated terminals over real sockets into a
// real PostGIS through the real server; every position is then counted in the database.
// Prints figures; asserts nothing (timings never decide pass/fail).
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { startStack, SIM, ROOT } from '../lib/stack.mjs';

const terminals = Number(process.env.BENCH_TERMINALS || 2000);
const interval = Number(process.env.BENCH_INTERVAL || 0.5);
const seconds = Number(process.env.BENCH_SECONDS || 20);

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const stack = await startStack({ demo: true });
try {
  // register the synthetic fleet (terminal numbers as shorewatch-sim --count makes them)
  await stack.sql(`INSERT INTO vessels (name, terminal, kind, owner)
                   SELECT 'bench ' || i, (13900000000 + i)::text, 'sand_mining', 'bench'
                   FROM generate_series(0, $1::int - 1) AS i`, [terminals]);
  const pid = stack.server.pid;
  const rssIdle = rssKiB(pid);
  const sim = spawn(SIM, ['--server', `127.0.0.1:${stack.jt808Port}`, '--count', String(terminals),
    '--interval', String(interval), '--duration', String(seconds), '--quiet'],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let summary = '';
  sim.stdout.on('data', (d) => { summary += d; });
  const t0 = Date.now();
  let rssConnected = NaN;
  const rssTimer = setTimeout(() => { rssConnected = rssKiB(pid); }, Math.min(8000, seconds * 500));
  await new Promise((resolve) => sim.on('exit', resolve));
  clearTimeout(rssTimer);
  const elapsed = (Date.now() - t0) / 1000;
  const acks = Number((/acks_received=(\d+)/.exec(summary) || [])[1] || 0);
  // wait until everything acknowledged is durable
  let stored = 0;
  for (let i = 0; i < 100; i++) {
    stored = Number((await stack.sql(
      "SELECT count(*) AS n FROM positions p JOIN vessels v ON v.id = p.vessel_id WHERE v.owner = 'bench'"))[0].n);
    if (stored >= acks) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`bench ingest: ${terminals} JT/T 808 terminals, report every ${interval} s, ${seconds} s`);
  console.log(`  positions acknowledged: ${acks}; stored in PostGIS: ${stored} (${stored === acks ? 'all' : 'MISSING ' + (acks - stored)})`);
  console.log(`  end-to-end rate: ${(stored / elapsed).toFixed(0)} positions/s over ${elapsed.toFixed(1)} s`);
  console.log(`  server RSS: idle ${rssIdle} KiB, with ${terminals} terminals ${rssConnected} KiB ` +
    `(${((rssConnected - rssIdle) / terminals).toFixed(2)} KiB per terminal)`);
  console.log(`  sim: ${summary.trim()}`);
} finally {
  await stack.stop();
}
