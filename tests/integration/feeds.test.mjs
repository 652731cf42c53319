// feeds.test.mjs -- every ingest feed end to end, over real sockets into the stack's PostGIS:
// NMEA 0183 over TCP ($PSWID, talker preference, invalid fixes, GGA dating), AIS over UDP and TCP (the real
// aishub sample, crafted types 1/5/18/19/24, tag-block times, n/a positions), POST /api/positions, and
// JT/T 808 0x0704 batches (normal, blind-area), subpackaged messages, terminal events and duplicates.
// Expected values come from the tests' own encoders/decoders (tests/lib/nmea.mjs, ais.mjs, jt808.mjs).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { logOnFailure, startStack, waitUntil } from '../lib/stack.mjs';
import { MSG, Terminal, batchBody, hex, locationBody, splitBody, unescape } from '../lib/jt808.mjs';
import { NmeaSource, dm, gga, nmea, pswid, rmc } from '../lib/nmea.mjs';
import * as ais from '../lib/ais.mjs';

const SAMPLE = '/work/shared/data/tracks/aishub_sample.nmea';
const EPS = 1e-7; // well inside the required 1e-6 degree
const SPEED_EPS = 0.0051; // speed_kn is stored to 0.01 kn
const COURSE_EPS = 0.051; // course to 0.1 degree

