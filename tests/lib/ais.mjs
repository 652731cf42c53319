// ais.mjs -- a small, independent AIS (AIVDM) encoder/decoder for the tests (not shared with the C code).
//
// Sentence: !AIVDM,<count>,<number>,<seq>,<channel>,<payload>,<fill>*hh. Payload armouring: 6 bits a
// character, value v -> ASCII v + 48 (+ 8 more when v > 39). Six-bit text: 0-31 -> '@'-'_', 32-63 -> ' '-'?'.
// Lon/lat are 1/10000 minute (divide by 600000 for degrees), two's complement; 181 / 91 mean n/a.

export function nmeaChecksum(body) {
  let x = 0;
  for (const ch of body) x ^= ch.charCodeAt(0);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** '$' or '!' + body + '*hh'. */
export function sentence(body, lead = '!') {
  return `${lead}${body}*${nmeaChecksum(body)}`;
}

// ------------------------------------------------------------------------------------------ decode

export function payloadBits(payload, fill = 0) {
  let bits = '';
  for (const ch of payload) {
    let v = ch.charCodeAt(0) - 48;
    if (v > 40) v -= 8;
    if (v < 0 || v > 63) throw new Error(`bad armour character ${ch}`);
    bits += v.toString(2).padStart(6, '0');
  }
  return fill ? bits.slice(0, bits.length - fill) : bits;
}

const uint = (bits, start, len) => (start + len > bits.length ? null : parseInt(bits.slice(start, start + len), 2));
const sint = (bits, start, len) => {
  const u = uint(bits, start, len);
  if (u === null) return null;
  return u >= 2 ** (len - 1) ? u - 2 ** len : u;
};
function text(bits, start, chars) {
  let s = '';
  for (let i = 0; i < chars; i++) {
    const v = uint(bits, start + 6 * i, 6);
    if (v === null) break;
    s += String.fromCharCode(v < 32 ? v + 64 : v);
  }
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  return s.replace(/ +$/, '');
}

/** Parses one sentence line (no tag block): { count, number, seq, channel, payload, fill } or null. */
export function parseSentence(line) {
  const m = /^!([A-Z]{2})VD[MO],(\d),(\d),(\d?),([AB12]?),([0-W`-w]*),([0-5])\*([0-9A-F]{2})$/.exec(line.trim());
  if (!m) return null;
  const body = line.trim().slice(1, line.trim().indexOf('*'));
  if (nmeaChecksum(body) !== m[8]) return null;
  return { count: +m[2], number: +m[3], seq: m[4], channel: m[5], payload: m[6], fill: +m[7] };
}

/** Decodes a bit string into the fields the tests need. */
export function decodeBits(bits) {
  const type = uint(bits, 0, 6);
  const mmsi = uint(bits, 8, 30);
  const out = { type, mmsi };
  const pos = (lonAt, latAt) => {
    const lon = sint(bits, lonAt, 28);
    const lat = sint(bits, latAt, 27);
    out.lonRaw = lon;
    out.latRaw = lat;
    out.lon = lon / 600000;
    out.lat = lat / 600000;
    out.hasPosition = lon !== 108600000 && lat !== 54600000 && Math.abs(lon) <= 108000000 && Math.abs(lat) <= 54000000;
  };
  if (type >= 1 && type <= 3) {
    out.navStatus = uint(bits, 38, 4);
    out.sog = uint(bits, 50, 10);
    pos(61, 89);
    out.cog = uint(bits, 116, 12);
    out.second = uint(bits, 137, 6);
  } else if (type === 18 || type === 19) {
    out.sog = uint(bits, 46, 10);
    pos(57, 85);
    out.cog = uint(bits, 112, 12);
    out.second = uint(bits, 133, 6);
    if (type === 19) {
      out.name = text(bits, 143, 20);
      out.shipType = uint(bits, 263, 8);
      out.length = uint(bits, 271, 9) + uint(bits, 280, 9);
      out.beam = uint(bits, 289, 6) + uint(bits, 295, 6);
    }
  } else if (type === 5) {
    out.imo = uint(bits, 40, 30);
    out.callsign = text(bits, 70, 7);
    out.name = text(bits, 112, 20);
    out.shipType = uint(bits, 232, 8);
    out.length = uint(bits, 240, 9) + uint(bits, 249, 9);
    out.beam = uint(bits, 258, 6) + uint(bits, 264, 6);
    out.destination = text(bits, 302, Math.min(20, Math.floor((bits.length - 302) / 6)));
  } else if (type === 24) {
    out.part = uint(bits, 38, 2);
    if (out.part === 0) out.name = text(bits, 40, 20);
    else {
      out.shipType = uint(bits, 40, 8);
      out.callsign = text(bits, 90, 7);
      out.length = uint(bits, 132, 9) + uint(bits, 141, 9);
      out.beam = uint(bits, 150, 6) + uint(bits, 156, 6);
    }
  }
  return out;
}

/**
 * Decodes the lines of a feed (fragments reassembled by seq+channel). Returns
 * [{ msg, lines: [the sentence lines of the message] }].
 */
export function decodeLines(lines) {
  const out = [];
  const partial = new Map();
  for (const raw of lines) {
    const line = raw.trim();
    const s = parseSentence(line);
    if (!s) continue;
    if (s.count === 1) {
      out.push({ msg: decodeBits(payloadBits(s.payload, s.fill)), lines: [line] });
      continue;
    }
    const key = `${s.seq}/${s.channel}`;
    if (s.number === 1) partial.set(key, { parts: [s], lines: [line] });
    else {
      const p = partial.get(key);
      if (!p || p.parts.length !== s.number - 1) { partial.delete(key); continue; }
      p.parts.push(s);
      p.lines.push(line);
    }
    const p = partial.get(key);
    if (p.parts.length === s.count) {
      partial.delete(key);
      const bits = payloadBits(p.parts.map((x) => x.payload).join(''), s.fill);
      out.push({ msg: decodeBits(bits), lines: p.lines });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ encode

class Bits {
  constructor() { this.s = ''; }
  u(v, len) {
    if (v < 0 || v >= 2 ** len) throw new Error(`${v} does not fit ${len} bits`);
    this.s += Math.round(v).toString(2).padStart(len, '0');
    return this;
  }
  i(v, len) {
    const u = v < 0 ? 2 ** len + v : v;
    return this.u(u, len);
  }
  t(str, chars) {
    const s = str.toUpperCase().padEnd(chars, '@').slice(0, chars);
    for (const ch of s) {
      const c = ch.charCodeAt(0);
      this.u(c >= 64 ? c - 64 : c, 6);
    }
    return this;
  }
}

/** Armours a bit string: { payload, fill }. */
export function armour(bits) {
  const fill = (6 - (bits.length % 6)) % 6;
  const b = bits + '0'.repeat(fill);
  let p = '';
  for (let i = 0; i < b.length; i += 6) {
    let v = parseInt(b.slice(i, i + 6), 2);
    p += String.fromCharCode(v < 40 ? v + 48 : v + 56);
  }
  return { payload: p, fill };
}

/** Degrees -> 1/10000 minute integer, exactly (lon/lat given with at most 6 decimals is NOT exact: use raw). */
export const toRaw = (deg) => Math.round(deg * 600000);

/** Type 1/2/3: { mmsi, lonRaw, latRaw, sog (1/10 kn), cog (1/10 deg), heading, second, navStatus, type } */
export function type1({ type = 1, mmsi, lonRaw, latRaw, sog = 0, cog = 0, heading = 511, second = 60, navStatus = 0 }) {
  const b = new Bits();
  b.u(type, 6).u(0, 2).u(mmsi, 30).u(navStatus, 4).i(-128, 8).u(sog, 10).u(0, 1)
    .i(lonRaw, 28).i(latRaw, 27).u(cog, 12).u(heading, 9).u(second, 6).u(0, 2).u(0, 3).u(0, 1).u(0, 19);
  return b.s;
}

/** Type 18. */
export function type18({ mmsi, lonRaw, latRaw, sog = 0, cog = 0, heading = 511, second = 60 }) {
  const b = new Bits();
  b.u(18, 6).u(0, 2).u(mmsi, 30).u(0, 8).u(sog, 10).u(0, 1).i(lonRaw, 28).i(latRaw, 27).u(cog, 12)
    .u(heading, 9).u(second, 6).u(0, 2).u(1, 1).u(0, 1).u(0, 1).u(1, 1).u(0, 1).u(0, 1).u(0, 1).u(0, 20);
  return b.s;
}

/** Type 19: position plus name, ship type and dimensions. */
export function type19({ mmsi, lonRaw, latRaw, sog = 0, cog = 0, heading = 511, second = 60, name, shipType, bow, stern, port, starboard }) {
  const b = new Bits();
  b.u(19, 6).u(0, 2).u(mmsi, 30).u(0, 8).u(sog, 10).u(0, 1).i(lonRaw, 28).i(latRaw, 27).u(cog, 12)
    .u(heading, 9).u(second, 6).u(0, 4).t(name, 20).u(shipType, 8).u(bow, 9).u(stern, 9).u(port, 6).u(starboard, 6)
    .u(1, 4).u(0, 1).u(0, 1).u(0, 1).u(0, 4);
  return b.s;
}

/** Type 5 (424 bits). */
export function type5({ mmsi, imo = 0, callsign, name, shipType, bow, stern, port, starboard, destination, draught = 0 }) {
  const b = new Bits();
  b.u(5, 6).u(0, 2).u(mmsi, 30).u(0, 2).u(imo, 30).t(callsign, 7).t(name, 20).u(shipType, 8)
    .u(bow, 9).u(stern, 9).u(port, 6).u(starboard, 6).u(1, 4).u(0, 4).u(0, 5).u(24, 5).u(60, 6)
    .u(draught, 8).t(destination, 20).u(0, 1).u(0, 1);
  return b.s;
}

/** Type 24 part A (160 bits) or B (168 bits). */
export function type24A({ mmsi, name }) {
  return new Bits().u(24, 6).u(0, 2).u(mmsi, 30).u(0, 2).t(name, 20).s;
}
export function type24B({ mmsi, shipType, callsign, bow, stern, port, starboard }) {
  return new Bits().u(24, 6).u(0, 2).u(mmsi, 30).u(1, 2).u(shipType, 8).t('SWT', 3).u(1, 4).u(123, 20)
    .t(callsign, 7).u(bow, 9).u(stern, 9).u(port, 6).u(starboard, 6).u(0, 6).s;
}

/**
 * Sentences for a bit string: one line, or several fragments of at most MAXCHARS payload characters
 * (fill bits on the last). { channel = 'A', seq = '', talker = 'AI', own = false, tagTime = null }.
 */
export function sentences(bits, { channel = 'A', seq = '', talker = 'AI', own = false, tagTime = null, maxChars = 60 } = {}) {
  const { payload, fill } = armour(bits);
  const parts = [];
  for (let i = 0; i < payload.length; i += maxChars) parts.push(payload.slice(i, i + maxChars));
  const n = parts.length;
  const sq = n > 1 && seq === '' ? '1' : seq;
  return parts.map((p, k) => {
    let line = sentence(`${talker}VD${own ? 'O' : 'M'},${n},${k + 1},${sq},${channel},${p},${k === n - 1 ? fill : 0}`);
    if (tagTime !== null && k === 0) {
      const tag = `c:${tagTime}`;
      line = `\\${tag}*${nmeaChecksum(tag)}\\${line}`;
    }
    return line;
  });
}
