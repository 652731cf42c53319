// vessels.js -- the fleet: vessel records, their map layer (one GeoJSON source), hover/click popups
// and the side-panel list. Position updates are batched into one source update per animation frame.

import { getVessel } from './api.js';
import { t, tOr, formatTime, onLangChange } from './i18n.js';
import { getMap, registerClickable, addLegendSection, showPopup } from './map.js';

/* global maplibregl */

const SOURCE = 'vessels';
const CIRCLE = 'vessels-circle';
const HEADING = 'vessels-heading';
export const VESSEL_KINDS = ['sand_mining', 'sand_transport', 'other'];
const KIND_COLOUR = { sand_mining: '#d35400', sand_transport: '#1f5fbf', other: '#566573' };
const MOVING_KN = 0.5; // below this a vessel is drawn without a heading wedge

const vessels = new Map(); // id -> record {id, name, registration, kind, ..., lon, lat, time, speed_kn, course}
const dirty = new Set(); // ids whose map feature and list row need redrawing
const pending = new Map(); // id -> Promise of the details fetch for a vessel first seen live
const rows = new Map(); // id -> <li>
let frame = 0;
let hoverPopup = null;
let hoverId = null;
let positionsReceived = 0;
let layersReady = false;

const list = document.getElementById('vessel-list');
const countEl = document.getElementById('vessel-count');

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function kindOf(v) {
  return VESSEL_KINDS.includes(v.kind) ? v.kind : 'other';
}

function hasPosition(v) {
  return Number.isFinite(v.lon) && Number.isFinite(v.lat);
}

function feature(v) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
    properties: {
      vid: v.id, kind: kindOf(v), course: Number.isFinite(v.course) ? v.course : 0,
      moving: Number.isFinite(v.speed_kn) && v.speed_kn >= MOVING_KN,
    },
  };
}

/** A wedge pointing up at the top edge of a transparent square, rotated by course on the map. */
function headingImage() {
  const size = 48;
  const data = new Uint8ClampedArray(size * size * 4);
  const cx = size / 2;
  for (let y = 0; y < 18; y++) {
    const half = 1 + (y * 6) / 18; // widens from the tip downwards
    for (let x = 0; x < size; x++) {
      if (Math.abs(x + 0.5 - cx) > half) continue;
      const i = (y * size + x) * 4;
      data[i] = 30;
      data[i + 1] = 40;
      data[i + 2] = 50;
      data[i + 3] = 235;
    }
  }
  return { width: size, height: size, data };
}

/** Add the vessel source and layers to the (loaded) map, with their popups and legend rows. */
export function initVesselLayers() {
  const map = getMap();
  map.addImage('vessel-heading', headingImage());
  map.addSource(SOURCE, {
    type: 'geojson', promoteId: 'vid', data: { type: 'FeatureCollection', features: [] },
  });
  const colour = ['match', ['get', 'kind'], 'sand_mining', KIND_COLOUR.sand_mining,
    'sand_transport', KIND_COLOUR.sand_transport, KIND_COLOUR.other];
  map.addLayer({
    id: CIRCLE, type: 'circle', source: SOURCE,
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4, 14, 7],
      'circle-color': colour,
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1.5,
    },
  });
  map.addLayer({
    id: HEADING, type: 'symbol', source: SOURCE, filter: ['==', ['get', 'moving'], true],
    layout: {
      'icon-image': 'vessel-heading', 'icon-rotate': ['get', 'course'], 'icon-rotation-alignment': 'map',
      'icon-allow-overlap': true, 'icon-ignore-placement': true,
      'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.5, 14, 0.75],
    },
  });
  registerClickable(CIRCLE, (f) => openDetails(f.properties.vid));
  map.on('mousemove', CIRCLE, onHover);
  map.on('mouseleave', CIRCLE, hideHover);
  addLegendSection(vesselLegend);
  layersReady = true;
  map.getSource(SOURCE).setData({
    type: 'FeatureCollection', features: [...vessels.values()].filter(hasPosition).map(feature),
  });
}

onLangChange(() => {
  hideHover();
  for (const id of vessels.keys()) dirty.add(id);
  scheduleFlush();
});

function vesselLegend(ul) {
  const head = el('li', 'legend-subhead', t('legend.vessels'));
  ul.append(head);
  for (const kind of VESSEL_KINDS) {
    const li = el('li', 'legend-row');
    const dot = el('span', 'vessel-dot');
    dot.style.backgroundColor = KIND_COLOUR[kind];
    li.dataset.vesselKind = kind;
    li.append(dot, el('span', 'legend-name', t(`vkind.${kind}`)));
    ul.append(li);
  }
}

function idFromFeature(f) {
  const id = f.properties.vid;
  // MapLibre keeps numbers numeric, but be tolerant of string ids from the server.
  return vessels.has(id) ? id : vessels.has(Number(id)) ? Number(id) : String(id);
}

