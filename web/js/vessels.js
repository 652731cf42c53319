// vessels.js -- the fleet: vessel records, their map layer (one GeoJSON source drawn by circle and
// symbol layers, so thousands of vessels stay cheap), hover popups, the side-panel list (search by
// name, registration, terminal or MMSI; sort by name, state or last report; the fleet overview's
// state filter), and the details panel of one vessel (permits, open alerts, follow, track replay).
// Position updates are batched into one source update per animation frame.

import { getVessel, request, ApiError } from './api.js';
import { t, tOr, formatTime, onLangChange, lang } from './i18n.js';
import { getMap, registerClickable, addLegendSection, layerSummary } from './map.js';
import { onLive } from './live.js';
import { selectAlert } from './alerts.js';
import {
  fleetOf, fleetFilter, passesFilter, onFleetChange, onFilterChange, FLEET_STATES,
} from './fleet.js';
import { setReplayVessel, exportAlertEvidence } from './replay.js';

/* global maplibregl */

const SOURCE = 'vessels';
const CIRCLE = 'vessels-circle';
const HEADING = 'vessels-heading';
export const VESSEL_KINDS = ['sand_mining', 'sand_transport', 'other'];
const KIND_COLOUR = { sand_mining: '#d35400', sand_transport: '#1f5fbf', other: '#566573' };
const MOVING_KN = 0.5; // below this a vessel is drawn without a heading wedge
const STATE_RANK = Object.fromEntries(FLEET_STATES.map((s, i) => [s, i]));
const AGE_REFRESH_MS = 15_000;
// Live positions reach the map layer at most this often (one GeoJSON update re-tiles the layer
// in the worker), and less often while the map is being moved.
const MAP_GAP_MS = 250;
const MAP_GAP_MOVING_MS = 2000;
const BJ_MS = 8 * 3600_000;
const ORDER_GAP_MS = 1000;
const EVIDENCE_FORMATS = ['geojson', 'kml', 'gpx', 'csv', 'html'];
const FORMAT_LABEL = { geojson: 'GeoJSON', kml: 'KML', gpx: 'GPX', csv: 'CSV' };

const vessels = new Map(); // id -> record {id, name, registration, kind, ..., lon, lat, time, speed_kn, course, search}
const dirty = new Set(); // ids whose map feature and list row need redrawing
const pending = new Map(); // id -> Promise of the details fetch for a vessel first seen live
const rows = new Map(); // id -> <li>
let frame = 0;
const mapDirty = new Set(); // ids whose map feature must be updated
let mapTimer = 0;
let lastMapUpdate = 0;
let hoverPopup = null;
let hoverId = null;
let positionsReceived = 0;
let layersReady = false;
let orderDirty = true; // the list's order or filtering must be recomputed (next frame)
let timeOrderDirty = false; // new report times: re-sort by time, at most once every ORDER_GAP_MS
let lastOrder = 0;
let orderTimer = 0;
let query = ''; // the search text, lower case
let sort = { key: 'name', dir: 'asc' };
let shownIds = []; // the list's visible ids, in order
let shownIndex = new Map(); // id -> its index in shownIds
const staleRows = new Set(); // ids whose row is out of view and was not redrawn since it changed
let rowHeight = 0; // px, measured from a row (all rows have the same fixed height)
let collator = new Intl.Collator(lang(), { numeric: true });

const list = document.getElementById('vessel-list');
const countEl = document.getElementById('vessel-count');
const emptyEl = document.getElementById('vessel-empty');
const searchInput = document.getElementById('vessel-search');
const sortBtns = [...document.querySelectorAll('.vessel-sort .sort-btn')];
const fitBtn = document.getElementById('fleet-fit');

// The details panel.
const panel = document.getElementById('vessel-details');
const vdKind = document.getElementById('vd-kind');
const vdName = document.getElementById('vd-name');
const vdProps = document.getElementById('vd-props');
const vdState = document.getElementById('vd-state');
const vdPermits = document.getElementById('vd-permits');
const vdAlerts = document.getElementById('vd-alerts');
const vdAlertCount = document.getElementById('vd-alert-count');
const followBtn = document.getElementById('vd-follow');
const locateBtn = document.getElementById('vd-locate');
const closeBtn = document.getElementById('vd-close');

let detailsId = null;
let detailsGen = 0;
let permits = null; // null: loading; {error}; or a list
let openAlerts = null; // likewise
let following = false;
let ageTimer = 0;
let alertRefreshTimer = 0;

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
  const f = fleetOf(v.id);
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
    properties: {
      vid: v.id, kind: kindOf(v), course: Number.isFinite(v.course) ? v.course : 0,
      moving: Number.isFinite(v.speed_kn) && v.speed_kn >= MOVING_KN,
      state: f?.state || 'unknown', alerting: Boolean(f?.alerting),
    },
  };
}

