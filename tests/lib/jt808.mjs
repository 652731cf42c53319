// jt808.mjs -- a small, independent JT/T 808 *terminal* for the tests (not shared with the C code).
//
// Frames: 0x7E | header | body | XOR check | 0x7E, everything between the flags escaped
// (7E -> 7D 02, 7D -> 7D 01). Headers: 2013 (12 bytes, BCD[6] phone) and 2019 (17 bytes,
// version byte, BCD[10] phone, body-properties bit 14 set). Times in 0x0200 are BCD
// YYMMDDhhmmss in GMT+8.

import net from 'node:net';

export const MSG = {
  TERM_RESPONSE: 0x0001,
  HEARTBEAT: 0x0002,
  LOGOUT: 0x0003,
  REGISTER: 0x0100,
  AUTH: 0x0102,
  LOCATION: 0x0200,
  BATCH: 0x0704,
  PLAT_RESPONSE: 0x8001,
  REGISTER_RESPONSE: 0x8100,
};

export function xor(buf) {
  let x = 0;
  for (const b of buf) x ^= b;
  return x;
}

export function escape(content) {
  const out = [];
  for (const b of content) {
    if (b === 0x7e) out.push(0x7d, 0x02);
    else if (b === 0x7d) out.push(0x7d, 0x01);
    else out.push(b);
  }
  return Buffer.from(out);
}

export function unescape(wire) {
  const out = [];
  for (let i = 0; i < wire.length; i++) {
    const b = wire[i];
    if (b === 0x7d) {
      const n = wire[++i];
      if (n === 0x01) out.push(0x7d);
      else if (n === 0x02) out.push(0x7e);
      else throw new Error(`bad escape 7d ${n?.toString(16)}`);
    } else out.push(b);
  }
  return Buffer.from(out);
}

/** Packs a digit string as BCD, left-padded with zeros to NBYTES bytes. */
export function bcd(digits, nbytes) {
  const s = String(digits).padStart(nbytes * 2, '0');
  if (s.length !== nbytes * 2 || !/^[0-9]+$/.test(s)) throw new Error(`bad BCD ${digits}`);
  return Buffer.from(s, 'hex');
}

/**
 * Encodes one frame (wire bytes, flags included).
 * { id, phone, serial, body = Buffer, version: 2013|2019, protoVersion = 1, badCheck = false,
 *   pkt = null | { total, no } (subpackage item; sets body-properties bit 13) }
 */
export function encodeFrame({ id, phone, serial = 0, body = Buffer.alloc(0), version = 2013, protoVersion = 1, badCheck = false, pkt = null }) {
  if (body.length > 1023) throw new Error('body too long');
  const v19 = version === 2019;
  const props = body.length | (v19 ? 0x4000 : 0) | (pkt ? 0x2000 : 0);
  const head = [];
  const w16 = (v) => head.push((v >> 8) & 0xff, v & 0xff);
  w16(id);
  w16(props);
  if (v19) head.push(protoVersion & 0xff);
  head.push(...bcd(phone, v19 ? 10 : 6));
  w16(serial & 0xffff);
  if (pkt) {
    // subpackage item: total packets, this packet's number (1-based)
    w16(pkt.total);
    w16(pkt.no);
  }
  const content = Buffer.concat([Buffer.from(head), body]);
  let check = xor(content);
  if (badCheck) check ^= 0x55;
  return Buffer.concat([Buffer.from([0x7e]), escape(Buffer.concat([content, Buffer.from([check])])), Buffer.from([0x7e])]);
}

/** Decodes one frame given its wire bytes with or without the flags. Throws on a bad check code. */
export function decodeFrame(wire) {
  let w = Buffer.from(wire);
  if (w[0] === 0x7e) w = w.subarray(1);
  if (w[w.length - 1] === 0x7e) w = w.subarray(0, w.length - 1);
  const c = unescape(w);
  const content = c.subarray(0, c.length - 1);
  if (xor(content) !== c[c.length - 1]) throw new Error('bad check code');
  const id = content.readUInt16BE(0);
  const props = content.readUInt16BE(2);
  const v19 = (props & 0x4000) !== 0;
  const len = props & 0x3ff;
  let off = 4;
  let protoVersion = null;
  if (v19) protoVersion = content[off++];
  const plen = v19 ? 10 : 6;
  const phone = content.subarray(off, off + plen).toString('hex');
  off += plen;
  const serial = content.readUInt16BE(off);
  off += 2;
  let pkt = null;
  if (props & 0x2000) {
    pkt = { total: content.readUInt16BE(off), no: content.readUInt16BE(off + 2) };
    off += 4;
  }
  const body = content.subarray(off);
  if (body.length !== len) throw new Error(`body length ${body.length} != ${len}`);
  return { id, version: v19 ? 2019 : 2013, protoVersion, phone, serial, pkt, body, ...decodeBody(id, body) };
}

