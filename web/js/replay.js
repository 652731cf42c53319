// replay.js -- track replay of the vessel shown in the details panel: a time range (1 h, 6 h, 24 h
// or custom, entered in Beijing time), GET /api/vessels/{id}/track, the track drawn on the map
// (line, position dots, stops with their durations, zone visits listed), a time slider with
// play/pause at 1x-600x moving a marker along the track, a speed-over-time chart synchronized with
// the slider both ways, and the exports (GeoJSON, KML, GPX, CSV, the evidence sheet) fetched with
// the session's token and saved through a Blob URL.

import { request, token, ApiError } from './api.js';
import { t, tOr, formatTime, onLangChange } from './i18n.js';
import { getMap } from './map.js';
import { createSpeedChart } from './chart.js';

/* global maplibregl */

const HOUR = 3600_000;
const BJ = 8 * HOUR;
const SOURCE = 'replay';
const LAYER_CASING = 'replay-casing';
const LAYER_LINE = 'replay-line';
const LAYER_POS = 'replay-positions';
const LAYER_STOP = 'replay-stops';
// The server simplifies ranges of a day or more (10 m) by itself; when a range still has too many
// positions to list (positions_mode "none"), ask again with a coarser simplification.
const SIMPLIFY_RETRY_M = [40, 160, 640];
const MAX_STOP_LABELS = 300;
export const EXPORT_FORMATS = ['geojson', 'kml', 'gpx', 'csv', 'evidence'];
const EXT = { geojson: 'geojson', kml: 'kml', gpx: 'gpx', csv: 'csv', evidence: 'html', html: 'html' };

const form = document.getElementById('replay-form');
const presetBtns = [...form.querySelectorAll('.replay-presets [data-hours]')];
const customBox = document.getElementById('replay-custom');
const fromInput = document.getElementById('replay-from');
const toInput = document.getElementById('replay-to');
const loadBtn = document.getElementById('replay-load');
const statusEl = document.getElementById('replay-status');
const resultEl = document.getElementById('replay-result');
const summaryEl = document.getElementById('replay-summary');
const exportStatus = document.getElementById('replay-export-status');
const stopsEl = document.getElementById('replay-stops');
const zonesEl = document.getElementById('replay-zones');
const stopCount = document.getElementById('replay-stop-count');
const zoneCount = document.getElementById('replay-zone-count');
const bar = document.getElementById('replay-bar');
const playBtn = document.getElementById('replay-play');
const speedSel = document.getElementById('replay-speed');
const slider = document.getElementById('replay-slider');
const timeEl = document.getElementById('replay-time');
const readoutEl = document.getElementById('replay-readout');
const vesselEl = document.getElementById('replay-vessel');
const closeBtn = document.getElementById('replay-close');

let vessel = null; // {id, name, registration} of the details panel
let preset = '24'; // '1' | '6' | '24' | 'custom'
let track = null; // the loaded track, see parseTrack
let time = 0; // the replay time (ms)
let playing = false;
let speed = Number(speedSel.value) || 60;
let raf = 0;
let lastTick = 0;
let generation = 0;
let layersReady = false;
let cursorMarker = null;
let stopMarkers = [];
let status = null; // {key, params, error}
let exportState = null; // {key, params, error}
const stats = { loads: 0, exports: [] };

const chart = createSpeedChart(document.getElementById('replay-chart'), {
  onSeek: (ms) => setTime(ms),
  labels: () => ({ unit: t('unit.kn'), title: t('replay.chartTitle') }),
});

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ------------------------------------------------------------------ time helpers

/** ISO-8601 with the +08:00 offset of epoch MS, as the API takes it. */
export function isoBeijing(ms) {
  return `${new Date(Math.floor(ms / 1000) * 1000 + BJ).toISOString().slice(0, 19)}+08:00`;
}

/** The value of a datetime-local input (Beijing time) for epoch MS. */
function localInputValue(ms) {
  return new Date(ms + BJ).toISOString().slice(0, 16);
}