/**
 * A small wedge pointing up, drawn with its base at the vessel's position (icon-anchor bottom) and
 * rotated there by course. Only the wedge's own pixels are in the image: thousands of them are
 * drawn every frame, and a mostly transparent square would cost as much as a full one.
 */
const WEDGE = { w: 11, h: 15 };
function headingImage() {
  const { w, h } = WEDGE;
  const data = new Uint8ClampedArray(w * h * 4);
  const cx = w / 2;
  for (let y = 0; y < h; y++) {
    const half = 0.6 + (y * (w / 2 - 0.6)) / (h - 1); // widens from the tip downwards
    for (let x = 0; x < w; x++) {
      const d = Math.abs(x + 0.5 - cx);
      if (d > half + 0.5) continue;
      const i = (y * w + x) * 4;
      data[i] = 30;
      data[i + 1] = 40;
      data[i + 2] = 50;
      data[i + 3] = Math.round(235 * Math.min(1, half + 0.5 - d)); // a soft edge
    }
  }
  return { width: w, height: h, data };
}

/** The map filter for the fleet overview's chosen state, or null for all. */
function stateFilter(f = fleetFilter()) {
  if (!f) return null;
  if (f === 'alerting') return ['==', ['get', 'alerting'], true];
  return ['==', ['get', 'state'], f];
}

function applyMapFilter() {
  const map = getMap();
  if (!map || !layersReady) return;
  const sf = stateFilter();
  map.setFilter(CIRCLE, sf);
  const moving = ['==', ['get', 'moving'], true];
  map.setFilter(HEADING, sf ? ['all', moving, sf] : moving);
}

/** Add the vessel source and layers to the (loaded) map, with their popups and legend rows. */
export function initVesselLayers() {
  const map = getMap();
  map.addImage('vessel-heading', headingImage());
  // Tiles beyond zoom 14 are cut from the zoom-14 ones (points keep ~0.1 m precision there):
  // fewer tiles to cut again on every update.
  map.addSource(SOURCE, {
    type: 'geojson', promoteId: 'vid', maxzoom: 14, data: { type: 'FeatureCollection', features: [] },
  });
  const colour = ['match', ['get', 'kind'], 'sand_mining', KIND_COLOUR.sand_mining,
    'sand_transport', KIND_COLOUR.sand_transport, KIND_COLOUR.other];
  map.addLayer({
    id: CIRCLE, type: 'circle', source: SOURCE,
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 3, 11, 4.5, 14, 7],
      'circle-color': colour,
      // Offline vessels fade; vessels with an open alert get a red ring.
      'circle-opacity': ['case', ['==', ['get', 'state'], 'offline'], 0.45, 1],
      'circle-stroke-color': ['case', ['get', 'alerting'], '#e74c3c', '#ffffff'],
      'circle-stroke-width': ['interpolate', ['linear'], ['zoom'],
        9, ['case', ['get', 'alerting'], 2, 1], 13, ['case', ['get', 'alerting'], 2.5, 1.5]],
    },
  });
  map.addLayer({
    // No headings over the whole river (unreadable there, and thousands of icons per frame).
    id: HEADING, type: 'symbol', source: SOURCE, filter: ['==', ['get', 'moving'], true], minzoom: 11,
    layout: {
      'icon-image': 'vessel-heading', 'icon-rotate': ['get', 'course'], 'icon-rotation-alignment': 'map',
      'icon-anchor': 'bottom', 'icon-offset': [0, -6],
      'icon-allow-overlap': true, 'icon-ignore-placement': true,
      'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.7, 14, 1],
    },
  });
  registerClickable(CIRCLE, (f) => openDetails(idFromFeature(f)));
  map.on('mousemove', CIRCLE, onHover);
  map.on('mouseleave', CIRCLE, hideHover);
  // Following a vessel ends when the user drags the map away.
  map.on('dragstart', () => setFollow(false));
  addLegendSection(vesselLegend);
  layersReady = true;
  applyMapFilter();
  mapDirty.clear();
  map.getSource(SOURCE).setData({
    type: 'FeatureCollection', features: [...vessels.values()].filter(hasPosition).map(feature),
  });
}

