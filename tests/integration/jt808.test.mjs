// jt808.test.mjs -- the JT/T 808 listener under bad and awkward input: unknown terminals, wrong auth codes,
// reports before authentication, damaged frames, garbage, split TCP reads, 2019 headers.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { logOnFailure, startStack, waitUntil } from '../lib/stack.mjs';
import { MSG, Terminal, encodeFrame, registerBody, authBody, locationBody } from '../lib/jt808.mjs';

let stack;
let token;
const vessels = {}; // phone -> id
const PHONES = ['13900000001', '13900000002', '13900000003', '13900000004'];
const base = Math.floor(Date.now() / 1000) * 1000 - 3600e3; // an hour ago, whole seconds

before(async () => {
  stack = await startStack();
  token = await stack.login();
  for (const [i, phone] of PHONES.entries()) {
    const r = await stack.api('POST', '/api/vessels', { name: `jt-test-${i}`, terminal: phone, kind: 'sand_mining' }, token);
    assert.equal(r.status, 201, r.text);
    vessels[phone] = r.json.id;
  }
});
after(async () => {
  if (stack) await stack.stop();
});

const t = (name, fn) => test(name, logOnFailure(() => stack, fn));
const connect = (phone, version = 2013) => new Terminal({ phone, version, port: stack.jt808Port }).connect();
const rowsAt = (id, time) => stack.sql('SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM positions WHERE vessel_id = $1 AND device_time = $2', [id, time]);

// A deterministic PRNG (mulberry32) so that a failing split pattern can be reproduced.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t('an unregistered terminal is refused with 0x8100 result 4', async () => {
  const term = await connect('13911112222');
  try {
    const s = await term.register();
    const r = await term.reply();
    assert.equal(r.id, MSG.REGISTER_RESPONSE);
    assert.equal(r.ackSerial, s);
    assert.equal(r.result, 4);
    assert.equal(r.authCode, null);
    assert.equal(r.body.length, 3, 'no auth code after a refusal');
  } finally {
    term.close();
  }
});

t('a wrong auth code gets 0x8001 result 1', async () => {
  const term = await connect(PHONES[0]);
  try {
    await term.register();
    const reg = await term.reply();
    assert.equal(reg.result, 0);
    for (const code of ['0000000000000000', 'x', reg.authCode + '0', reg.authCode.slice(0, -1)]) {
      const s = await term.auth(code);
      const a = await term.reply();
      assert.deepEqual([a.id, a.ackSerial, a.ackId, a.result], [MSG.PLAT_RESPONSE, s, MSG.AUTH, 1], `code ${code}`);
    }
    // another terminal's valid code does not authenticate this one
    const other = await connect(PHONES[1]);
    await other.register();
    const oreg = await other.reply();
    other.close();
    const s = await term.auth(oreg.authCode);
    const a = await term.reply();
    assert.deepEqual([a.ackSerial, a.ackId, a.result], [s, MSG.AUTH, 1]);
    // the right one still works afterwards
    const s2 = await term.auth(reg.authCode);
    const a2 = await term.reply();
    assert.deepEqual([a2.ackSerial, a2.ackId, a2.result], [s2, MSG.AUTH, 0]);
  } finally {
    term.close();
  }
});

t('a 0x0200 before authentication gets result 1 and is not stored', async () => {
  const phone = PHONES[1];
  const early = new Date(base + 11e3);
  const term = await connect(phone);
  try {
    const s = await term.location({ lon: 116.5, lat: 29.5, time: early });
    const r = await term.reply();
    assert.deepEqual([r.id, r.ackSerial, r.ackId, r.result], [MSG.PLAT_RESPONSE, s, MSG.LOCATION, 1]);
    // registered but not yet authenticated: still refused
    await term.register();
    assert.equal((await term.reply()).result, 0);
    const s2 = await term.location({ lon: 116.5, lat: 29.5, time: early });
    const r2 = await term.reply();
    assert.deepEqual([r2.ackSerial, r2.ackId, r2.result], [s2, MSG.LOCATION, 1]);
  } finally {
    term.close();
  }
  // an authenticated report sent afterwards is stored; by then the early one would have been too
  const ok = await connect(phone);
  const later = new Date(base + 12e3);
  try {
    await ok.login();
    const s = await ok.location({ lon: 116.6, lat: 29.6, time: later });
    assert.equal((await ok.reply()).result, 0, `ack of serial ${s}`);
  } finally {
    ok.close();
  }
  await waitUntil(async () => (await rowsAt(vessels[phone], later)).length === 1, { what: 'the authenticated position' });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await rowsAt(vessels[phone], early), []);
});