let stack;
let token;
const V = {}; // name -> vessel id
const base = Math.floor(Date.now() / 1000) * 1000 - 3600e3; // an hour ago, whole seconds
const at = (s) => new Date(base + s * 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const REG = {
  nmeaT: { name: 'feed-nmea-terminal', terminal: '13800000101', kind: 'sand_mining' },
  nmeaM: { name: 'feed-nmea-mmsi', mmsi: 413000101, kind: 'sand_transport' },
  nmeaG: { name: 'feed-nmea-gga', terminal: '13800000102', kind: 'sand_mining' },
  nmeaBad: { name: 'feed-nmea-bad', terminal: '13800000103', kind: 'sand_mining' },
  aisReg: { name: 'feed-ais-registered', mmsi: 413000201, kind: 'sand_transport' },
  httpT: { name: 'feed-http-terminal', terminal: '13800000301', kind: 'sand_mining' },
  httpM: { name: 'feed-http-mmsi', mmsi: 413000301, kind: 'sand_mining' },
  httpV: { name: 'feed-http-vessel', kind: 'sand_mining' },
  jtBatch: { name: 'feed-jt-batch', terminal: '13800000401', kind: 'sand_mining' },
  jtBlind: { name: 'feed-jt-blind', terminal: '13800000402', kind: 'sand_mining' },
  jtSub: { name: 'feed-jt-sub', terminal: '13800000403', kind: 'sand_mining' },
  jtDup: { name: 'feed-jt-dup', terminal: '13800000404', kind: 'sand_mining' },
};

before(async () => {
  stack = await startStack();
  token = await stack.login();
  for (const [k, body] of Object.entries(REG)) {
    const r = await stack.api('POST', '/api/vessels', body, token);
    assert.equal(r.status, 201, r.text);
    V[k] = r.json.id;
  }
});
after(async () => {
  if (stack) await stack.stop();
});

const t = (name, fn) => test(name, logOnFailure(() => stack, fn));

const near = (actual, expected, what) => assert.ok(Math.abs(actual - expected) < EPS, `${what}: ${actual} != ${expected}`);

/** Position rows of VESSEL in [from, to), oldest first. */
function rows(vessel, from = new Date(0), to = new Date(8.64e15)) {
  return stack.sql(
    `SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, device_time, recv_time, fix_valid, raw, protocol, speed_kn, course,
            altitude_m, blind, alarm_bits
       FROM positions WHERE vessel_id = $1 AND device_time >= $2 AND device_time < $3 ORDER BY device_time, raw`,
    [vessel, from, to]);
}
const rowsAtTime = (vessel, time) => rows(vessel, time, new Date(time.getTime() + 1));
async function waitRow(vessel, time, what) {
  const r = await waitUntil(async () => {
    const x = await rowsAtTime(vessel, time);
    return x.length ? x : null;
  }, { what: what || `a position of vessel ${vessel} at ${time.toISOString()}` });
  return r;
}
async function waitCount(vessel, n, from, to, what) {
  return waitUntil(async () => {
    const x = await rows(vessel, from, to);
    return x.length >= n ? x : null;
  }, { what: what || `${n} positions of vessel ${vessel}` });
}
const vessel = async (id) => (await stack.sql('SELECT * FROM vessels WHERE id = $1', [id]))[0];
const vesselByMmsi = async (mmsi) => (await stack.sql('SELECT * FROM vessels WHERE mmsi = $1', [mmsi]))[0];

// ------------------------------------------------------------------------------------------------ NMEA

const nmeaConnect = () => new NmeaSource(stack.nmeaPort).connect();

t('NMEA by terminal: one fix per epoch, GN preferred, RMC gives the fix; raw kept; lines before $PSWID and bad checksums not stored', async () => {
  const id = V.nmeaT;
  const src = await nmeaConnect();
  // three epochs; in each the GN solution and (slightly different) GPS-only and BeiDou-only solutions
  const ep = [
    { time: at(101), lat: ['2944.123456', 'N'], lon: ['11612.654321', 'E'], sog: '5.4', cog: '87.5', alt: '15.2' },
    { time: at(102), lat: ['2944.125001', 'N'], lon: ['11612.657002', 'E'], sog: '5.5', cog: '88.0', alt: '15.4' },
    { time: at(103), lat: ['2944.127333', 'N'], lon: ['11612.659999', 'E'], sog: '5.6', cog: '88.4', alt: '15.1' },
  ];
  const off = (e, d) => ({ ...e, lat: [(Number(e.lat[0]) + d).toFixed(6), 'N'], lon: [(Number(e.lon[0]) + d).toFixed(6), 'E'] });
  try {
    const before0 = at(100);
    const early = rmc({ time: before0, lat: ['2944.000000', 'N'], lon: ['11612.000000', 'E'] });
    const lines = [early, pswid(REG.nmeaT.terminal)];
    const gnRmc = [];
    for (const [i, e] of ep.entries()) {
      const gp = off(e, 0.01);
      const bd = off(e, -0.01);
      const epoch = [
        gga({ talker: 'GN', time: e.time, lat: e.lat, lon: e.lon, alt: e.alt }),
        rmc({ talker: 'GN', time: e.time, lat: e.lat, lon: e.lon, sog: e.sog, cog: e.cog }),
        '$GPGSV,3,1,12,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45*75',
        nmea('PCAS10,0'),
      ];
      gnRmc.push(epoch[1]);
      // single-system sentences before the GN ones (after the first epoch) and after them
      if (i > 0) epoch.unshift(rmc({ talker: 'GP', time: e.time, lat: gp.lat, lon: gp.lon }), gga({ talker: 'BD', time: e.time, lat: bd.lat, lon: bd.lon }));
      epoch.push(rmc({ talker: 'BD', time: e.time, lat: bd.lat, lon: bd.lon }), gga({ talker: 'GP', time: e.time, lat: gp.lat, lon: gp.lon }));
      lines.push(...epoch);
    }
    // a damaged GN RMC for a later epoch (no GGA in that epoch): dropped; the next epoch is stored
    const bad = rmc({ time: at(104), lat: ['2944.200000', 'N'], lon: ['11612.700000', 'E'] }).replace(/\*..$/, '*00');
    const last = { time: at(105), lat: ['2944.130000', 'N'], lon: ['11612.661000', 'E'] };
    const lastRmc = rmc({ time: last.time, lat: last.lat, lon: last.lon, sog: '0.0', cog: '' });
    lines.push(bad, lastRmc);
    // split the stream mid-line at an odd size to exercise line reassembly across TCP reads
    const text = lines.map((l) => `${l}\r\n`).join('');
    for (let i = 0; i < text.length; i += 37) {
      await src.send(text.slice(i, i + 37));
      await sleep(2);
    }
    await waitRow(id, last.time, 'the last NMEA epoch');
    const got = await rows(id, at(99), at(106));
    assert.deepEqual(got.map((r) => r.device_time.toISOString()), [...ep.map((e) => e.time.toISOString()), last.time.toISOString()],
      `one row per epoch: ${JSON.stringify(got.map((r) => r.raw))}`);
    for (const [i, e] of ep.entries()) {
      const r = got[i];
      near(r.lon, dm(...e.lon), `epoch ${i} lon`);
      near(r.lat, dm(...e.lat), `epoch ${i} lat`);
      assert.equal(r.raw, gnRmc[i], `epoch ${i} raw is the GN RMC`);
      assert.equal(r.protocol, 'nmea');
      assert.equal(r.fix_valid, true);
      assert.equal(r.blind, false);
      assert.ok(Math.abs(r.speed_kn - Number(e.sog)) < SPEED_EPS, `epoch ${i} speed ${r.speed_kn}`);
      assert.ok(Math.abs(r.course - Number(e.cog)) < COURSE_EPS, `epoch ${i} course ${r.course}`);
      // the first epoch's GGA precedes any RMC, so it has no date yet: only later epochs merge GGA altitude
      if (i > 0) assert.ok(Math.abs(r.altitude_m - Number(e.alt)) < 1e-3, `epoch ${i} altitude from the GGA: ${r.altitude_m}`);
    }
    near(got[3].lon, dm(...last.lon), 'last lon');
    near(got[3].lat, dm(...last.lat), 'last lat');
    assert.equal(got[3].raw, lastRmc);
    // the vessel's last position follows (coalesced: poll)
    await waitUntil(async () => (await vessel(id)).last_time?.getTime() === last.time.getTime(), { what: 'vessels.last_time' });
    const [lg] = await stack.sql('SELECT ST_X(last_geom) AS lon, ST_Y(last_geom) AS lat FROM vessels WHERE id = $1', [id]);
    near(lg.lon, dm(...last.lon), 'last_geom lon');
    near(lg.lat, dm(...last.lat), 'last_geom lat');
    assert.equal(src.closed, false, 'the connection stays open');
  } finally {
    src.close();
  }
});

t('NMEA by MMSI: invalid fixes (status V, mode N) with coordinates are stored with fix_valid = false; nav status V is not invalid', async () => {
  const id = V.nmeaM;
  const src = await nmeaConnect();
  try {
    const L = (s) => [`30${String(10 + (s % 40)).padStart(2, '0')}.${String(100000 + s * 1111).slice(0, 6)}`, 'N'];
    const O = (s) => [`114${String(10 + (s % 40)).padStart(2, '0')}.${String(200000 + s * 2222).slice(0, 6)}`, 'E'];
    const spec = [
      { s: 201, status: 'A', mode: 'A', valid: true },
      { s: 202, status: 'V', mode: 'N', valid: false },
      { s: 203, status: 'A', mode: 'N', valid: false },
      { s: 204, status: 'V', mode: 'A', valid: false },
      { s: 205, status: 'A', mode: 'D', nav: 'V', valid: true }, // NMEA 4.1 nav status V: not a validity flag
      { s: 206, status: 'A', mode: 'E', valid: true },
    ];
    const lines = [pswid(String(REG.nmeaM.mmsi))];
    for (const x of spec) {
      x.line = rmc({ talker: 'BD', time: at(x.s), lat: L(x.s), lon: O(x.s), status: x.status, mode: x.mode, nav: x.nav, sog: '1.2', cog: '45.0' });
      lines.push(x.line);
    }
    // an invalid RMC without coordinates: nothing to store
    const empty = nmea(`BDRMC,${'000207.00'},V,,,,,,,${''},,,N`);
    lines.push(empty);
    const endT = at(208);
    const end = rmc({ talker: 'BD', time: endT, lat: L(208), lon: O(208) });
    lines.push(end);
    await src.send(lines);
    await waitRow(id, endT);
    const got = await rows(id, at(200), at(209));
    assert.deepEqual(got.map((r) => r.device_time.getTime()), [...spec.map((x) => at(x.s).getTime()), endT.getTime()],
      `rows: ${JSON.stringify(got.map((r) => r.raw))}`);
    for (const [i, x] of spec.entries()) {
      const r = got[i];
      assert.equal(r.fix_valid, x.valid, `fix_valid of ${x.line}`);
      assert.equal(r.raw, x.line);
      assert.equal(r.protocol, 'nmea');
      near(r.lon, dm(...O(x.s)), `lon of ${x.line}`);
      near(r.lat, dm(...L(x.s)), `lat of ${x.line}`);
    }
    const v = await vessel(id);
    assert.equal(v.kind, 'sand_transport');
    assert.equal(v.auto_created, false);
  } finally {
    src.close();
  }
});

t('NMEA GGA: dated from the last RMC across midnight, quality 0 stored as invalid, every epoch stored when the RMC stops', async () => {
  const id = V.nmeaG;
  // a UTC midnight two days ago
  const mid = new Date(Math.floor(Date.now() / 86400e3) * 86400e3 - 86400e3);
  const T = (s) => new Date(mid.getTime() + s * 1000);
  const P = (s) => ({ lat: [`3102.${String(500000 + (s + 10) * 37).slice(0, 6)}`, 'N'], lon: [`12129.${String(100000 + (s + 10) * 53).slice(0, 6)}`, 'E'] });
  const src = await nmeaConnect();
  try {
    const seq = [
      { s: -3, kind: 'rmc+gga', valid: true },
      { s: -2, kind: 'gga', quality: 1, valid: true },
      { s: -1, kind: 'gga', quality: 0, valid: false },
      { s: 0, kind: 'gga', quality: 1, valid: true },
      { s: 1, kind: 'gga', quality: 2, valid: true },
      { s: 2, kind: 'rmc+gga', valid: true },
    ];
    const lines = [pswid(REG.nmeaG.terminal)];
    for (const x of seq) {
      const p = P(x.s);
      if (x.kind === 'rmc+gga') {
        x.line = rmc({ time: T(x.s), ...p });
        lines.push(x.line, gga({ time: T(x.s), ...p }));
      } else {
        x.line = gga({ time: T(x.s), ...p, quality: x.quality });
        lines.push(x.line);
      }
    }
    await src.send(lines);
    await waitRow(id, T(2), 'the RMC after midnight');
    await sleep(300);
    const got = await rows(id, T(-10), T(10));
    const byTime = new Map(got.map((r) => [r.device_time.getTime(), r]));
    const problems = [];
    for (const x of seq) {
      const r = byTime.get(T(x.s).getTime());
      if (!r) { problems.push(`no row for ${x.line} (expected device_time ${T(x.s).toISOString()})`); continue; }
      if (r.fix_valid !== x.valid) problems.push(`${x.line}: fix_valid ${r.fix_valid}, expected ${x.valid}`);
      if (r.raw !== x.line) problems.push(`${T(x.s).toISOString()}: raw ${r.raw}, expected ${x.line}`);
      if (Math.abs(r.lon - dm(...P(x.s).lon)) >= EPS || Math.abs(r.lat - dm(...P(x.s).lat)) >= EPS) problems.push(`${x.line}: stored ${r.lon},${r.lat}`);
    }
    assert.equal(got.length, seq.length, `rows: ${JSON.stringify(got.map((r) => [r.device_time, r.raw]))}\n${problems.join('\n')}`);
    assert.deepEqual(problems, []);
    // nothing dated a day off (the midnight rule)
    const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE vessel_id = $1', [id]);
    assert.equal(n, seq.length);
  } finally {
    src.close();
  }
});

t('NMEA: an unknown $PSWID is a terminal_events row and a closed connection; garbage closes only its connection', async () => {
  const good = await nmeaConnect();
  try {
    await good.send([pswid(REG.nmeaBad.terminal), rmc({ time: at(301), lat: ['2950.000001', 'N'], lon: ['11700.000001', 'E'] })]);
    await waitRow(V.nmeaBad, at(301));

    // an unknown terminal number
    const unknown = await nmeaConnect();
    const lost = rmc({ time: at(302), lat: ['2950.100000', 'N'], lon: ['11700.100000', 'E'] });
    await unknown.send([pswid('13812345678'), lost]);
    await unknown.waitClosed(5000);
    const ev = await waitUntil(async () => {
      const r = await stack.sql("SELECT * FROM terminal_events WHERE identity = '13812345678'");
      return r.length ? r : null;
    }, { what: 'the terminal_events row' });
    assert.equal(ev.length, 1);
    assert.equal(ev[0].protocol, 'nmea');
    assert.equal(ev[0].event, 'unregistered');
    // an unknown MMSI
    const unknownM = await nmeaConnect();
    await unknownM.send([pswid('412999999')]);
    await unknownM.waitClosed(5000);
    await waitUntil(async () => (await stack.sql("SELECT 1 FROM terminal_events WHERE identity = '412999999' AND protocol = 'nmea' AND event = 'unregistered'")).length === 1,
      { what: 'the unknown-MMSI terminal_events row' });
    assert.equal((await stack.sql("SELECT count(*)::int AS n FROM vessels WHERE mmsi = 412999999 OR terminal = '13812345678'"))[0].n, 0,
      'no vessel made for an unknown $PSWID');

    // garbage only: closed
    const junk = await nmeaConnect();
    const garbage = Array.from({ length: 40 }, (_, i) => `hello ${i} this is not NMEA`);
    await junk.send(garbage);
    await junk.waitClosed(5000);

    // the good connection still works
    assert.equal(good.closed, false);
    await good.send([rmc({ time: at(303), lat: ['2950.000003', 'N'], lon: ['11700.000003', 'E'] })]);
    const r = await waitRow(V.nmeaBad, at(303));
    near(r[0].lat, dm('2950.000003', 'N'), 'lat');
    near(r[0].lon, dm('11700.000003', 'E'), 'lon');
    // the position sent after the unknown $PSWID went nowhere
    const [{ n }] = await stack.sql("SELECT count(*)::int AS n FROM positions WHERE raw = $1", [lost]);
    assert.equal(n, 0);
  } finally {
    good.close();
  }
});

// ------------------------------------------------------------------------------------------------- AIS

/** The device time the server should derive: REF (s) moved to the nearest time with UTC second SECOND. */
function aisTime(refS, second) {
  if (second > 59) return refS * 1000;
  const delta = (((refS % 60) - second) + 60) % 60;
  return (delta <= 30 ? refS - delta : refS + 60 - delta) * 1000;
}

t('AIS over UDP: the real aishub sample (several lines a datagram) -- every position, vessel and static record', async () => {
  const lines = fs.readFileSync(SAMPLE, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const decoded = ais.decodeLines(lines);
  const positions = decoded.filter((d) => [1, 2, 3, 18, 19].includes(d.msg.type));
  const na = positions.filter((d) => !d.msg.hasPosition);
  assert.ok(positions.length > 40 && na.length >= 1, 'the sample has positions and an n/a one');
  // the brief's hand-checked value
  const falk = decoded.find((d) => d.msg.mmsi === 258315000);
  assert.deepEqual([falk.msg.type, falk.msg.name, falk.msg.callsign, falk.msg.shipType, falk.msg.length, falk.msg.beam, falk.msg.destination],
    [5, 'FALKVIK', 'LFNA', 79, 50, 9, 'FORUS']);

  const sock = dgram.createSocket('udp4');
  const t0 = Date.now();
  try {
    for (let i = 0; i < lines.length; i += 4) {
      const dg = lines.slice(i, i + 4).join('\r\n') + (i % 8 ? '\r\n' : ''); // last line with and without its CRLF
      await new Promise((res, rej) => sock.send(dg, stack.aisPort, '127.0.0.1', (e) => (e ? rej(e) : res())));
      await sleep(2);
    }
  } finally {
    sock.close();
  }
  const t1 = Date.now();
  const want = positions.filter((d) => d.msg.hasPosition);
  const mmsis = [...new Set(want.map((d) => d.msg.mmsi))];
  const got = await waitUntil(async () => {
    const r = await stack.sql(
      `SELECT v.mmsi::int AS mmsi, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, p.device_time, p.raw, p.protocol, p.speed_kn, p.course, p.fix_valid
         FROM positions p JOIN vessels v ON v.id = p.vessel_id WHERE v.mmsi = ANY($1::bigint[])`, [mmsis]);
    return r.length >= want.length ? r : null;
  }, { ms: 15000, what: `${want.length} AIS positions from the sample` });
  assert.equal(got.length, want.length, 'one row per position report');
  for (const d of want) {
    const m = d.msg;
    const r = got.find((x) => x.raw === d.lines[0]);
    assert.ok(r, `no row with raw ${d.lines[0]} (MMSI ${m.mmsi})`);
    assert.equal(r.mmsi, m.mmsi, d.lines[0]);
    assert.equal(r.protocol, 'ais');
    assert.equal(r.fix_valid, true);
    near(r.lon, m.lonRaw / 600000, `lon of ${d.lines[0]}`);
    near(r.lat, m.latRaw / 600000, `lat of ${d.lines[0]}`);
    if (m.sog < 1023) assert.ok(Math.abs(r.speed_kn - m.sog / 10) < SPEED_EPS, `speed of ${d.lines[0]}: ${r.speed_kn}`);
    if (m.cog < 3600) assert.ok(Math.abs(r.course - m.cog / 10) < COURSE_EPS, `course of ${d.lines[0]}: ${r.course}`);
    const dt = r.device_time.getTime();
    if (m.second <= 59) {
      assert.equal(dt % 1000, 0, `whole seconds: ${r.device_time.toISOString()}`);
      assert.equal(r.device_time.getUTCSeconds(), m.second, `UTC second of ${d.lines[0]}`);
      assert.ok(dt >= t0 - 31e3 && dt <= t1 + 31e3, `device time ${r.device_time.toISOString()} near the receive time`);
    } else {
      assert.ok(dt >= t0 - 1e3 && dt <= t1 + 1e3, `n/a second: the receive time, got ${r.device_time.toISOString()}`);
    }
  }
  // the n/a report (lat 91 / lon 181) is never a position
  for (const d of na) {
    const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions p JOIN vessels v ON v.id = p.vessel_id WHERE v.mmsi = $1', [d.msg.mmsi]);
    assert.equal(n, 0, `positions stored for n/a report ${d.lines[0]}`);
  }
  const bad = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE ST_Y(geom) > 90 OR ST_X(geom) > 180');
  assert.equal(bad[0].n, 0);
  // every MMSI became an auto-created 'other' vessel
  for (const mmsi of mmsis) {
    const v = await vesselByMmsi(mmsi);
    assert.ok(v, `vessel for MMSI ${mmsi}`);
    assert.equal(v.kind, 'other', `kind of ${mmsi}`);
    assert.equal(v.auto_created, true, `auto_created of ${mmsi}`);
  }
  // static data (type 5: class A), waiting because it is written by a worker
  const statics = decoded.filter((d) => d.msg.type === 5 && [258315000, 236037000, 366968860, 232649000].includes(d.msg.mmsi));
  for (const d of statics) {
    const m = d.msg;
    const v = await waitUntil(async () => {
      const x = await vesselByMmsi(m.mmsi);
      return x && x.ais_name ? x : null;
    }, { what: `static data of ${m.mmsi}` });
    assert.deepEqual(
      [v.ais_name, v.callsign, v.ship_type, v.length_m, v.beam_m, v.destination, v.imo === null ? null : Number(v.imo), v.ais_class, v.kind],
      [m.name, m.callsign, m.shipType, m.length, m.beam, m.destination, m.imo ? m.imo : null, 'A', 'other'], `statics of ${m.mmsi}`);
    assert.ok(v.static_updated_at, 'static_updated_at set');
  }
  const fv = await vesselByMmsi(258315000);
  assert.deepEqual([fv.ais_name, fv.callsign, fv.ship_type, fv.length_m, fv.beam_m, fv.destination, Number(fv.imo)],
    ['FALKVIK', 'LFNA', 79, 50, 9, 'FORUS', 6514895]);
  // the vessel with both positions and statics is one vessel
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM vessels WHERE mmsi = 366968860'))[0].n, 1);
});

t('AIS over TCP: tag-block times, negative coordinates, type 18/19/24 class B statics, a registered MMSI, a type 5 split across reads', async () => {
  const sock = net.createConnection({ host: '127.0.0.1', port: stack.aisPort });
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  sock.on('error', () => {});
  let closed = false;
  sock.on('close', () => { closed = true; });
  const write = (s) => new Promise((r) => sock.write(s, r));
  const tag = Math.floor(base / 1000) + 500; // a UNIX receive time in the tag block
  try {
    const reg = REG.aisReg.mmsi; // registered: sand_transport
    const m18 = 413000202;
    const m19 = 413000203;
    const mo = 413000204; // own ship (AIVDO)
    const mneg = 725000205; // southern/western hemisphere
    const mbad = 413000206; // only a damaged sentence: never a vessel
    const cases = [
      { mmsi: reg, bits: ais.type1({ mmsi: reg, lonRaw: 69712345, latRaw: 17654321, sog: 73, cog: 1234, second: 17, navStatus: 0 }), second: 17, sog: 7.3, cog: 123.4 },
      { mmsi: reg, bits: ais.type1({ type: 3, mmsi: reg, lonRaw: 69712400, latRaw: 17654400, sog: 0, cog: 3600, second: 47, navStatus: 5 }), second: 47, sog: 0 },
      { mmsi: m18, bits: ais.type18({ mmsi: m18, lonRaw: 69800001, latRaw: 17700001, sog: 25, cog: 905, second: 3 }), second: 3, sog: 2.5, cog: 90.5 },
      { mmsi: m19, bits: ais.type19({ mmsi: m19, lonRaw: 69900002, latRaw: 17800002, sog: 10, cog: 10, second: 59, name: 'GAN JIU YUN 19', shipType: 33, bow: 20, stern: 18, port: 4, starboard: 3 }), second: 59, sog: 1.0, cog: 1.0 },
      { mmsi: mo, own: true, bits: ais.type1({ mmsi: mo, lonRaw: 70000003, latRaw: 17900003, sog: 0, cog: 0, second: 30 }), second: 30, sog: 0 },
      { mmsi: mneg, bits: ais.type1({ mmsi: mneg, lonRaw: -42345678, latRaw: -20123456, sog: 100, cog: 2700, second: 8 }), second: 8, sog: 10, cog: 270 },
    ];
    for (const c of cases) {
      c.line = ais.sentences(c.bits, { own: !!c.own, channel: c.mmsi === m18 ? '' : 'B', tagTime: tag })[0];
      const dec = ais.decodeBits(ais.payloadBits(ais.parseSentence(c.line.replace(/^\\.*\\/, '')).payload, ais.parseSentence(c.line.replace(/^\\.*\\/, '')).fill));
      c.lon = dec.lonRaw / 600000;
      c.lat = dec.latRaw / 600000;
      c.time = aisTime(tag, c.second);
    }
    // n/a position of the registered vessel: never stored
    const naLine = ais.sentences(ais.type1({ mmsi: reg, lonRaw: 108600000, latRaw: 54600000, sog: 1023, cog: 3600, second: 20 }), { tagTime: tag })[0];
    // statics: 24A and 24B separated by other traffic; a type 5 for the registered vessel in 2 fragments
    const a24 = ais.sentences(ais.type24A({ mmsi: m18, name: 'XIANG YU 808' }), { channel: 'A' })[0];
    const b24 = ais.sentences(ais.type24B({ mmsi: m18, shipType: 52, callsign: 'BXTU8', bow: 12, stern: 8, port: 2, starboard: 3 }), { channel: 'A' })[0];
    const t5 = ais.sentences(ais.type5({ mmsi: reg, imo: 9876543, callsign: 'BVWX7', name: 'JIANG SHA 7', shipType: 79, bow: 60, stern: 25, port: 7, starboard: 6, destination: 'NANJING', draught: 35 }), { channel: 'B', seq: '3', maxChars: 30 });
    assert.equal(t5.length, 3);
    const damaged = ais.sentences(ais.type1({ mmsi: mbad, lonRaw: 69000000, latRaw: 17000000, second: 1 }))[0].replace(/\*..$/, '*00');

    const stream = [cases[0].line, a24, cases[2].line, naLine, cases[1].line, t5[0], cases[3].line, t5[1], t5[2], b24, cases[4].line, damaged, cases[5].line]
      .map((l) => `${l}\r\n`).join('');
    // split into reads at awkward places: inside the tag block, inside the payload, between CR and LF
    const cuts = [3, 50, 51, 120, 200, 201, 333, 500, stream.indexOf('\n', 600), stream.length - 5];
    let prev = 0;
    for (const c of [...cuts.filter((x) => x > 0).sort((a, b) => a - b), stream.length]) {
      if (c > prev) await write(stream.slice(prev, c));
      prev = c;
      await sleep(5);
    }
    for (const c of cases) {
      const v = await waitUntil(() => vesselByMmsi(c.mmsi), { what: `vessel ${c.mmsi}` });
      const r = await waitRow(v.id, new Date(c.time), `AIS position of ${c.mmsi} at ${new Date(c.time).toISOString()}`);
      assert.equal(r.length, 1);
      assert.equal(r[0].raw.replace(/^\\.*\\/, ''), c.line.replace(/^\\.*\\/, ''), 'raw sentence kept');
      near(r[0].lon, c.lon, `lon ${c.mmsi}`);
      near(r[0].lat, c.lat, `lat ${c.mmsi}`);
      assert.ok(Math.abs(r[0].speed_kn - c.sog) < SPEED_EPS, `speed ${c.mmsi} ${r[0].speed_kn}`);
      if (c.cog !== undefined) assert.ok(Math.abs(r[0].course - c.cog) < COURSE_EPS, `course ${c.mmsi} ${r[0].course}`);
      assert.equal(r[0].protocol, 'ais');
    }
    // negative coordinates really are negative
    assert.ok(cases[5].lon < -70 && cases[5].lat < -33);
    // the registered vessel keeps its registry data; statics land beside it
    const rv = await waitUntil(async () => {
      const x = await vesselByMmsi(reg);
      return x.ais_name && x.destination ? x : null;
    }, { what: 'type 5 statics of the registered vessel' });
    assert.deepEqual([rv.id, rv.name, rv.kind, rv.auto_created], [V.aisReg, REG.aisReg.name, 'sand_transport', false]);
    assert.deepEqual([rv.ais_name, rv.callsign, rv.ship_type, rv.length_m, rv.beam_m, rv.destination, Number(rv.imo), rv.ais_class],
      ['JIANG SHA 7', 'BVWX7', 79, 85, 13, 'NANJING', 9876543, 'A']);
    const regRows = await rows(V.aisReg);
    assert.equal(regRows.length, 2, `only the two real positions of the registered vessel: ${JSON.stringify(regRows.map((r) => r.raw))}`);
    // class B statics from 24A + 24B and from 19
    const b = await waitUntil(async () => {
      const x = await vesselByMmsi(m18);
      return x.ais_name && x.callsign ? x : null;
    }, { what: 'type 24 statics' });
    assert.deepEqual([b.ais_name, b.callsign, b.ship_type, b.length_m, b.beam_m, b.ais_class, b.kind, b.auto_created],
      ['XIANG YU 808', 'BXTU8', 52, 20, 5, 'B', 'other', true]);
    const c19 = await waitUntil(async () => {
      const x = await vesselByMmsi(m19);
      return x.ais_name ? x : null;
    }, { what: 'type 19 statics' });
    assert.deepEqual([c19.ais_name, c19.ship_type, c19.length_m, c19.beam_m, c19.ais_class], ['GAN JIU YUN 19', 33, 38, 7, 'B']);
    // a damaged sentence makes nothing
    assert.equal(await vesselByMmsi(mbad), undefined);
    assert.equal(closed, false, 'the TCP connection stays open');
  } finally {
    sock.destroy();
  }
});

// ------------------------------------------------------------------------------------------ HTTP upload

/** ISO-8601 of DATE at a UTC offset of OFFMIN minutes. */
function iso(date, offMin) {
  const d = new Date(date.getTime() + offMin * 60e3);
  const sign = offMin < 0 ? '-' : '+';
  const a = Math.abs(offMin);
  return d.toISOString().replace(/Z$/, '') + `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

t('POST /api/positions: accepted, duplicates and rejected items with reasons; stored exactly', async () => {
  const items = [
    { terminal: REG.httpT.terminal, time: iso(at(401), 480), lon: 116.123456, lat: 29.654321, speed_kn: 3.5, course: 123.5 },
    { mmsi: REG.httpM.mmsi, time: at(402).toISOString(), lon: 116.2, lat: 29.7, speed_kn: 0, course: 0 },
    { vessel: V.httpV, time: iso(at(403), -300), lon: -0.000001, lat: -0.5, speed_kn: 12.25, course: 359.5 },
    { terminal: '13999999999', time: iso(at(404), 480), lon: 116.3, lat: 29.8, speed_kn: 0, course: 0 },
    { vessel: V.httpV, time: '2026-01-01 10:00:00', lon: 116.3, lat: 29.8, speed_kn: 0, course: 0 },
    { vessel: V.httpV, time: iso(at(406), 480), lon: 200, lat: 29.8, speed_kn: 0, course: 0 },
    { terminal: REG.httpT.terminal, time: iso(at(401), 480), lon: 116.123456, lat: 29.654321, speed_kn: 3.5, course: 123.5 },
    { vessel: V.httpV, time: iso(new Date(Date.now() + 86400e3), 480), lon: 116.3, lat: 29.8, speed_kn: 0, course: 0 },
    { mmsi: 12, time: iso(at(408), 480), lon: 116.3, lat: 29.8 },
    { terminal: REG.httpT.terminal, mmsi: REG.httpM.mmsi, time: iso(at(409), 480), lon: 116.3, lat: 29.8 },
    { vessel: V.httpV, time: iso(at(410), 480), lat: 29.8 },
  ];
  const r = await stack.api('POST', '/api/positions', items, token);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.received, items.length);
  assert.equal(r.json.accepted, 3, r.text);
  assert.equal(r.json.duplicates, 1, r.text);
  assert.deepEqual(r.json.rejected.map((x) => x.index), [3, 4, 5, 7, 8, 9, 10], r.text);
  for (const x of r.json.rejected) assert.ok(typeof x.reason === 'string' && x.reason.length > 3, JSON.stringify(x));
  assert.match(r.json.rejected[0].reason, /terminal/);

  const expect = [[V.httpT, items[0]], [V.httpM, items[1]], [V.httpV, items[2]]];
  for (const [id, it] of expect) {
    const time = new Date(it.time);
    const got = await waitRow(id, time);
    assert.equal(got.length, 1, `one row for ${JSON.stringify(it)}`);
    const g = got[0];
    assert.equal(g.device_time.getTime(), time.getTime());
    near(g.lon, it.lon, 'lon');
    near(g.lat, it.lat, 'lat');
    assert.ok(Math.abs(g.speed_kn - it.speed_kn) < SPEED_EPS, `speed ${g.speed_kn}`);
    assert.ok(Math.abs(g.course - it.course) < COURSE_EPS, `course ${g.course}`);
    assert.equal(g.protocol, 'http');
    assert.equal(g.fix_valid, true);
  }
  // the same upload again: nothing new
  const r2 = await stack.api('POST', '/api/positions', items, token);
  assert.equal(r2.status, 200, r2.text);
  assert.deepEqual([r2.json.accepted, r2.json.duplicates], [0, 4], r2.text);
  await sleep(300);
  for (const [id, it] of expect) assert.equal((await rowsAtTime(id, new Date(it.time))).length, 1);
  // the vessel's last position
  await waitUntil(async () => (await vessel(V.httpV)).last_time?.getTime() === at(403).getTime(), { what: 'last_time of the http vessel' });

  // shape errors
  const na = await stack.api('POST', '/api/positions', { terminal: REG.httpT.terminal }, token);
  assert.equal(na.status, 400, na.text);
  const big = Array.from({ length: 5001 }, (_, i) => ({ vessel: V.httpV, time: iso(new Date(base + 600e3 + i * 500), 480), lon: 116, lat: 29 }));
  const tooMany = await stack.api('POST', '/api/positions', big, token);
  assert.ok(tooMany.status >= 400 && tooMany.status < 500, `5001 items: ${tooMany.status}`);
  const full = await stack.api('POST', '/api/positions', big.slice(0, 5000), token);
  assert.equal(full.status, 200, full.text.slice(0, 300));
  assert.equal(full.json.accepted, 5000);
  const noAuth = await stack.api('POST', '/api/positions', items.slice(0, 1));
  assert.equal(noAuth.status, 401);
  await waitCount(V.httpV, 5000, new Date(base + 600e3), new Date(base + 600e3 + 2500e3), '5000 uploaded positions');
  const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM positions WHERE vessel_id = $1 AND device_time >= $2', [V.httpV, new Date(base + 600e3)]);
  assert.equal(n, 5000, 'the refused 5001-item upload stored nothing');
});

// --------------------------------------------------------------------------------------- JT/T 808 extras

const jtConnect = (phone) => new Terminal({ phone, port: stack.jt808Port }).connect();

/** Collects replies until none arrives for MS. */
async function drain(term, ms = 600) {
  const out = [];
  for (;;) {
    try {
      out.push(await term.reply(ms));
    } catch {
      return out;
    }
  }
}

/** The evidence kept for each item of a 0x0704 (README): hex of the unescaped header and batch
 * prefix, a space, hex of the item (its WORD length and 0x0200 body). */
function batchEvidence(wire) {
  const content = unescape(wire.subarray(1, wire.length - 1));
  const headLen = (content[2] & 0x40) ? 17 : 12;
  const head = content.subarray(0, headLen + 3);
  const out = [];
  let off = headLen + 3;
  const end = content.length - 1; // the check code
  while (off + 2 <= end) {
    const len = content.readUInt16BE(off);
    out.push(`${hex(head)} ${hex(content.subarray(off, off + 2 + len))}`);
    off += 2 + len;
  }
  return out;
}

t('JT/T 808 0x0704 type 0: one 0x8001 for the batch; every item stored with its own evidence; last position follows', async () => {
  const id = V.jtBatch;
  const term = await jtConnect(REG.jtBatch.terminal);
  try {
    await term.login();
    const items = [
      { lon: 116.000001, lat: 29.000001, time: at(501), speedKmh: 18.5, course: 10, altitude: 12 },
      { lon: 116.000126, lat: 29.000126, time: at(502), speedKmh: 18.6, course: 11, altitude: 13 },
      { lon: -116.000251, lat: -29.000251, time: at(503), speedKmh: 18.7, course: 359, altitude: 14 }, // hemisphere bits
    ];
    const { serial, wire } = term.frame(MSG.BATCH, batchBody({ type: 0, items }));
    await term.write(wire);
    const replies = await drain(term);
    assert.equal(replies.length, 1, `exactly one reply: ${JSON.stringify(replies.map((x) => [x.id, x.ackSerial, x.ackId, x.result]))}`);
    assert.deepEqual([replies[0].id, replies[0].ackSerial, replies[0].ackId, replies[0].result], [MSG.PLAT_RESPONSE, serial, MSG.BATCH, 0]);
    const got = await waitCount(id, 3, at(500), at(510));
    assert.equal(got.length, 3);
    for (const [i, it] of items.entries()) {
      const g = got[i];
      assert.equal(g.device_time.getTime(), it.time.getTime());
      near(g.lon, it.lon, `lon ${i}`);
      near(g.lat, it.lat, `lat ${i}`);
      assert.ok(Math.abs(g.speed_kn - it.speedKmh / 1.852) < SPEED_EPS, `speed ${g.speed_kn}`);
      assert.ok(Math.abs(g.course - it.course) < COURSE_EPS, `course ${g.course}`);
      assert.equal(g.altitude_m, it.altitude);
      assert.equal(g.blind, false);
      assert.equal(g.protocol, 'jt808');
      assert.equal(g.raw.toLowerCase(), batchEvidence(wire)[i], 'raw: the frame header and this item as received');
    }
    await waitUntil(async () => (await vessel(id)).last_time?.getTime() === at(503).getTime(), { what: 'vessels.last_time = newest batch item' });
    const [lg] = await stack.sql('SELECT ST_X(last_geom) AS lon, ST_Y(last_geom) AS lat FROM vessels WHERE id = $1', [id]);
    near(lg.lon, -116.000251, 'last lon');
    near(lg.lat, -29.000251, 'last lat');
  } finally {
    term.close();
  }
});

t('JT/T 808 0x0704 type 1 (blind area): stored with blind = true, never moves last_time back', async () => {
  const id = V.jtBlind;
  const term = await jtConnect(REG.jtBlind.terminal);
  try {
    await term.login();
    const live = { lon: 117.1, lat: 29.1, time: at(620) };
    const s0 = await term.location(live);
    assert.equal((await term.reply()).ackSerial, s0);
    await waitUntil(async () => (await vessel(id)).last_time?.getTime() === live.time.getTime(), { what: 'last_time of the live report' });

    const items = [611, 612, 613, 614].map((s, k) => ({ lon: 117.0 + k / 1000, lat: 29.0 + k / 1000, time: at(s), speedKmh: 5 }));
    const { serial, wire } = term.frame(MSG.BATCH, batchBody({ type: 1, items }));
    await term.write(wire);
    const replies = await drain(term);
    assert.deepEqual(replies.map((x) => [x.id, x.ackSerial, x.ackId, x.result]), [[MSG.PLAT_RESPONSE, serial, MSG.BATCH, 0]]);
    const got = await waitCount(id, 4, at(610), at(615), 'the blind-area items');
    for (const [i, it] of items.entries()) {
      assert.equal(got[i].device_time.getTime(), it.time.getTime());
      near(got[i].lon, it.lon, 'lon');
      near(got[i].lat, it.lat, 'lat');
      assert.equal(got[i].blind, true, 'blind');
      assert.equal(got[i].raw.toLowerCase(), batchEvidence(wire)[i]);
    }
    // give the coalesced writer its chance, then check nothing moved back
    await sleep(1200);
    const v = await vessel(id);
    assert.equal(v.last_time.getTime(), live.time.getTime(), 'last_time not moved back by blind-area items');
    const [lg] = await stack.sql('SELECT ST_X(last_geom) AS lon, ST_Y(last_geom) AS lat FROM vessels WHERE id = $1', [id]);
    near(lg.lon, live.lon, 'last_geom lon unchanged');
    near(lg.lat, live.lat, 'last_geom lat unchanged');
    // the live report is not blind
    const [lr] = await rowsAtTime(id, live.time);
    assert.equal(lr.blind, false);
    // a later live report still moves it forward
    const s1 = await term.location({ lon: 117.2, lat: 29.2, time: at(630) });
    assert.equal((await term.reply()).ackSerial, s1);
    await waitUntil(async () => (await vessel(id)).last_time?.getTime() === at(630).getTime(), { what: 'last_time after a later live report' });
  } finally {
    term.close();
  }
});

t('JT/T 808 subpackaged messages: a 0x0704 in 3 packets and in 2, a 0x0200 in 2 -- every packet acked, reassembled and stored', async () => {
  const id = V.jtSub;
  const term = await jtConnect(REG.jtSub.terminal);
  try {
    await term.login();
    const check = (replies, packets, label) => {
      const summary = JSON.stringify(replies.map((x) => [x.id.toString(16), x.ackSerial, x.ackId.toString(16), x.result]));
      for (const p of packets) {
        const a = replies.find((x) => x.id === MSG.PLAT_RESPONSE && x.ackSerial === p.serial);
        assert.ok(a, `${label}: no 0x8001 for packet ${p.no} (serial ${p.serial}); replies ${summary}`);
        assert.equal(a.result, 0, `${label}: packet ${p.no} result; replies ${summary}`);
      }
      for (const x of replies) assert.equal(x.result, 0, `${label}: every reply is a success; ${summary}`);
      // one 0x8001 per packet and no more (a second ack of packet 1's serial for the reassembled whole
      // answers a serial twice)
      // (checked at the end, so that reassembly and storage are tested whatever the outcome)
      if (replies.length !== packets.length) extra.push(`${label}: ${replies.length} replies to ${packets.length} packets: ${summary}`);
    };
    const extra = [];

    // 1. seven items in three packets, each packet written separately
    const items1 = Array.from({ length: 7 }, (_, k) => ({ lon: 115.5 + k * 0.000111, lat: 28.5 + k * 0.000222, time: at(701 + k), speedKmh: 10 + k, course: 100 + k }));
    const body1 = batchBody({ type: 0, items: items1 });
    const packets1 = term.subpackaged(MSG.BATCH, splitBody(body1, 3, [5, 100])); // a cut inside the header and inside an item
    for (const p of packets1) {
      await term.write(p.wire);
      await sleep(20);
    }
    check(await drain(term), packets1, '3-packet 0x0704');
    const got1 = await waitCount(id, 7, at(700), at(710), 'the 7 items of the 3-packet batch');
    assert.equal(got1.length, 7);
    for (const [k, it] of items1.entries()) {
      assert.equal(got1[k].device_time.getTime(), it.time.getTime());
      near(got1[k].lon, it.lon, `lon ${k}`);
      near(got1[k].lat, it.lat, `lat ${k}`);
      assert.ok(Math.abs(got1[k].course - it.course) < COURSE_EPS, `course ${got1[k].course}`);
      assert.equal(got1[k].blind, false);
      assert.ok(got1[k].raw && got1[k].raw.length > 0, 'raw kept');
    }

    // 2. a blind-area batch in two packets, both in one write
    const items2 = [711, 712, 713].map((s, k) => ({ lon: 115.6 + k / 1e4, lat: 28.6 + k / 1e4, time: at(s) }));
    const packets2 = term.subpackaged(MSG.BATCH, splitBody(batchBody({ type: 1, items: items2 }), 2));
    await term.write(Buffer.concat(packets2.map((p) => p.wire)));
    check(await drain(term), packets2, '2-packet 0x0704');
    const got2 = await waitCount(id, 3, at(711), at(714), 'the 3 items of the 2-packet blind batch');
    assert.deepEqual(got2.map((r) => [r.device_time.getTime(), r.blind]), items2.map((it) => [it.time.getTime(), true]));

    // 3. a 0x0200 in two packets
    const loc = { lon: 115.777777, lat: 28.777777, time: at(720), speedKmh: 3 };
    const packets3 = term.subpackaged(MSG.LOCATION, splitBody(locationBody(loc), 2, [13]));
    for (const p of packets3) await term.write(p.wire, { splits: [3, 9], pauseMs: 5 });
    check(await drain(term), packets3, '2-packet 0x0200');
    const got3 = await waitRow(id, loc.time, 'the subpackaged 0x0200');
    near(got3[0].lon, loc.lon, 'lon');
    near(got3[0].lat, loc.lat, 'lat');

    // the session is still fine
    const s = await term.heartbeat();
    const h = await term.reply();
    assert.deepEqual([h.ackSerial, h.ackId, h.result], [s, MSG.HEARTBEAT, 0]);
    assert.deepEqual(extra, [], 'exactly one 0x8001 per packet');
  } finally {
    term.close();
  }
});

t('JT/T 808 terminal events: an unregistered 0x0100 (result 4) and a wrong auth code are recorded', async () => {
  const phone = '13877776666';
  const term = await jtConnect(phone);
  try {
    const s = await term.register();
    const r = await term.reply();
    assert.deepEqual([r.id, r.ackSerial, r.result], [MSG.REGISTER_RESPONSE, s, 4]);
  } finally {
    term.close();
  }
  const ev = await waitUntil(async () => {
    const x = await stack.sql('SELECT * FROM terminal_events WHERE identity = $1', [phone]);
    return x.length ? x : null;
  }, { what: 'the unregistered terminal_events row' });
  assert.deepEqual(ev.map((e) => [e.protocol, e.event]), [['jt808', 'unregistered']]);
  assert.match(ev[0].peer || '', /127\.0\.0\.1/);

  const known = REG.jtDup.terminal;
  const t2 = await jtConnect(known);
  try {
    const s = await t2.auth('definitely-not-the-code');
    const a = await t2.reply();
    assert.deepEqual([a.id, a.ackSerial, a.ackId, a.result], [MSG.PLAT_RESPONSE, s, MSG.AUTH, 1]);
  } finally {
    t2.close();
  }
  await waitUntil(async () => (await stack.sql("SELECT 1 FROM terminal_events WHERE identity = $1 AND event = 'auth_failed' AND protocol = 'jt808'", [known])).length === 1,
    { what: 'the auth_failed terminal_events row' });
});

t('JT/T 808: the same 0x0200 body sent twice (different serials) is acknowledged twice and stored once', async () => {
  const id = V.jtDup;
  const term = await jtConnect(REG.jtDup.terminal);
  try {
    await term.login();
    const pos = { lon: 116.654321, lat: 29.123456, time: at(801), speedKmh: 7.4, course: 200 };
    const s1 = await term.location(pos);
    const a1 = await term.reply();
    const s2 = await term.location(pos);
    const a2 = await term.reply();
    assert.deepEqual([a1.ackSerial, a1.ackId, a1.result, a2.ackSerial, a2.ackId, a2.result], [s1, MSG.LOCATION, 0, s2, MSG.LOCATION, 0]);
    assert.notEqual(s1, s2);
    // and again on a new connection (a terminal retransmitting after a reconnect)
    const again = await jtConnect(REG.jtDup.terminal);
    try {
      await again.login();
      const s3 = await again.location(pos);
      assert.equal((await again.reply()).ackSerial, s3);
      const later = { ...pos, time: at(802) };
      await again.location(later);
      await again.reply();
    } finally {
      again.close();
    }
    await waitRow(id, at(802));
    await sleep(300);
    const got = await rowsAtTime(id, pos.time);
    assert.equal(got.length, 1, 'stored once');
    near(got[0].lon, pos.lon, 'lon');
    near(got[0].lat, pos.lat, 'lat');
  } finally {
    term.close();
  }
});