onLangChange(() => {
  collator = new Intl.Collator(lang(), { numeric: true });
  hideHover();
  renderSearchPlaceholder();
  for (const id of vessels.keys()) dirty.add(id);
  orderDirty = true;
  scheduleFlush();
  renderDetails(true);
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
  const alerting = el('li', 'legend-row');
  alerting.append(el('span', 'vessel-dot legend-alerting'), el('span', 'legend-name', t('fstate.alerting')));
  const offline = el('li', 'legend-row');
  offline.append(el('span', 'vessel-dot legend-offline'), el('span', 'legend-name', t('fstate.offline')));
  ul.append(alerting, offline);
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
  const f = fleetOf(v.id);
  if (f) lines.push(t(`fstate.${f.state}`) + (f.alerting ? ` · ${t('fstate.alerting')}` : ''));
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

function searchKey(v) {
  return [v.name, v.registration, v.terminal, v.mmsi].filter((x) => x !== null && x !== undefined && x !== '')
    .map((x) => String(x).toLowerCase()).join('\u0001');
}

function fromServer(raw) {
  const last = raw.last || {};
  const v = {
    id: raw.id, name: raw.name ?? '', registration: raw.registration ?? '', kind: raw.kind ?? 'other',
    terminal: raw.terminal ?? '', mmsi: raw.mmsi ?? '', owner: raw.owner ?? '', status: raw.status ?? '',
    lon: Number.isFinite(last.lon) ? last.lon : null, lat: Number.isFinite(last.lat) ? last.lat : null,
    time: last.time ?? null,
    speed_kn: Number.isFinite(last.speed_kn) ? last.speed_kn : null,
    course: Number.isFinite(last.course) ? last.course : null,
  };
  v.search = searchKey(v);
  v.ms = timeMs(v);
  return v;
}

/** True when a position at TIME is not older than what V already shows (补传 arrives late). */
function isNewer(v, time) {
  if (!v.time || !time) return true;
  const a = Date.parse(time);
  const b = Date.parse(v.time);
  return !(Number.isFinite(a) && Number.isFinite(b)) || a >= b;
}

/** Replace the fleet with the server's list (initial load, and a resync after a reconnect). */
export function setVessels(arr) {
  for (const raw of arr) {
    const next = fromServer(raw);
    const cur = vessels.get(next.id);
    if (cur && !isNewer(cur, next.time)) {
      Object.assign(cur, { ...next, lon: cur.lon, lat: cur.lat, time: cur.time, speed_kn: cur.speed_kn, course: cur.course });
    } else {
      vessels.set(next.id, next);
    }
    dirty.add(next.id);
  }
  orderDirty = true;
  if (layersReady) {
    mapDirty.clear();
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
  v.ms = timeMs(v);
  v.speed_kn = Number.isFinite(msg.speed_kn) ? msg.speed_kn : null;
  v.course = Number.isFinite(msg.course) ? msg.course : null;
  dirty.add(id);
  // Sorted by last report: the order changes, but the list is re-sorted at most once a second.
  if (sort.key === 'time') timeOrderDirty = true;
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
      orderDirty = true;
      positionsReceived--; // applyPosition counts it again
      applyPosition(p.latest);
      if (!hasPosition(v)) dirty.add(id);
      scheduleFlush();
    });
}

function scheduleFlush() {
  if (!frame) frame = requestAnimationFrame(flush);
}

function scheduleMapUpdate() {
  if (mapTimer || !mapDirty.size || !layersReady) return;
  const map = getMap();
  const gap = map && map.isMoving() ? MAP_GAP_MOVING_MS : MAP_GAP_MS;
  mapTimer = setTimeout(updateMap, Math.max(0, gap - (performance.now() - lastMapUpdate)));
}

/** Send the changed vessels to the map layer in one GeoJSON update. */
function updateMap() {
  mapTimer = 0;
  const map = getMap();
  if (!map || !layersReady) return;
  lastMapUpdate = performance.now();
  const add = [];
  for (const id of mapDirty) {
    const v = vessels.get(id);
    if (v && hasPosition(v)) add.push(feature(v));
  }
  mapDirty.clear();
  if (add.length) map.getSource(SOURCE).updateData({ add });
}

function flush() {
  frame = 0;
  if (timeOrderDirty && !orderDirty) {
    const wait = ORDER_GAP_MS - (performance.now() - lastOrder);
    if (wait <= 0) orderDirty = true;
    else if (!orderTimer) {
      orderTimer = setTimeout(() => {
        orderTimer = 0;
        scheduleFlush();
      }, wait);
    }
  }
  if (!dirty.size && !orderDirty) return;
  const changed = [...dirty];
  dirty.clear();
  for (const id of changed) mapDirty.add(id);
  scheduleMapUpdate();
  renderRows(changed);
  if (orderDirty) renderOrder();
  if (hoverId !== null && changed.includes(hoverId) && hoverPopup?.isOpen()) {
    const v = vessels.get(hoverId);
    hoverPopup.setLngLat([v.lon, v.lat]).setDOMContent(hoverContent(v));
  }
  if (detailsId !== null && changed.includes(detailsId)) {
    renderDetails();
    if (following) followNow(false);
  }
}

// ------------------------------------------------------------------ the list

function compareName(a, b) {
  return collator.compare(a.name || '', b.name || '') || String(a.id).localeCompare(String(b.id), 'en', { numeric: true });
}

function timeMs(v) {
  const ms = v.time ? Date.parse(v.time) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

function stateRank(v) {
  const f = fleetOf(v.id);
  // Vessels with an open alert come first, then by state.
  return (f?.alerting ? 0 : 100) + (STATE_RANK[f?.state || 'unknown'] ?? 99);
}

function comparator() {
  const sign = sort.dir === 'desc' ? -1 : 1;
  if (sort.key === 'time') {
    return (a, b) => {
      const ta = a.ms;
      const tb = b.ms;
      // Vessels that never reported go last either way.
      if (ta === null || tb === null) return (ta === null) - (tb === null) || compareName(a, b);
      return sign * (ta - tb) || compareName(a, b);
    };
  }
  if (sort.key === 'state') return (a, b) => sign * (stateRank(a) - stateRank(b)) || compareName(a, b);
  return (a, b) => sign * compareName(a, b);
}

function matchesQuery(v) {
  return !query || v.search.includes(query);
}

function visible(v) {
  return matchesQuery(v) && passesFilter(fleetOf(v.id));
}

/** Put the rows in the chosen order, show only those passing the search and the state filter. */
function renderOrder() {
  orderDirty = false;
  timeOrderDirty = false;
  lastOrder = performance.now();
  const all = [...vessels.values()].sort(comparator());
  const shown = [];
  let at = list.firstChild;
  for (const v of all) {
    const li = rows.get(v.id);
    if (!li) continue;
    const show = visible(v);
    if (li.hidden === show) li.hidden = !show;
    if (show) shown.push(v.id);
    // Move only the rows out of place.
    if (li === at) at = at.nextSibling;
    else list.insertBefore(li, at);
  }
  shownIds = shown;
  shownIndex = new Map(shown.map((id, i) => [id, i]));
  renderStaleInView();
  const filtered = query || fleetFilter();
  countEl.textContent = filtered ? `(${shown.length}/${vessels.size})` : `(${vessels.size})`;
  emptyEl.hidden = shown.length > 0 || vessels.size === 0;
}

/**
 * The list's time of V: like formatTime (Beijing time, today's as "HH:MM:SS"), but from the cached
 * epoch ms by slicing an ISO string (thousands of rows are updated every second).
 */
function rowTime(v, short) {
  const s = new Date(v.ms + BJ_MS).toISOString();
  const full = `${s.slice(0, 10)} ${s.slice(11, 19)}`;
  if (!short) return full;
  const today = new Date(Date.now() + BJ_MS).toISOString().slice(0, 10);
  return s.slice(0, 10) === today ? full.slice(11) : full;
}

/** The range [first, last] of shownIds indices the list's scroll view shows (with a margin). */
function viewRange() {
  if (!rowHeight) {
    const any = list.querySelector('.vessel-row:not([hidden])');
    if (!any) return [0, -1];
    rowHeight = any.getBoundingClientRect().height || 0;
    if (!rowHeight) return [0, shownIds.length - 1];
  }
  const top = list.scrollTop;
  const h = list.clientHeight;
  return [Math.max(0, Math.floor(top / rowHeight) - 10), Math.ceil((top + h) / rowHeight) + 10];
}

/**
 * Redraw the rows of IDS that are in view (or new); the others only get marked stale and are
 * redrawn when scrolled into view: thousands of rows change every second, a few dozen are seen.
 */
function renderRows(ids) {
  const [first, last] = viewRange();
  for (const id of ids) {
    const i = shownIndex.get(id);
    if (!rows.has(id) || (i !== undefined && i >= first && i <= last)) {
      renderRow(id);
      staleRows.delete(id);
    } else {
      staleRows.add(id);
    }
  }
}

function renderStaleInView() {
  if (!staleRows.size) return;
  const [first, last] = viewRange();
  for (let i = first; i <= last && i < shownIds.length; i++) {
    const id = shownIds[i];
    if (staleRows.has(id)) {
      staleRows.delete(id);
      renderRow(id);
    }
  }
}

list.addEventListener('scroll', () => renderStaleInView(), { passive: true });
new ResizeObserver(() => {
  rowHeight = 0;
  renderStaleInView();
}).observe(list);

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
    li.append(dot, main, el('span', 'state-badge vessel-state'), el('span', 'vessel-time muted'));
    li.addEventListener('click', () => focusVessel(id));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') focusVessel(id);
    });
    list.append(li);
    li.vesselId = id;
    rows.set(id, li);
    orderDirty = true;
  }
  li.firstChild.style.backgroundColor = KIND_COLOUR[kindOf(v)];
  li.title = t(`vkind.${kindOf(v)}`);
  li.querySelector('.vessel-name').textContent = v.name || `#${v.id}`;
  li.querySelector('.vessel-reg').textContent = v.registration || '';
  const f = fleetOf(id);
  const badge = li.querySelector('.vessel-state');
  const state = f?.state || 'unknown';
  badge.dataset.state = state;
  badge.classList.toggle('alerting', Boolean(f?.alerting));
  badge.textContent = f ? t(`fstate.${state}`) : '';
  badge.title = f?.alerting ? t('fstate.alerting') : '';
  const time = li.querySelector('.vessel-time');
  const known = v.ms !== null && v.ms !== undefined;
  time.textContent = known ? rowTime(v, true) : v.time ? formatTime(v.time, true) : t('vessels.noPosition');
  time.title = known ? `${rowTime(v, false)} (${t('time.zone')})` : v.time ? `${formatTime(v.time)} (${t('time.zone')})` : '';
  li.classList.toggle('no-position', !hasPosition(v));
  li.classList.toggle('selected', id === detailsId);
}