t('a frame with a bad check code is dropped without a reply; the connection stays usable', async () => {
  const term = await connect(PHONES[2]);
  try {
    await term.login();
    await term.heartbeat({ badCheck: true });
    assert.ok(await term.silent(700), 'no reply to a damaged frame');
    const s = await term.heartbeat();
    const r = await term.reply();
    assert.deepEqual([r.id, r.ackSerial, r.ackId, r.result], [MSG.PLAT_RESPONSE, s, MSG.HEARTBEAT, 0]);
    // a damaged location is not stored either
    const bad = new Date(base + 21e3);
    await term.location({ lon: 116.7, lat: 29.7, time: bad }, { badCheck: true });
    assert.ok(await term.silent(500));
    const good = new Date(base + 22e3);
    const s2 = await term.location({ lon: 116.7, lat: 29.7, time: good });
    assert.equal((await term.reply()).ackSerial, s2);
    await waitUntil(async () => (await rowsAt(vessels[PHONES[2]], good)).length === 1, { what: 'the good position' });
    assert.deepEqual(await rowsAt(vessels[PHONES[2]], bad), []);
  } finally {
    term.close();
  }
});

t('garbage closes only its own connection; other sessions keep working', async () => {
  const good = await connect(PHONES[3]);
  try {
    await good.login();

    // 5000 bytes of 'A': not a terminal, the server hangs up
    const junk = await connect('13900000099');
    await junk.write(Buffer.alloc(5000, 'A'));
    await junk.waitClosed(5000);

    // an HTTP request on the JT/T 808 port: no reply that parses as JT/T 808; the server survives
    const http = net.createConnection({ host: '127.0.0.1', port: stack.jt808Port });
    await new Promise((r) => http.once('connect', r));
    const got = [];
    http.on('data', (d) => got.push(d));
    http.on('error', () => {});
    http.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n'.repeat(3));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(Buffer.concat(got).length, 0, 'no answer to an HTTP request');
    http.destroy();

    // an invalid escape (7D 03) inside an otherwise valid frame: dropped, never answered
    const inval = Buffer.from(encodeFrame({ id: MSG.HEARTBEAT, phone: PHONES[3], serial: 9 }));
    const broken = Buffer.concat([inval.subarray(0, 5), Buffer.from([0x7d, 0x03]), inval.subarray(5)]);
    await good.write(broken);
    assert.ok(await good.silent(400), 'no reply to a frame with an invalid escape');

    // the good session is unaffected
    const s = await good.heartbeat();
    const r = await good.reply();
    assert.deepEqual([r.ackSerial, r.ackId, r.result], [s, MSG.HEARTBEAT, 0]);
    const when = new Date(base + 31e3);
    const s2 = await good.location({ lon: 117.01, lat: 29.71, time: when });
    const r2 = await good.reply();
    assert.deepEqual([r2.ackSerial, r2.ackId, r2.result], [s2, MSG.LOCATION, 0]);
    await waitUntil(async () => (await rowsAt(vessels[PHONES[3]], when)).length === 1, { what: 'the position after the garbage' });
    const h = await stack.api('GET', '/api/health');
    assert.equal(h.status, 200);
  } finally {
    good.close();
  }
});

t('frames split at random boundaries (and glued together) still work', async () => {
  const phone = PHONES[3];
  // the auth code of this terminal, from one plain registration
  const first = await connect(phone);
  const code = await first.login();
  first.close();

  const rand = rng(808);
  const times = [];
  for (let round = 0; round < 12; round++) {
    const term = await connect(phone);
    try {
      // serials chosen so that the header holds bytes that must be escaped (0x7D, 0x7E)
      term.serial = [0x7d7d, 0x7e7e, 0x7d7e, 0][round % 4] + round;
      const frames = [];
      const expect = [];
      const push = (id, body) => {
        const f = term.frame(id, body);
        frames.push(f.wire);
        expect.push({ id, serial: f.serial });
      };
      push(MSG.REGISTER, registerBody());
      push(MSG.AUTH, authBody(code));
      push(MSG.HEARTBEAT, Buffer.alloc(0));
      for (let k = 0; k < 3; k++) {
        const time = new Date(base + 100e3 + round * 10e3 + k * 1e3);
        // 0x7E / 0x7D bytes in the body too: the low byte of each coordinate is a flag or an escape
        const lat = ((29300000 & ~0xff) | [0x7e, 0x7d, 0x7e][k]) / 1e6;
        const lon = (((117180000 + round * 256) & ~0xff) | [0x7d, 0x7e, 0x7e][k]) / 1e6;
        times.push({ time, lon, lat });
        push(MSG.LOCATION, locationBody({ lon, lat, time, speedKmh: 3, course: 90 }));
      }
      const wire = Buffer.concat(frames);
      const splits = [];
      for (let i = 1; i < wire.length; i++) if (rand() < 0.15) splits.push(i);
      await term.write(wire, { splits, pauseMs: 3 });

      const reg = await term.reply();
      assert.equal(reg.id, MSG.REGISTER_RESPONSE, `round ${round}`);
      assert.deepEqual([reg.ackSerial, reg.result, reg.authCode], [expect[0].serial, 0, code], `round ${round}`);
      for (const e of expect.slice(1)) {
        const r = await term.reply();
        assert.deepEqual([r.id, r.ackSerial, r.ackId, r.result], [MSG.PLAT_RESPONSE, e.serial, e.id, 0], `round ${round} splits ${splits}`);
      }
    } finally {
      term.close();
    }
  }
  const id = vessels[phone];
  for (const p of times) {
    const rows = await waitUntil(async () => {
      const r = await rowsAt(id, p.time);
      return r.length ? r : null;
    }, { what: `the position at ${p.time.toISOString()}` });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].lon, p.lon);
    assert.equal(rows[0].lat, p.lat);
  }
});