/** The fields of the server's replies (0x8001, 0x8100). */
export function decodeBody(id, body) {
  if (id === MSG.PLAT_RESPONSE) {
    return { ackSerial: body.readUInt16BE(0), ackId: body.readUInt16BE(2), result: body[4] };
  }
  if (id === MSG.REGISTER_RESPONSE) {
    const result = body[2];
    return { ackSerial: body.readUInt16BE(0), result, authCode: result === 0 ? body.subarray(3).toString('latin1') : null };
  }
  return {};
}

function fixed(str, n) {
  const b = Buffer.alloc(n); // 0x00-padded
  Buffer.from(str, 'latin1').copy(b, 0, 0, n);
  return b;
}

/** 0x0100 body, 2013 layout (37 fixed bytes + plate). */
export function registerBody({ province = 36, city = 400, maker = 'SWTST', model = 'SW-TEST-1', terminalId = 'T000001', plateColor = 0, plate = 'TESTVIN' } = {}) {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(province, 0);
  head.writeUInt16BE(city, 2);
  return Buffer.concat([head, fixed(maker, 5), fixed(model, 20), fixed(terminalId, 7), Buffer.from([plateColor]), Buffer.from(plate, 'latin1')]);
}

/** 0x0102 body (2011/2013: the code itself, to the end of the body). */
export function authBody(code) {
  return Buffer.from(code, 'latin1');
}

/** BCD[6] YYMMDDhhmmss of DATE in GMT+8. */
export function bcdTime(date) {
  const t = new Date(date.getTime() + 8 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, '0');
  const s = p(t.getUTCFullYear() % 100) + p(t.getUTCMonth() + 1) + p(t.getUTCDate()) + p(t.getUTCHours()) + p(t.getUTCMinutes()) + p(t.getUTCSeconds());
  return Buffer.from(s, 'hex');
}

/**
 * 0x0200 body: { lon, lat, time: Date, speedKmh = 0, course = 0, altitude = 0, alarm = 0, fix = true, extra = Buffer }.
 * Lat/lon are unsigned degrees x 1e6 with the hemisphere in status bits 2 (south) and 3 (west).
 */
export function locationBody({ lon, lat, time, speedKmh = 0, course = 0, altitude = 0, alarm = 0, fix = true, extra = Buffer.alloc(0) }) {
  const b = Buffer.alloc(28);
  let status = 0x00080000; // BeiDou used
  if (fix) status |= 0x2;
  if (lat < 0) status |= 0x4;
  if (lon < 0) status |= 0x8;
  b.writeUInt32BE(alarm >>> 0, 0);
  b.writeUInt32BE(status >>> 0, 4);
  b.writeUInt32BE(Math.round(Math.abs(lat) * 1e6), 8);
  b.writeUInt32BE(Math.round(Math.abs(lon) * 1e6), 12);
  b.writeUInt16BE(altitude & 0xffff, 16);
  b.writeUInt16BE(Math.round(speedKmh * 10), 18);
  b.writeUInt16BE(course, 20);
  bcdTime(time).copy(b, 22);
  return Buffer.concat([b, extra]);
}

/**
 * 0x0704 body (batch / blind-area location upload): WORD count, BYTE type (0 normal, 1 blind-area
 * re-send), then per item WORD length + a 0x0200 body. ITEMS are 0x0200 bodies (Buffers) or
 * locationBody() argument objects.
 */