function focusVessel(id) {
  const v = vessels.get(id);
  if (!v) return;
  if (hasPosition(v)) {
    const map = getMap();
    map.easeTo({ center: [v.lon, v.lat], zoom: Math.max(map.getZoom(), 13), duration: 600 });
  }
  openDetails(id);
}

function renderSearchPlaceholder() {
  searchInput.placeholder = t('vessels.search');
  searchInput.setAttribute('aria-label', t('vessels.search'));
}

searchInput.addEventListener('input', () => {
  query = searchInput.value.trim().toLowerCase();
  orderDirty = true;
  scheduleFlush();
});
searchInput.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    // Enter opens the first match.
    if (orderDirty) renderOrder();
    if (shownIds.length) focusVessel(shownIds[0]);
  } else if (ev.key === 'Escape') {
    searchInput.value = '';
    query = '';
    orderDirty = true;
    scheduleFlush();
  }
});

function renderSortButtons() {
  for (const b of sortBtns) {
    const on = b.dataset.sort === sort.key;
    b.setAttribute('aria-pressed', String(on));
    if (on) b.dataset.dir = sort.dir;
  }
}

/** Sort the list by KEY ('name', 'state' or 'time'); DIR 'asc' or 'desc' (default: toggle or natural). */
export function setSort(key, dir) {
  if (!['name', 'state', 'time'].includes(key)) return;
  const natural = key === 'time' ? 'desc' : 'asc';
  const next = dir || (sort.key === key ? (sort.dir === 'asc' ? 'desc' : 'asc') : natural);
  sort = { key, dir: next };
  renderSortButtons();
  orderDirty = true;
  scheduleFlush();
}