function hoverContent(v) {
  const box = el('div', 'popup-vessel-hover');
  box.append(el('div', 'popup-title vessel-name', v.name || `#${v.id}`));
  const lines = [];
  if (v.registration) lines.push(v.registration);
  if (Number.isFinite(v.speed_kn)) lines.push(`${v.speed_kn.toFixed(1)} ${t('unit.kn')}`);
  if (v.time) lines.push(`${formatTime(v.time)} (${t('time.zone')})`);
  for (const l of lines) box.append(el('div', 'muted', l));
  return box;
}

function onHover(ev) {
  const f = ev.features && ev.features[0];
  if (!f) return;
  const id = idFromFeature(f);
  const v = vessels.get(id);
  if (!v) return;
  if (!hoverPopup) {
    hoverPopup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: 'hover-popup', offset: 10 });
  }
  if (hoverId !== id || !hoverPopup.isOpen()) {
    hoverId = id;
    hoverPopup.setDOMContent(hoverContent(v));
  }
  hoverPopup.setLngLat([v.lon, v.lat]);
  if (!hoverPopup.isOpen()) hoverPopup.addTo(getMap());
}

function hideHover() {
  hoverId = null;
  if (hoverPopup) hoverPopup.remove();
}

function detailRow(table, key, value) {
  if (value === null || value === undefined || value === '') return;
  const tr = el('tr');
  tr.append(el('th', null, t(key)), el('td', null, String(value)));
  table.append(tr);
}

function openDetails(rawId) {
  const id = vessels.has(rawId) ? rawId : idFromFeature({ properties: { vid: rawId } });
  const v = vessels.get(id);
  if (!v || !hasPosition(v)) return;
  const box = el('div', 'popup-vessel');
  const head = el('div', 'popup-title');
  head.append(el('span', `kind-chip vkind-${kindOf(v)}`, t(`vkind.${kindOf(v)}`)), ' ', el('span', 'vessel-name', v.name || `#${v.id}`));
  box.append(head);
  const table = el('table', 'props');
  detailRow(table, 'field.registration', v.registration);
  detailRow(table, 'field.owner', v.owner);
  detailRow(table, 'field.terminal', v.terminal);
  detailRow(table, 'field.mmsi', v.mmsi);
  detailRow(table, 'field.status', v.status && tOr(`status.${v.status}`, v.status));
  if (Number.isFinite(v.speed_kn)) detailRow(table, 'field.speed', `${v.speed_kn.toFixed(1)} ${t('unit.kn')}`);
  if (Number.isFinite(v.course)) detailRow(table, 'field.course', `${Math.round(v.course)}°`);
  detailRow(table, 'field.position', `${v.lon.toFixed(5)}, ${v.lat.toFixed(5)}`);
  if (v.time) detailRow(table, 'field.time', `${formatTime(v.time)} (${t('time.zone')})`);
  box.append(table);
  hideHover();
  showPopup([v.lon, v.lat], box, 'vessel-popup');
}

function fromServer(raw) {
  const last = raw.last || {};
  return {
    id: raw.id, name: raw.name ?? '', registration: raw.registration ?? '', kind: raw.kind ?? 'other',
    terminal: raw.terminal ?? '', mmsi: raw.mmsi ?? '', owner: raw.owner ?? '', status: raw.status ?? '',
    lon: Number.isFinite(last.lon) ? last.lon : null, lat: Number.isFinite(last.lat) ? last.lat : null,
    time: last.time ?? null,
    speed_kn: Number.isFinite(last.speed_kn) ? last.speed_kn : null,
    course: Number.isFinite(last.course) ? last.course : null,
  };
}

/** True when a position at TIME is not older than what V already shows (补传 arrives late). */
function isNewer(v, time) {
  if (!v.time || !time) return true;
  const a = Date.parse(time);
  const b = Date.parse(v.time);
  return !(Number.isFinite(a) && Number.isFinite(b)) || a >= b;
}

/** Replace the fleet with the server's list (initial load, and a resync after a reconnect). */
export function setVessels(list) {
  for (const raw of list) {
    const next = fromServer(raw);
    const cur = vessels.get(next.id);
    if (cur && !isNewer(cur, next.time)) {
      Object.assign(cur, { ...next, lon: cur.lon, lat: cur.lat, time: cur.time, speed_kn: cur.speed_kn, course: cur.course });
    } else {
      vessels.set(next.id, next);
    }
    dirty.add(next.id);
  }
  if (layersReady) {
    getMap().getSource(SOURCE).setData({
      type: 'FeatureCollection', features: [...vessels.values()].filter(hasPosition).map(feature),
    });
  }
  scheduleFlush();
}

/** Apply one live "position" message; an unknown vessel's details are fetched once. */
export function applyPosition(msg) {
  const id = msg.vessel;
  if (id === undefined || id === null || !Number.isFinite(msg.lon) || !Number.isFinite(msg.lat)) return;
  positionsReceived++;
  const v = vessels.get(id);
  if (!v) {
    fetchUnknown(id, msg);
    return;
  }
  if (!isNewer(v, msg.time)) return;
  v.lon = msg.lon;
  v.lat = msg.lat;
  v.time = msg.time ?? v.time;
  v.speed_kn = Number.isFinite(msg.speed_kn) ? msg.speed_kn : null;
  v.course = Number.isFinite(msg.course) ? msg.course : null;
  dirty.add(id);
  scheduleFlush();
}