/** Epoch ms of a datetime-local value read as Beijing time (UTC+8), whatever the browser's zone. */
function parseLocalInput(v) {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v)) return NaN;
  return Date.parse(`${v.length === 16 ? `${v}:00` : v.slice(0, 19)}+08:00`);
}

/** "YYYYMMDD-HHMM" in Beijing time, for file names. */
function fileStamp(ms) {
  return new Date(ms + BJ).toISOString().slice(0, 16).replace(/-/g, '').replace(':', '').replace('T', '-');
}

const fmtMs = (ms) => formatTime(new Date(ms).toISOString());

/** "1 小时 5 分" / "1 h 5 min", "45 秒" / "45 s". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t('dur.s', { s });
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (!h) return t('dur.m', { m });
  return m ? t('dur.hm', { h, m }) : t('dur.h', { h });
}

function clockRange(a, b) {
  const fa = fmtMs(a);
  const fb = fmtMs(b);
  // Same day: the second one without its date.
  return fa.slice(0, 10) === fb.slice(0, 10) ? `${fa}–${fb.slice(11)}` : `${fa} – ${fb}`;
}

function haversine(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
}

function bearing(a, b) {
  const rad = Math.PI / 180;
  const y = Math.sin((b[0] - a[0]) * rad) * Math.cos(b[1] * rad);
  const x = Math.cos(a[1] * rad) * Math.sin(b[1] * rad) - Math.sin(a[1] * rad) * Math.cos(b[1] * rad) * Math.cos((b[0] - a[0]) * rad);
  return (Math.atan2(y, x) / rad + 360) % 360;
}

// ------------------------------------------------------------------ the range form

function renderPresets() {
  for (const b of presetBtns) b.setAttribute('aria-pressed', String(b.dataset.hours === preset));
  customBox.hidden = preset !== 'custom';
}

for (const b of presetBtns) {
  b.addEventListener('click', () => {
    preset = b.dataset.hours;
    if (preset === 'custom' && (!fromInput.value || !toInput.value)) {
      const now = Date.now();
      fromInput.value = localInputValue(now - 24 * HOUR);
      toInput.value = localInputValue(now);
    }
    renderPresets();
  });
}

/** The chosen range as epoch ms {from, to}, or {error}. */
function chosenRange() {
  if (preset !== 'custom') {
    const to = Date.now();
    return { from: to - Number(preset) * HOUR, to };
  }
  const from = parseLocalInput(fromInput.value);
  const to = parseLocalInput(toInput.value);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return { error: 'replay.badRange' };
  if (from >= to) return { error: 'replay.fromAfterTo' };
  return { from, to };
}

function setStatus(s) {
  status = s;
  renderStatus();
}

function renderStatus() {
  statusEl.hidden = !status;
  statusEl.classList.toggle('error', Boolean(status?.error));
  statusEl.textContent = status ? t(status.key, status.params) : '';
  exportStatus.hidden = !exportState;
  exportStatus.classList.toggle('error', Boolean(exportState?.error));
  exportStatus.textContent = exportState ? t(exportState.key, exportState.params) : '';
}

loadBtn.addEventListener('click', () => load());

// ------------------------------------------------------------------ loading

function trackPath(id, range, extra = '', simplify = null) {
  const q = new URLSearchParams({ from: isoBeijing(range.from), to: isoBeijing(range.to) });
  if (simplify !== null) q.set('simplify', String(simplify));
  return `/api/vessels/${encodeURIComponent(id)}/track${extra}?${q}`;
}