for (const b of sortBtns) b.addEventListener('click', () => setSort(b.dataset.sort));

onFleetChange((changedIds) => {
  for (const id of changedIds) if (vessels.has(id)) dirty.add(id);
  if (sort.key === 'state' || fleetFilter()) orderDirty = true;
  scheduleFlush();
  if (detailsId !== null && changedIds.has(detailsId)) renderDetails();
});

onFilterChange(() => {
  applyMapFilter();
  orderDirty = true;
  scheduleFlush();
});

/** The vessels of the chosen group (state filter and search), with a position. */
function groupWithPositions() {
  return [...vessels.values()].filter((v) => hasPosition(v) && visible(v));
}

/** Fit the map to the vessels of the chosen group; returns how many there are. */
export function fitToGroup() {
  const map = getMap();
  const group = groupWithPositions();
  if (!map || !group.length) return 0;
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const v of group) {
    w = Math.min(w, v.lon);
    e = Math.max(e, v.lon);
    s = Math.min(s, v.lat);
    n = Math.max(n, v.lat);
  }
  if (e - w < 1e-4 && n - s < 1e-4) map.easeTo({ center: [w, s], zoom: Math.max(map.getZoom(), 15), duration: 600 });
  else map.fitBounds([[w, s], [e, n]], { padding: 50, maxZoom: 16, duration: 600 });
  return group.length;
}

fitBtn.addEventListener('click', () => fitToGroup());

// ------------------------------------------------------------------ the details panel

function detailRow(key, value, className) {
  if (value === null || value === undefined || value === '') return;
  const tr = el('tr', className);
  tr.append(el('th', null, t(key)), el('td', null, String(value)));
  vdProps.append(tr);
}