function fetchUnknown(id, msg) {
  // Keep the newest position seen while the details are on their way.
  let p = pending.get(id);
  if (p) {
    if (isNewer(p.latest, msg.time)) p.latest = msg;
    return;
  }
  p = { latest: msg };
  pending.set(id, p);
  getVessel(id)
    .then((raw) => fromServer(raw || { id }))
    .catch(() => fromServer({ id, kind: 'other' }))
    .then((v) => {
      pending.delete(id);
      if (vessels.has(id)) return; // a resync got there first
      v.id = id;
      vessels.set(id, v);
      positionsReceived--; // applyPosition counts it again
      applyPosition(p.latest);
      if (!hasPosition(v)) dirty.add(id);
      scheduleFlush();
    });
}

function scheduleFlush() {
  if (!frame) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  if (!dirty.size) return;
  const changed = [...dirty];
  dirty.clear();
  if (layersReady) {
    const add = [];
    for (const id of changed) {
      const v = vessels.get(id);
      if (v && hasPosition(v)) add.push(feature(v));
    }
    if (add.length) getMap().getSource(SOURCE).updateData({ add });
  }
  for (const id of changed) renderRow(id);
  countEl.textContent = `(${vessels.size})`;
  if (hoverId !== null && changed.includes(hoverId) && hoverPopup?.isOpen()) {
    const v = vessels.get(hoverId);
    hoverPopup.setLngLat([v.lon, v.lat]).setDOMContent(hoverContent(v));
  }
}

function compareRows(a, b) {
  return (a.name || '').localeCompare(b.name || '', 'zh-CN') || String(a.id).localeCompare(String(b.id));
}

function rowId(li) {
  return li.vesselId;
}

function renderRow(id) {
  const v = vessels.get(id);
  if (!v) return;
  let li = rows.get(id);
  if (!li) {
    li = el('li', 'vessel-row');
    li.dataset.vesselId = String(id);
    li.tabIndex = 0;
    const dot = el('span', 'vessel-dot');
    const main = el('span', 'vessel-main');
    main.append(el('span', 'vessel-name'), el('span', 'vessel-reg muted'));
    li.append(dot, main, el('span', 'vessel-time muted'));
    li.addEventListener('click', () => focusVessel(id));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') focusVessel(id);
    });
    // Keep the list sorted by name; the rows are in order, so insert before the first greater one.
    let before = null;
    for (const other of list.children) {
      const ov = vessels.get(rowId(other));
      if (ov && compareRows(v, ov) < 0) {
        before = other;
        break;
      }
    }
    list.insertBefore(li, before);
    li.vesselId = id;
    rows.set(id, li);
  }
  li.firstChild.style.backgroundColor = KIND_COLOUR[kindOf(v)];
  li.title = t(`vkind.${kindOf(v)}`);
  li.querySelector('.vessel-name').textContent = v.name || `#${v.id}`;
  li.querySelector('.vessel-reg').textContent = v.registration || '';
  const time = li.querySelector('.vessel-time');
  time.textContent = v.time ? formatTime(v.time, true) : t('vessels.noPosition');
  time.title = v.time ? `${formatTime(v.time)} (${t('time.zone')})` : '';
  li.classList.toggle('no-position', !hasPosition(v));
}

function focusVessel(id) {
  const v = vessels.get(id);
  if (!v || !hasPosition(v)) return;
  const map = getMap();
  map.easeTo({ center: [v.lon, v.lat], zoom: Math.max(map.getZoom(), 13), duration: 600 });
  openDetails(id);
}

/** Forget everything (logout). */
export function clearVessels() {
  if (frame) cancelAnimationFrame(frame);
  frame = 0;
  vessels.clear();
  dirty.clear();
  pending.clear();
  rows.clear();
  list.replaceChildren();
  countEl.textContent = '';
  hoverPopup = null;
  hoverId = null;
  layersReady = false;
  positionsReceived = 0;
}

/** For tests: a copy of the fleet (id -> record) and counters. */
export function vesselSnapshot() {
  const copy = new Map();
  for (const [id, v] of vessels) copy.set(id, Object.freeze({ ...v }));
  return copy;
}
export const positionCount = () => positionsReceived;

/** For tests: the vessel's position on screen (CSS pixels relative to the page), or null. */
export function screenPoint(id) {
  const v = vessels.get(id);
  const map = getMap();
  if (!v || !hasPosition(v) || !map) return null;
  const p = map.project([v.lon, v.lat]);
  const r = map.getContainer().getBoundingClientRect();
  return { x: r.left + p.x, y: r.top + p.y };
}