/** The track answer (a FeatureCollection) as {positions, stops, zones, line, t0, t1, distance}. */
function parseTrack(body) {
  if (!body || !Array.isArray(body.features)) throw new Error(t('replay.badAnswer'));
  const positions = [];
  const stops = [];
  const zones = [];
  let line = null;
  let lengthM = null; // the server's length of the whole track
  for (const f of body.features) {
    const p = f?.properties || {};
    const g = f?.geometry;
    if (p.kind === 'track' && Number.isFinite(p.length_m)) lengthM = (lengthM ?? 0) + p.length_m;
    if (p.kind === 'track' && g?.type === 'LineString' && Array.isArray(g.coordinates)) {
      line = line ? line.concat(g.coordinates) : g.coordinates.slice();
    } else if (p.kind === 'track' && g?.type === 'MultiLineString') {
      line = (line || []).concat(...g.coordinates);
    } else if (p.kind === 'position' && g?.type === 'Point') {
      const ms = Date.parse(p.time);
      if (!Number.isFinite(ms)) continue;
      positions.push({
        t: ms, time: p.time, lon: g.coordinates[0], lat: g.coordinates[1],
        speed: Number.isFinite(p.speed_kn) ? p.speed_kn : null,
        course: Number.isFinite(p.course) ? p.course : null,
        blind: p.blind === true,
      });
    } else if (p.kind === 'stop') {
      const start = Date.parse(p.start);
      const end = Date.parse(p.end);
      if (!Number.isFinite(start) || !Number.isFinite(end)) continue;
      stops.push({
        start, end, duration: Number.isFinite(p.duration_s) ? p.duration_s : (end - start) / 1000,
        lon: g?.type === 'Point' ? g.coordinates[0] : null, lat: g?.type === 'Point' ? g.coordinates[1] : null,
      });
    } else if (p.kind === 'zone_visit') {
      const enter = Date.parse(p.enter);
      const exit = Date.parse(p.exit);
      zones.push({
        layer: p.layer ?? '', layerKind: p.layer_kind ?? '', code: p.code ?? '', name: p.name ?? '',
        enter: Number.isFinite(enter) ? enter : null, exit: Number.isFinite(exit) ? exit : null,
      });
    }
  }
  positions.sort((a, b) => a.t - b.t);
  const inRange = Number.isFinite(body.points_in_range) ? body.points_in_range : positions.length;
  const simplified = Number.isFinite(body.simplify_m) && body.simplify_m > 0 ? body.simplify_m : 0;
  stops.sort((a, b) => a.start - b.start);
  zones.sort((a, b) => (a.enter ?? 0) - (b.enter ?? 0));
  if (!line || line.length < 2) line = positions.map((p) => [p.lon, p.lat]);
  let distance = 0;
  for (let i = 1; i < positions.length; i++) {
    distance += haversine([positions[i - 1].lon, positions[i - 1].lat], [positions[i].lon, positions[i].lat]);
  }
  if (lengthM !== null) distance = lengthM;
  // A course for positions without one: towards the next position.
  for (let i = 0; i < positions.length; i++) {
    if (positions[i].course !== null) continue;
    const a = positions[Math.max(0, i - 1)];
    const b = positions[Math.min(positions.length - 1, i + 1)];
    positions[i].course = a === b ? 0 : bearing([a.lon, a.lat], [b.lon, b.lat]);
  }
  return {
    positions, stops, zones, line, distance, inRange, simplified, mode: body.positions_mode ?? 'all',
    t0: positions.length ? positions[0].t : null, t1: positions.length ? positions[positions.length - 1].t : null,
  };
}

/** Load the track of the chosen vessel and range, and start its replay (paused at the start). */
export async function load() {
  if (!vessel) return;
  const range = chosenRange();
  if (range.error) {
    setStatus({ key: range.error, error: true });
    return;
  }
  const gen = ++generation;
  const v = vessel;
  pause();
  setStatus({ key: 'replay.loading' });
  loadBtn.disabled = true;
  try {
    let tr = parseTrack(await request(trackPath(v.id, range)));
    for (const m of SIMPLIFY_RETRY_M) {
      if (gen !== generation || tr.mode !== 'none') break;
      tr = parseTrack(await request(trackPath(v.id, range, '', m)));
    }
    if (gen !== generation) return;
    tr.vessel = { ...v };
    tr.from = range.from;
    tr.to = range.to;
    stats.loads++;
    if (!tr.positions.length) {
      clearTrack();
      setStatus({ key: 'replay.none', params: { range: clockRange(range.from, range.to) } });
      return;
    }
    setStatus(null);
    show(tr);
  } catch (e) {
    if (gen !== generation) return;
    if (e instanceof ApiError && e.status === 401) return;
    clearTrack();
    setStatus({ key: 'replay.failed', params: { what: e.message }, error: true });
  } finally {
    if (gen === generation) loadBtn.disabled = false;
  }
}

