// nmea.mjs -- NMEA 0183 sentence builders and a line-oriented TCP client for the tests (independent of the C code).
//
// Coordinates are given as the exact text the receiver would send ("2944.123456", "N"); dm() gives the
// decimal degrees the test expects: dd + mm.mmmm / 60, negated for S/W.

import net from 'node:net';
import { nmeaChecksum } from './ais.mjs';

export { nmeaChecksum };

/** '$' + body + '*hh' (checksum upper-case hex, as the standard writes it). */
export function nmea(body) {
  return `$${body}*${nmeaChecksum(body)}`;
}

/** Decimal degrees from ddmm.mmmm (lat) / dddmm.mmmm (lon) text and hemisphere. */
export function dm(text, hemi) {
  const dot = text.indexOf('.');
  const degLen = (dot < 0 ? text.length : dot) - 2;
  const deg = Number(text.slice(0, degLen));
  const min = Number(text.slice(degLen));
  const v = deg + min / 60;
  return hemi === 'S' || hemi === 'W' ? -v : v;
}

const p2 = (n) => String(n).padStart(2, '0');
/** hhmmss.ss of DATE (UTC). */
export function hms(date, frac = 2) {
  const s = p2(date.getUTCHours()) + p2(date.getUTCMinutes()) + p2(date.getUTCSeconds());
  return frac ? `${s}.${String(date.getUTCMilliseconds()).padStart(3, '0').slice(0, frac)}` : s;
}
/** ddmmyy of DATE (UTC). */
export function dmy(date) {
  return p2(date.getUTCDate()) + p2(date.getUTCMonth() + 1) + p2(date.getUTCFullYear() % 100);
}

/**
 * RMC: { talker = 'GN', time: Date, status = 'A', lat: [text, 'N'], lon: [text, 'E'], sog = '0.0', cog = '',
 *        date = dmy(time), mode = 'A', nav = null (NMEA 4.1 field 13) }
 */
export function rmc({ talker = 'GN', time, status = 'A', lat, lon, sog = '0.0', cog = '', date, mode = 'A', nav = null }) {
  const f = [`${talker}RMC`, hms(time), status, lat[0], lat[1], lon[0], lon[1], sog, cog, date ?? dmy(time), '', '', mode];
  if (nav) f.push(nav);
  return nmea(f.join(','));
}

/** GGA: { talker = 'GN', time: Date, lat, lon, quality = 1, sats = '12', hdop = '0.9', alt = '12.3' } */
export function gga({ talker = 'GN', time, lat, lon, quality = 1, sats = '12', hdop = '0.9', alt = '12.3' }) {
  return nmea([`${talker}GGA`, hms(time), lat[0], lat[1], lon[0], lon[1], quality, sats, hdop, alt, 'M', '-3.1', 'M', '', ''].join(','));
}

export function pswid(id) {
  return nmea(`PSWID,${id}`);
}

/** A TCP NMEA source: send(lines or text), waitClosed(ms), closed. */
export class NmeaSource {
  constructor(port, host = '127.0.0.1') {
    Object.assign(this, { port, host });
    this.closed = false;
    this.received = [];
  }
  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.createConnection({ host: this.host, port: this.port }, () => resolve(this));
      this.sock.once('error', reject);
      this.sock.on('error', () => {});
      this.sock.on('data', (d) => this.received.push(d));
      this.sock.on('close', () => { this.closed = true; });
    });
  }
  /** Writes lines (each gets CRLF) or a raw string/Buffer. */
  send(x) {
    const data = Array.isArray(x) ? x.map((l) => `${l}\r\n`).join('') : x;
    return new Promise((resolve) => {
      if (this.closed || this.sock.destroyed) return resolve(false);
      this.sock.write(data, () => resolve(true));
    });
  }
  waitClosed(ms = 5000) {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
      this.sock.once('close', () => { clearTimeout(t); resolve(true); });
    });
  }
  close() {
    if (this.sock && !this.sock.destroyed) this.sock.end();
  }
}