t('a 2019-header terminal is answered in a 2019 header with its own phone bytes', async () => {
  const term = await connect(PHONES[0], 2019);
  try {
    const s = await term.heartbeat();
    const r = await term.reply();
    assert.equal(r.version, 2019);
    assert.equal(r.protoVersion, 1);
    assert.equal(r.phone, PHONES[0].padStart(20, '0'));
    assert.deepEqual([r.id, r.ackSerial, r.ackId, r.result], [MSG.PLAT_RESPONSE, s, MSG.HEARTBEAT, 0]);
    // an unknown message id: 0x8001 result 3 (not supported)
    const s2 = await term.send(0x0f0f, Buffer.from([1, 2, 3]));
    const r2 = await term.reply();
    assert.deepEqual([r2.ackSerial, r2.ackId, r2.result], [s2, 0x0f0f, 3]);
  } finally {
    term.close();
  }
});

t('many terminals at once: every report is acknowledged and stored', async () => {
  const phone = PHONES[2];
  const code = await (async () => {
    const x = await connect(phone);
    const c = await x.login();
    x.close();
    return c;
  })();
  const N = 20;
  const terms = await Promise.all(Array.from({ length: N }, () => connect(phone)));
  try {
    await Promise.all(terms.map(async (term, i) => {
      await term.register();
      assert.equal((await term.reply()).result, 0);
      await term.auth(code);
      assert.equal((await term.reply()).result, 0);
      for (let k = 0; k < 5; k++) {
        const s = await term.location({ lon: 117.3, lat: 29.4, time: new Date(base + 500e3 + i * 10e3 + k * 1e3) });
        const r = await term.reply();
        assert.deepEqual([r.ackSerial, r.result], [s, 0]);
      }
    }));
  } finally {
    terms.forEach((x) => x.close());
  }
  await waitUntil(async () => {
    const [{ n }] = await stack.sql("SELECT count(*)::int AS n FROM positions WHERE vessel_id = $1 AND device_time >= $2 AND device_time < $3",
      [vessels[phone], new Date(base + 500e3), new Date(base + 500e3 + N * 10e3)]);
    return n === N * 5;
  }, { what: `${N * 5} positions` });
});

t('a terminal that pipelines 200 reports in one burst gets every ack (blind-area catch-up)', async () => {
  const phone = PHONES[0];
  const term = await connect(phone);
  const t0 = base + 1000e3;
  const N = 200;
  try {
    await term.login();
    const frames = [];
    const serials = [];
    for (let i = 0; i < N; i++) {
      const f = term.frame(MSG.LOCATION, locationBody({ lon: 117.4, lat: 29.2 + i / 1e5, time: new Date(t0 + i * 1000) }));
      frames.push(f.wire);
      serials.push(f.serial);
    }
    await term.write(Buffer.concat(frames)); // one write: the server reads many frames at once
    for (const s of serials) {
      const a = await term.reply();
      assert.deepEqual([a.ackSerial, a.ackId, a.result], [s, MSG.LOCATION, 0]);
    }
  } finally {
    term.close();
  }
  await waitUntil(async () => {
    const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE vessel_id = $1 AND device_time >= $2',
      [vessels[phone], new Date(t0)]);
    return n === N;
  }, { what: `${N} pipelined positions` });
});