/** "3 分钟前" / "3 min ago" for ISO. */
function ageText(iso) {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return t('age.s', { n: s });
  if (s < 3600) return t('age.m', { n: Math.floor(s / 60) });
  if (s < 86400) return t('age.h', { n: Math.floor(s / 3600) });
  return t('age.d', { n: Math.floor(s / 86400) });
}

/** A zone "layer/code" as "layer title · code". */
function zoneLabel(layer, code) {
  const info = layerSummary().find((l) => l.name === layer);
  return [info?.title || layer, code].filter(Boolean).join(' · ');
}

function zoneOfSubject(subject) {
  if (!subject) return '';
  const slash = subject.indexOf('/');
  return slash < 0 ? subject : zoneLabel(subject.slice(0, slash), subject.slice(slash + 1));
}

/** Redraw the details panel's vessel data; with ALL, its permits and open alerts too. */
function renderDetails(all = false) {
  if (detailsId === null) return;
  const v = vessels.get(detailsId);
  if (!v) return;
  panel.dataset.vesselId = String(v.id);
  vdKind.className = `kind-chip vkind-${kindOf(v)}`;
  vdKind.textContent = t(`vkind.${kindOf(v)}`);
  vdName.textContent = v.name || `#${v.id}`;
  const f = fleetOf(v.id);
  const state = f?.state || 'unknown';
  vdState.dataset.state = state;
  vdState.classList.toggle('alerting', Boolean(f?.alerting));
  vdState.textContent = f ? t(`fstate.${state}`) + (f.alerting ? ` · ${t('fstate.alerting')}` : '') : '';
  vdState.hidden = !f;
  vdProps.replaceChildren();
  detailRow('field.registration', v.registration);
  detailRow('field.kind', t(`vkind.${kindOf(v)}`));
  detailRow('field.owner', v.owner, 'vd-owner');
  detailRow('field.status', v.status && tOr(`status.${v.status}`, v.status), 'vd-status');
  if (f) {
    const parts = [t(`fstate.${state}`)];
    if (f.zone) parts.push(zoneOfSubject(f.zone));
    if (f.since) parts.push(t('vd.since', { t: formatTime(f.since, true) }));
    detailRow('vd.state', parts.join(' · '), 'vd-fleet-state');
  }
  detailRow('field.terminal', v.terminal, 'vd-terminal');
  detailRow('field.mmsi', v.mmsi, 'vd-mmsi');
  // The terminal's health: reporting, offline (the rules engine's word), or never heard from.
  const health = !v.time ? t('vd.neverReported') : state === 'offline' ? t('vd.terminalOffline') : t('vd.terminalOnline');
  detailRow('vd.terminalHealth', health, 'vd-health');
  if (v.time) detailRow('field.time', `${formatTime(v.time)} (${t('time.zone')}) · ${ageText(v.time)}`, 'vd-last');
  if (Number.isFinite(v.speed_kn)) detailRow('field.speed', `${v.speed_kn.toFixed(1)} ${t('unit.kn')}`);
  if (Number.isFinite(v.course)) detailRow('field.course', `${Math.round(v.course)}°`);
  if (hasPosition(v)) detailRow('field.position', `${v.lon.toFixed(5)}, ${v.lat.toFixed(5)}`);
  locateBtn.disabled = !hasPosition(v);
  followBtn.disabled = !hasPosition(v);
  renderFollow();
  if (all) {
    renderPermits();
    renderAlerts();
  }
}

function renderPermits() {
  vdPermits.replaceChildren();
  if (permits === null) {
    vdPermits.append(el('li', 'muted', t('vd.loading')));
    return;
  }
  if (permits.error) {
    vdPermits.append(el('li', 'error', t('vd.loadFailed', { what: permits.error })));
    return;
  }
  if (!permits.length) {
    vdPermits.append(el('li', 'muted vd-no-permit', t('vd.noPermit')));
    return;
  }
  for (const p of permits) {
    const li = el('li', 'vd-permit');
    li.dataset.permitId = String(p.id);
    const head = el('div', 'vd-permit-head');
    const valid = p.valid_now === true;
    head.append(el('span', 'vd-permit-number', p.number || `#${p.id}`),
      el('span', `validity ${valid ? 'valid' : 'invalid'}`, t(valid ? 'vd.validNow' : 'vd.notValidNow')));
    li.append(head);
    const dl = el('div', 'vd-permit-body muted');
    dl.append(el('div', 'vd-permit-zone', `${t('vd.zone')}: ${zoneLabel(p.zone_layer, p.zone_code)}`));
    dl.append(el('div', 'vd-permit-hours', `${t('vd.hours')}: ${p.hours ? p.hours : t('vd.allDay')}`));
    dl.append(el('div', 'vd-permit-valid', `${t('vd.validity')}: ${p.valid_from ?? '?'} – ${p.valid_to ?? '?'}`));
    li.append(dl);
    vdPermits.append(li);
  }
}