// ------------------------------------------------------------------ drawing

function emptyCollection() {
  return { type: 'FeatureCollection', features: [] };
}

function trackFeatures(tr) {
  const features = [];
  if (tr.line.length >= 2) {
    features.push({ type: 'Feature', properties: { role: 'track' }, geometry: { type: 'LineString', coordinates: tr.line } });
  }
  for (const p of tr.positions) {
    features.push({ type: 'Feature', properties: { role: 'pos', blind: p.blind }, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } });
  }
  for (const s of tr.stops) {
    if (s.lon === null) continue;
    features.push({ type: 'Feature', properties: { role: 'stop' }, geometry: { type: 'Point', coordinates: [s.lon, s.lat] } });
  }
  return { type: 'FeatureCollection', features };
}

/** Add the replay source and layers to the (loaded) map, under the live vessels. */
export function initReplayLayers() {
  const map = getMap();
  map.addSource(SOURCE, { type: 'geojson', data: emptyCollection() });
  const before = map.getLayer('vessels-circle') ? 'vessels-circle' : undefined;
  map.addLayer({
    id: LAYER_CASING, type: 'line', source: SOURCE, filter: ['==', ['get', 'role'], 'track'],
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': '#ffffff', 'line-width': 6, 'line-opacity': 0.85 },
  }, before);
  map.addLayer({
    id: LAYER_LINE, type: 'line', source: SOURCE, filter: ['==', ['get', 'role'], 'track'],
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': '#6c2bd9', 'line-width': 3 },
  }, before);
  map.addLayer({
    id: LAYER_POS, type: 'circle', source: SOURCE, filter: ['==', ['get', 'role'], 'pos'], minzoom: 11,
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 1.5, 16, 3.5],
      'circle-color': ['case', ['get', 'blind'], '#f4d03f', '#ffffff'],
      'circle-stroke-color': ['case', ['get', 'blind'], '#9a7d0a', '#6c2bd9'],
      'circle-stroke-width': 1.2,
    },
  }, before);
  map.addLayer({
    id: LAYER_STOP, type: 'circle', source: SOURCE, filter: ['==', ['get', 'role'], 'stop'],
    paint: { 'circle-radius': 8, 'circle-color': '#d68910', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
  }, before);
  layersReady = true;
  if (track) drawTrack(track);
}

function removeMarkers() {
  for (const m of stopMarkers) m.remove();
  stopMarkers = [];
  if (cursorMarker) cursorMarker.remove();
  cursorMarker = null;
}

function drawTrack(tr) {
  const map = getMap();
  if (!map || !layersReady) return;
  map.getSource(SOURCE)?.setData(tr ? trackFeatures(tr) : emptyCollection());
  removeMarkers();
  if (!tr) return;
  // Stop durations as labels next to the stop circles (DOM markers: the style has no glyphs).
  for (const s of tr.stops.slice(0, MAX_STOP_LABELS)) {
    if (s.lon === null) continue;
    const label = el('div', 'stop-label', formatDuration(s.duration));
    label.title = `${t('replay.stop')} ${clockRange(s.start, s.end)}`;
    stopMarkers.push(new maplibregl.Marker({ element: label, anchor: 'left', offset: [11, 0] }).setLngLat([s.lon, s.lat]).addTo(map));
  }
  const cur = el('div', 'replay-cursor');
  const NS = 'http://www.w3.org/2000/svg';
  const icon = document.createElementNS(NS, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('width', '24');
  icon.setAttribute('height', '24');
  icon.setAttribute('aria-hidden', 'true');
  const arrow = document.createElementNS(NS, 'path');
  arrow.setAttribute('d', 'M12 2l7 18-7-4-7 4z');
  icon.append(arrow);
  cur.append(icon);
  cursorMarker = new maplibregl.Marker({ element: cur, rotationAlignment: 'map' })
    .setLngLat([tr.positions[0].lon, tr.positions[0].lat])
    .addTo(map);
}

function fitTrack(tr) {
  const map = getMap();
  if (!map) return;
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const [lon, lat] of tr.line.length ? tr.line : tr.positions.map((p) => [p.lon, p.lat])) {
    w = Math.min(w, lon);
    e = Math.max(e, lon);
    s = Math.min(s, lat);
    n = Math.max(n, lat);
  }
  if (!Number.isFinite(w)) return;
  if (e - w < 1e-4 && n - s < 1e-4) map.easeTo({ center: [w, s], zoom: Math.max(map.getZoom(), 15), duration: 500 });
  else map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom: 16, duration: 500 });
}

