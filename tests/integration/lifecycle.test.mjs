// lifecycle.test.mjs -- migrate is idempotent; positions acknowledged right before SIGTERM are in the
// database once `shorewatch serve` has exited 0; the server comes back on the same database.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { logOnFailure, startStack, waitUntil } from '../lib/stack.mjs';
import { MSG, Terminal } from '../lib/jt808.mjs';

let stack;
let token;

before(async () => {
  stack = await startStack();
  token = await stack.login();
});
after(async () => {
  if (stack) await stack.stop();
});

const t = (name, fn) => test(name, logOnFailure(() => stack, fn));

t('migrate is idempotent: a second run applies nothing and exits 0', async () => {
  assert.match(stack.migrateOutput.stdout, /[1-9]\d* migrations? applied/);
  const before = await stack.sql('SELECT version FROM schema_migrations ORDER BY version');
  assert.ok(before.length >= 1);
  const users = await stack.sql('SELECT count(*)::int AS n FROM users');
  const out = await stack.cli(['migrate']); // throws (with its output) on a non-zero exit
  assert.match(out.stdout, /\b0 migrations applied/);
  const again = await stack.sql('SELECT version FROM schema_migrations ORDER BY version');
  assert.deepEqual(again, before);
  assert.deepEqual(await stack.sql('SELECT count(*)::int AS n FROM users'), users, 'no second admin');
  // the admin password is unchanged by a second migrate with another password
  await stack.cli(['migrate'], { env: { SHOREWATCH_ADMIN_PASSWORD: 'another-password-123' } });
  assert.ok(await stack.login('admin', stack.adminPassword));
  // and migrate runs fine while the server is serving
  const h = await stack.api('GET', '/api/health');
  assert.equal(h.status, 200);
});

t('positions sent right before SIGTERM are stored when serve exits 0', async () => {
  const phone = '13700000001';
  const r = await stack.api('POST', '/api/vessels', { name: 'shutdown-test', terminal: phone }, token);
  assert.equal(r.status, 201, r.text);
  const id = r.json.id;
  const term = await new Terminal({ phone, port: stack.jt808Port }).connect();
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 2 * 3600e3;
  const N = 300;
  try {
    await term.login();
    // windows of 20 reports sent without waiting, then their acks (jt808.test.mjs covers deeper pipelining)
    for (let w = 0; w < N; w += 20) {
      const serials = [];
      for (let i = w; i < w + 20; i++) {
        serials.push(await term.location({ lon: 117.2 + i / 1e5, lat: 29.3 + i / 1e5, time: new Date(t0 + i * 1000), speedKmh: 5 }));
      }
      for (const s of serials) {
        const a = await term.reply();
        assert.deepEqual([a.id, a.ackSerial, a.ackId, a.result], [MSG.PLAT_RESPONSE, s, MSG.LOCATION, 0]);
      }
    }
  } finally {
    term.close();
  }
  // SIGTERM at once: the write queue must be flushed before the process exits
  const code = await stack.stopServer();
  assert.equal(code, 0, `serve exit code ${code} (signal ${stack.serverSignal})`);
  const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE vessel_id = $1', [id]);
  assert.equal(n, N);
  const [last] = await stack.sql('SELECT last_time FROM vessels WHERE id = $1', [id]);
  assert.equal(last.last_time?.getTime(), t0 + (N - 1) * 1000, 'the last position is the newest one');

  // serve starts again on the same database and still knows the vessel and its track
  await stack.startServer();
  const tok = await stack.login();
  const v = await stack.api('GET', `/api/vessels/${id}`, null, tok);
  assert.equal(v.status, 200, v.text);
  assert.equal(Date.parse(v.json.last.time), t0 + (N - 1) * 1000);
  const from = encodeURIComponent(new Date(t0 - 1000).toISOString());
  const to = encodeURIComponent(new Date(t0 + N * 1000).toISOString());
  const tr = await stack.api('GET', `/api/vessels/${id}/track?from=${from}&to=${to}`, null, tok);
  assert.equal(tr.status, 200, tr.text);
  assert.equal(tr.json.features.filter((f) => f.geometry?.type === 'Point').length, N);
  const line = tr.json.features.find((f) => f.geometry?.type === 'LineString');
  assert.ok(line, 'a LineString of the track');
  assert.equal(line.geometry.coordinates.length, N);
});

t('the server refuses to serve an unmigrated database with a clear message', async () => {
  await stack.sql('CREATE DATABASE empty_db');
  const db = stack.db.replace('dbname=shorewatch', 'dbname=empty_db');
  await assert.rejects(stack.cli(['serve'], { env: { SHOREWATCH_DB: db, SHOREWATCH_HTTP: '127.0.0.1:0', SHOREWATCH_JT808: '127.0.0.1:0', SHOREWATCH_NMEA: '127.0.0.1:0', SHOREWATCH_AIS: '127.0.0.1:0' } }),
    (e) => {
      assert.notEqual(e.code, 0);
      assert.match(e.stderr, /migrate/);
      return true;
    });
});

t('serve exits 0 on SIGTERM when idle, and the log says it stopped', async () => {
  await waitUntil(async () => (await stack.api('GET', '/api/health')).status === 200, { what: 'health' });
  const code = await stack.stopServer();
  assert.equal(code, 0);
  assert.match(stack.serverLog(), /shorewatch: stopped/);
});