function renderAlerts() {
  vdAlerts.replaceChildren();
  vdAlertCount.textContent = Array.isArray(openAlerts) ? `(${openAlerts.length})` : '';
  if (openAlerts === null) {
    vdAlerts.append(el('li', 'muted', t('vd.loading')));
    return;
  }
  if (openAlerts.error) {
    vdAlerts.append(el('li', 'error', t('vd.loadFailed', { what: openAlerts.error })));
    return;
  }
  if (!openAlerts.length) {
    vdAlerts.append(el('li', 'muted', t('vd.noAlerts')));
    return;
  }
  for (const a of openAlerts) {
    const li = el('li', `vd-alert sev-${a.severity ?? 2}`);
    li.dataset.alertId = String(a.id);
    const link = el('button', 'link-btn vd-alert-link');
    link.type = 'button';
    link.append(el('span', 'vd-alert-kind', tOr(`alertkind.${a.kind}`, a.kind)), ' ',
      el('span', 'muted', [zoneOfSubject(a.subject), formatTime(a.time || a.opened, true), tOr(`alertstate.${a.state}`, a.state)]
        .filter(Boolean).join(' · ')));
    link.title = t('vd.showAlert');
    link.addEventListener('click', () => showAlert(a.id));
    const ev = el('div', 'vd-alert-evidence');
    ev.append(el('span', 'muted', `${t('vd.evidence')}:`));
    for (const fmt of EVIDENCE_FORMATS) {
      const b = el('button', 'link-btn', fmt === 'html' ? t('replay.evidence') : FORMAT_LABEL[fmt]);
      b.type = 'button';
      b.dataset.evidence = fmt;
      b.addEventListener('click', () => {
        b.disabled = true;
        exportAlertEvidence(a.id, fmt).catch((e) => console.warn(`evidence ${a.id}.${fmt}: ${e.message}`))
          .finally(() => { b.disabled = false; });
      });
      ev.append(b);
    }
    li.append(link, ev);
    vdAlerts.append(li);
  }
}

/** Show alert ID in the alert panel (its row scrolled into view) and on the map. */
function showAlert(id) {
  selectAlert(id);
  const row = document.querySelector(`#alert-list [data-alert-id="${CSS.escape(String(id))}"]`);
  if (row) row.scrollIntoView({ block: 'nearest' });
}

async function loadPermits(id, gen) {
  try {
    const body = await request(`/api/permits?vessel=${encodeURIComponent(id)}`);
    if (gen !== detailsGen) return;
    const arr = Array.isArray(body) ? body : Array.isArray(body?.permits) ? body.permits : [];
    // Filtered here too, in case the server ignores the filter.
    permits = arr.filter((p) => p && String(p.vessel) === String(id));
  } catch (e) {
    if (gen !== detailsGen || (e instanceof ApiError && e.status === 401)) return;
    permits = { error: e.message };
  }
  renderPermits();
}

async function loadAlerts(id, gen) {
  try {
    const body = await request(`/api/alerts?vessel=${encodeURIComponent(id)}&status=active&limit=100`);
    if (gen !== detailsGen) return;
    const arr = Array.isArray(body?.alerts) ? body.alerts : [];
    openAlerts = arr.filter((a) => a && String(a.vessel) === String(id) && a.state !== 'closed');
  } catch (e) {
    if (gen !== detailsGen || (e instanceof ApiError && e.status === 401)) return;
    openAlerts = { error: e.message };
  }
  renderAlerts();
}

// An alert event of the shown vessel: its open alerts may have changed.
onLive('alert', (msg) => {
  if (detailsId === null || String(msg.vessel) !== String(detailsId) || alertRefreshTimer) return;
  alertRefreshTimer = setTimeout(() => {
    alertRefreshTimer = 0;
    if (detailsId !== null) loadAlerts(detailsId, detailsGen);
  }, 500);
});

/** Open the details panel of vessel ID. */
export function openDetails(rawId) {
  const id = vessels.has(rawId) ? rawId : idFromFeature({ properties: { vid: rawId } });
  const v = vessels.get(id);
  if (!v) return;
  hideHover();
  const prev = detailsId;
  if (prev !== id) {
    if (following) setFollow(false);
    detailsId = id;
    detailsGen++;
    permits = null;
    openAlerts = null;
    if (prev !== null) rows.get(prev)?.classList.remove('selected');
    rows.get(id)?.classList.add('selected');
    loadPermits(id, detailsGen);
    loadAlerts(id, detailsGen);
  }
  if (panel.hidden) {
    panel.hidden = false;
    // The map narrows: resize it now, so screen positions are right at once (not a frame later).
    getMap()?.resize();
  }
  setReplayVessel(v);
  renderDetails(true);
  clearInterval(ageTimer);
  ageTimer = setInterval(() => renderDetails(), AGE_REFRESH_MS);
}