function show(tr) {
  track = tr;
  resultEl.hidden = false;
  if (bar.hidden) {
    bar.hidden = false;
    getMap()?.resize();
  }
  exportState = null;
  renderStatus();
  renderResult();
  slider.min = '0';
  slider.max = String(Math.max(0, Math.round((tr.t1 - tr.t0) / 1000)));
  slider.step = '1';
  chart.setData({
    t0: tr.t0, t1: Math.max(tr.t1, tr.t0 + 1000),
    points: tr.positions.map((p) => ({ t: p.t, v: p.speed, blind: p.blind })),
    stops: tr.stops,
  });
  drawTrack(tr);
  setTime(tr.t0);
  fitTrack(tr);
}

function renderResult() {
  if (!track) return;
  const tr = track;
  summaryEl.textContent = t('replay.summary', {
    n: tr.positions.length, km: (tr.distance / 1000).toFixed(2), range: clockRange(tr.t0, tr.t1),
  }) + (tr.positions.length < tr.inRange ? ` ${t('replay.simplified', { m: tr.simplified, n: tr.inRange })}` : '');
  vesselEl.textContent = tr.vessel.name || `#${tr.vessel.id}`;
  stopCount.textContent = `(${tr.stops.length})`;
  zoneCount.textContent = `(${tr.zones.length})`;
  stopsEl.replaceChildren();
  tr.stops.forEach((s, i) => {
    const li = el('li', 'replay-stop');
    li.tabIndex = 0;
    li.dataset.index = String(i);
    li.append(el('span', 'stop-dur', formatDuration(s.duration)), el('span', 'muted', clockRange(s.start, s.end)));
    const go = () => {
      setTime(s.start);
      if (s.lon !== null) getMap()?.easeTo({ center: [s.lon, s.lat], duration: 400 });
    };
    li.addEventListener('click', go);
    li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') go(); });
    stopsEl.append(li);
  });
  if (!tr.stops.length) stopsEl.append(el('li', 'muted', t('replay.noStops')));
  zonesEl.replaceChildren();
  tr.zones.forEach((z, i) => {
    const li = el('li', 'replay-zone');
    li.tabIndex = 0;
    li.dataset.index = String(i);
    const head = el('span', 'zone-name');
    head.append(el('span', `kind-chip kind-${z.layerKind}`, tOr(`kind.${z.layerKind}`, z.layer)),
      ' ', el('span', null, [z.code, z.name].filter(Boolean).join(' ')));
    const when = z.enter === null ? '' : z.exit === null ? t('replay.zoneSince', { t: fmtMs(z.enter) })
      : `${clockRange(z.enter, z.exit)} · ${formatDuration((z.exit - z.enter) / 1000)}`;
    li.append(head, el('span', 'muted zone-when', when));
    const go = () => { if (z.enter !== null) setTime(Math.max(tr.t0, z.enter)); };
    li.addEventListener('click', go);
    li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') go(); });
    zonesEl.append(li);
  });
  if (!tr.zones.length) zonesEl.append(el('li', 'muted', t('replay.noZones')));
}

// ------------------------------------------------------------------ the replay itself