export function batchBody({ type = 0, items }) {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(items.length, 0);
  head[2] = type;
  const parts = [head];
  for (const it of items) {
    const b = Buffer.isBuffer(it) ? it : locationBody(it);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length, 0);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

/** Splits BODY into N nearly equal parts (or at the given byte offsets). */
export function splitBody(body, n, at = null) {
  const cuts = at || Array.from({ length: n - 1 }, (_, i) => Math.round(((i + 1) * body.length) / n));
  const out = [];
  let prev = 0;
  for (const c of [...cuts, body.length]) {
    out.push(body.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** Splits a TCP byte stream into frames (wire bytes including both flags). */
export class Framer {
  constructor() {
    this.buf = [];
    this.inFrame = false;
  }
  push(chunk) {
    const frames = [];
    for (const b of chunk) {
      if (b === 0x7e) {
        if (this.inFrame && this.buf.length > 0) frames.push(Buffer.from([0x7e, ...this.buf, 0x7e]));
        this.buf = [];
        this.inFrame = true;
      } else if (this.inFrame) this.buf.push(b);
    }
    return frames;
  }
}

/**
 * A terminal over TCP. send*() write one frame and return its serial; reply(ms) resolves with the next
 * decoded server frame (or rejects on timeout / close).
 */
export class Terminal {
  constructor({ phone, version = 2013, port, host = '127.0.0.1' }) {
    Object.assign(this, { phone, version, port, host });
    this.serial = 0;
    this.framer = new Framer();
    this.queue = [];
    this.waiters = [];
    this.closed = false;
    this.errors = [];
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.createConnection({ host: this.host, port: this.port }, () => resolve(this));
      this.sock.once('error', reject);
      this.sock.on('error', (e) => this.errors.push(e));
      this.sock.on('data', (d) => {
        for (const f of this.framer.push(d)) {
          const m = decodeFrame(f);
          m.wire = f;
          const w = this.waiters.shift();
          if (w) w.resolve(m);
          else this.queue.push(m);
        }
      });
      this.sock.on('close', () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed'));
      });
    });
  }

  /** Writes raw bytes, optionally split into chunks at the given byte offsets with pauses. */
  async write(buf, { splits = null, pauseMs = 5 } = {}) {
    if (!splits) {
      this.sock.write(buf);
      return;
    }
    let prev = 0;
    for (const at of [...splits, buf.length]) {
      if (at > prev) {
        this.sock.write(buf.subarray(prev, at));
        await new Promise((r) => setTimeout(r, pauseMs));
      }
      prev = at;
    }
  }

  frame(id, body, opts = {}) {
    const serial = this.serial;
    this.serial = (this.serial + 1) & 0xffff;
    return { serial, wire: encodeFrame({ id, phone: this.phone, serial, body, version: this.version, ...opts }) };
  }

  async send(id, body = Buffer.alloc(0), opts = {}) {
    const { serial, wire } = this.frame(id, body, opts);
    await this.write(wire, opts);
    return serial;
  }

  register(opts = {}) {
    return this.send(MSG.REGISTER, registerBody(opts));
  }
  auth(code) {
    return this.send(MSG.AUTH, authBody(code));
  }
  heartbeat(opts = {}) {
    return this.send(MSG.HEARTBEAT, Buffer.alloc(0), opts);
  }
  location(pos, opts = {}) {
    return this.send(MSG.LOCATION, locationBody(pos), opts);
  }
  batch(spec, opts = {}) {
    return this.send(MSG.BATCH, batchBody(spec), opts);
  }

  /**
   * Builds a subpackaged message: one frame per part of PARTS (Buffers), each with the subpackage
   * item { total, no } and its own serial. Returns [{ serial, wire, no }] (nothing written).
   */
  subpackaged(id, parts, opts = {}) {
    return parts.map((body, i) => ({ ...this.frame(id, body, { ...opts, pkt: { total: parts.length, no: i + 1 } }), no: i + 1 }));
  }

  reply(timeoutMs = 5000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no reply from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      w.resolve = (m) => { clearTimeout(t); resolve(m); };
      w.reject = (e) => { clearTimeout(t); reject(e); };
      this.waiters.push(w);
    });
  }

  /** Resolves true if no frame arrives within MS. */
  async silent(ms = 500) {
    if (this.queue.length) return false;
    try {
      await this.reply(ms);
      return false;
    } catch (e) {
      return /no reply/.test(e.message);
    }
  }

  /** Resolves when the server closes the connection (or rejects after MS). */
  waitClosed(ms = 5000) {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
      this.sock.once('close', () => { clearTimeout(t); resolve(true); });
    });
  }

  /** Register + authenticate; returns the auth code. Throws with the replies on failure. */
  async login(regOpts = {}) {
    const rs = await this.register(regOpts);
    const r = await this.reply();
    if (r.id !== MSG.REGISTER_RESPONSE || r.ackSerial !== rs || r.result !== 0) throw new Error(`registration failed: ${JSON.stringify(r)}`);
    const as = await this.auth(r.authCode);
    const a = await this.reply();
    if (a.id !== MSG.PLAT_RESPONSE || a.ackSerial !== as || a.ackId !== MSG.AUTH || a.result !== 0) throw new Error(`authentication failed: ${JSON.stringify(a)}`);
    return r.authCode;
  }

  close() {
    if (this.sock && !this.sock.destroyed) this.sock.destroy();
  }
}

export const hex = (b) => Buffer.from(b).toString('hex');