/** Close the details panel (and the replay of its vessel). */
export function closeDetails() {
  if (detailsId !== null) rows.get(detailsId)?.classList.remove('selected');
  setFollow(false);
  detailsId = null;
  detailsGen++;
  if (!panel.hidden) {
    panel.hidden = true;
    getMap()?.resize();
  }
  clearInterval(ageTimer);
  ageTimer = 0;
  setReplayVessel(null);
}

closeBtn.addEventListener('click', () => closeDetails());
locateBtn.addEventListener('click', () => {
  const v = vessels.get(detailsId);
  const map = getMap();
  if (v && hasPosition(v) && map) map.easeTo({ center: [v.lon, v.lat], zoom: Math.max(map.getZoom(), 14), duration: 500 });
});

function renderFollow() {
  followBtn.setAttribute('aria-pressed', String(following));
  followBtn.textContent = t(following ? 'vd.following' : 'vd.follow');
  followBtn.title = t('vd.followTitle');
}

function followNow(first) {
  const v = vessels.get(detailsId);
  const map = getMap();
  if (!v || !hasPosition(v) || !map) return;
  if (first) map.easeTo({ center: [v.lon, v.lat], zoom: Math.max(map.getZoom(), 14), duration: 500 });
  else map.easeTo({ center: [v.lon, v.lat], duration: 400 });
}

/** Keep the map centred on the shown vessel as its positions arrive (ON), or stop. */
export function setFollow(on) {
  const next = Boolean(on) && detailsId !== null;
  if (next === following) return;
  following = next;
  renderFollow();
  if (following) followNow(true);
}

followBtn.addEventListener('click', () => setFollow(!following));

// ------------------------------------------------------------------ lifecycle and tests

/** Forget everything (logout). */
export function clearVessels() {
  if (frame) cancelAnimationFrame(frame);
  frame = 0;
  clearTimeout(orderTimer);
  orderTimer = 0;
  clearTimeout(mapTimer);
  mapTimer = 0;
  mapDirty.clear();
  closeDetails();
  vessels.clear();
  dirty.clear();
  pending.clear();
  rows.clear();
  list.replaceChildren();
  countEl.textContent = '';
  emptyEl.hidden = true;
  hoverPopup = null;
  hoverId = null;
  layersReady = false;
  positionsReceived = 0;
  shownIds = [];
  shownIndex = new Map();
  staleRows.clear();
  orderDirty = true;
}

/** For tests: a copy of the fleet (id -> record) and counters. */
export function vesselSnapshot() {
  const copy = new Map();
  for (const [id, v] of vessels) {
    const { search, ms, ...rest } = v;
    copy.set(id, Object.freeze(rest));
  }
  return copy;
}
export const positionCount = () => positionsReceived;

/** For tests: the list (visible ids in order), search, sort, and the details panel. */
export function listSnapshot() {
  if (orderDirty || timeOrderDirty) renderOrder();
  return {
    shown: shownIds.slice(),
    total: vessels.size,
    query,
    sort: { ...sort },
    details: detailsId,
    following,
    permits: Array.isArray(permits) ? permits.map((p) => ({ ...p })) : permits,
    openAlerts: Array.isArray(openAlerts) ? openAlerts.map((a) => a.id) : openAlerts,
  };
}

/** For tests: the vessels drawn in the viewport, counted by fleet state (and 'alerting'). */
export function renderedVessels() {
  const map = getMap();
  const out = { total: 0, alerting: 0, states: {} };
  if (!map || !layersReady) return out;
  const seen = new Set();
  for (const f of map.queryRenderedFeatures({ layers: [CIRCLE] })) {
    const id = f.properties.vid;
    if (seen.has(id)) continue;
    seen.add(id);
    out.total++;
    out.states[f.properties.state] = (out.states[f.properties.state] || 0) + 1;
    if (f.properties.alerting) out.alerting++;
  }
  return out;
}

/** For tests: the vessel's position on screen (CSS pixels relative to the page), or null. */
export function screenPoint(id) {
  const v = vessels.get(id);
  const map = getMap();
  if (!v || !hasPosition(v) || !map) return null;
  const p = map.project([v.lon, v.lat]);
  const r = map.getContainer().getBoundingClientRect();
  return { x: r.left + p.x, y: r.top + p.y };
}

renderSearchPlaceholder();
renderSortButtons();
renderFollow();