/** The interpolated position at MS: {lon, lat, speed, course, i}. */
function positionAt(ms) {
  const p = track.positions;
  let lo = 0;
  let hi = p.length - 1;
  if (ms <= p[0].t || hi === 0) return { ...p[0], i: 0 };
  if (ms >= p[hi].t) return { ...p[hi], i: hi };
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (p[mid].t <= ms) lo = mid;
    else hi = mid;
  }
  const a = p[lo];
  const b = p[hi];
  const f = (ms - a.t) / Math.max(1, b.t - a.t);
  const moved = a.lon !== b.lon || a.lat !== b.lat;
  return {
    lon: a.lon + (b.lon - a.lon) * f, lat: a.lat + (b.lat - a.lat) * f,
    speed: a.speed === null || b.speed === null ? a.speed ?? b.speed : a.speed + (b.speed - a.speed) * f,
    course: moved ? bearing([a.lon, a.lat], [b.lon, b.lat]) : a.course, blind: a.blind, i: lo,
  };
}

/** Move the replay to MS: slider, marker, chart cursor and readouts. */
export function setTime(ms) {
  if (!track) return;
  time = Math.min(track.t1, Math.max(track.t0, ms));
  const at = positionAt(time);
  slider.value = String(Math.round((time - track.t0) / 1000));
  timeEl.textContent = fmtMs(time);
  readoutEl.textContent = [
    Number.isFinite(at.speed) ? `${at.speed.toFixed(1)} ${t('unit.kn')}` : '',
    Number.isFinite(at.course) ? `${Math.round(at.course)}°` : '',
  ].filter(Boolean).join(' · ');
  chart.setCursor(time);
  if (cursorMarker) {
    cursorMarker.setLngLat([at.lon, at.lat]);
    cursorMarker.setRotation(at.course || 0);
  }
}

function tick(now) {
  raf = 0;
  if (!playing || !track) return;
  const dt = Math.min(1000, now - lastTick); // a hidden tab does not jump ahead
  lastTick = now;
  const next = time + dt * speed;
  setTime(next);
  if (next >= track.t1) {
    pause();
    return;
  }
  raf = requestAnimationFrame(tick);
}

export function play() {
  if (!track || playing) return;
  if (time >= track.t1) setTime(track.t0);
  playing = true;
  lastTick = performance.now();
  renderPlay();
  raf = requestAnimationFrame(tick);
}

export function pause() {
  playing = false;
  if (raf) cancelAnimationFrame(raf);
  raf = 0;
  renderPlay();
}

function renderPlay() {
  playBtn.setAttribute('aria-pressed', String(playing));
  playBtn.classList.toggle('playing', playing);
  const label = t(playing ? 'replay.pause' : 'replay.play');
  playBtn.setAttribute('aria-label', label);
  playBtn.title = label;
}

playBtn.addEventListener('click', () => (playing ? pause() : play()));
speedSel.addEventListener('change', () => {
  speed = Number(speedSel.value) || 1;
});
slider.addEventListener('input', () => {
  if (track) setTime(track.t0 + Number(slider.value) * 1000);
});
closeBtn.addEventListener('click', () => clearTrack());

/** Drop the loaded track: map, bar, results. */
export function clearTrack() {
  pause();
  track = null;
  exportState = null;
  drawTrack(null);
  if (!bar.hidden) {
    bar.hidden = true;
    getMap()?.resize();
  }
  resultEl.hidden = true;
  chart.clear();
  renderStatus();
}

// ------------------------------------------------------------------ downloads

function filenameFrom(res) {
  const cd = res.headers.get('content-disposition') || '';
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(cd);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through
    }
  }
  const plain = /filename\s*=\s*"([^"]+)"|filename\s*=\s*([^;\s]+)/i.exec(cd);
  return plain ? (plain[1] || plain[2]) : null;
}

/**
 * Fetch PATH (same origin) with the session's bearer token and save it as a file named NAME (or
 * the server's Content-Disposition name): a Blob, an object URL and a click on an <a download>.
 * Resolves to {name, size, type}.
 */
export async function downloadFile(path, name) {
  const headers = {};
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let res;
  try {
    res = await fetch(path, { headers, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, e.message, path);
  }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`.trim();
    try {
      const body = await res.json();
      if (typeof body?.error === 'string') msg = body.error;
    } catch {
      // not JSON
    }
    // A 401 means the session is over: let the API client notice it (it ends the session).
    if (res.status === 401) request('/api/layers').catch(() => {});
    throw new ApiError(res.status, msg, path);
  }
  const blob = await res.blob();
  const fileName = filenameFrom(res) || name;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name: fileName, size: blob.size, type: blob.type };
}

function safeName(s) {
  return String(s || '').replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 60) || 'vessel';
}

/** Export the loaded track as FMT ('geojson', 'kml', 'gpx', 'csv' or 'evidence'). */
export async function exportTrack(fmt) {
  if (!track || !EXPORT_FORMATS.includes(fmt)) return null;
  const tr = track;
  const range = { from: tr.from, to: tr.to };
  const extra = fmt === 'evidence' ? '/evidence.html' : `.${fmt}`;
  const path = trackPath(tr.vessel.id, range, extra);
  const name = `${fmt === 'evidence' ? 'evidence' : 'track'}-${safeName(tr.vessel.name || tr.vessel.id)}-${fileStamp(tr.from)}-${fileStamp(tr.to)}.${EXT[fmt]}`;
  exportState = { key: 'replay.exporting', params: { what: fmt === 'evidence' ? t('replay.evidence') : { geojson: 'GeoJSON', kml: 'KML', gpx: 'GPX', csv: 'CSV' }[fmt] } };
  renderStatus();
  try {
    const got = await downloadFile(path, name);
    stats.exports.push({ fmt, ...got });
    if (track === tr) exportState = { key: 'replay.exported', params: { name: got.name } };
    renderStatus();
    return got;
  } catch (e) {
    if (track === tr) exportState = { key: 'replay.exportFailed', params: { what: e.message }, error: true };
    renderStatus();
    return null;
  }
}

/** Save alert ID's evidence as FMT ('geojson', 'kml', 'gpx', 'csv', 'html'). */
export function exportAlertEvidence(id, fmt) {
  return downloadFile(`/api/alerts/${encodeURIComponent(id)}/evidence.${fmt}`, `alert-${safeName(id)}-evidence.${EXT[fmt] || fmt}`);
}

resultEl.addEventListener('click', (ev) => {
  const b = ev.target.closest('[data-export]');
  if (b) exportTrack(b.dataset.export);
});

// ------------------------------------------------------------------ lifecycle

/** The details panel now shows vessel V ({id, name, registration}) or nothing (null). */
export function setReplayVessel(v) {
  const same = v && vessel && v.id === vessel.id;
  vessel = v ? { id: v.id, name: v.name, registration: v.registration } : null;
  if (same) return;
  generation++;
  loadBtn.disabled = false;
  setStatus(null);
  clearTrack();
}

/** Forget everything (logout). */
export function stopReplay() {
  setReplayVessel(null);
  layersReady = false;
  removeMarkers();
}

onLangChange(() => {
  renderStatus();
  renderPlay();
  if (track) {
    renderResult();
    chart.redraw();
    setTime(time);
    drawTrack(track);
  }
});
renderPresets();
renderPlay();

/** For tests and diagnostics. */
export function replaySnapshot() {
  return {
    vessel: vessel?.id ?? null,
    loaded: Boolean(track),
    preset,
    status: status ? t(status.key, status.params) : null,
    from: track ? isoBeijing(track.from) : null,
    to: track ? isoBeijing(track.to) : null,
    t0: track?.t0 ?? null,
    t1: track?.t1 ?? null,
    time: track ? time : null,
    playing,
    speed,
    positions: track?.positions.length ?? 0,
    stops: track?.stops.length ?? 0,
    zones: track ? track.zones.map((z) => ({ ...z })) : [],
    slider: { value: Number(slider.value), max: Number(slider.max) },
    cursor: cursorMarker ? cursorMarker.getLngLat().toArray() : null,
    chart: chart.snapshot(),
    loads: stats.loads,
    exports: stats.exports.map((x) => ({ ...x })),
  };
}
