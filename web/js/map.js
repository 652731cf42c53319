// map.js -- the MapLibre map: style built in code, the GIS layers drawn by kind from the server's
// vector tiles (one source per layer), legend, zone popups, and live refresh of new layer versions.

import { request, token, getLayers } from './api.js';
import { t, tOr, onLangChange } from './i18n.js';
import { onLive, onLiveReconnect } from './live.js';

/* global maplibregl */

// Draw order, bottom to top, and colours of each layer kind.
const KINDS = ['river', 'function_zone', 'shoreline_project', 'protection', 'no_mining', 'mining_zone', 'parking'];
const KIND_STYLE = {
  river: { fill: '#a9d3f0', fillOpacity: 0.85, line: '#2b7bb9', lineWidth: 2, outline: '#7fb6de' },
  mining_zone: { fill: '#3cb44b', fillOpacity: 0.28, line: '#23803a', lineWidth: 1.6 },
  parking: { fill: '#8e44ad', fillOpacity: 0.3, line: '#6c3483', lineWidth: 1.6 },
  no_mining: { fill: '#d62728', fillOpacity: 0.25, line: '#c0392b', lineWidth: 1.6, pattern: 'hatch-red' },
  protection: { fill: '#f39c12', fillOpacity: 0.28, line: '#d68910', lineWidth: 1.6 },
  shoreline_project: { fill: '#7f8c8d', fillOpacity: 0.3, line: '#5d6d7e', lineWidth: 1.2 },
  function_zone: { fill: '#aab7b8', fillOpacity: 0.15, line: '#839192', lineWidth: 1, dash: [3, 2] },
};
const BACKGROUND = '#eef3f6';
const ZONES_TOP = 'zones-top';

let map = null;
let loaded = false;
let popup = null;
let fitToLayers = false; // the config has no center: fit the view to the layers' bounds
const layerInfo = new Map(); // source id -> {name, kind, title, version, features, bounds, styleIds, result}
const clickables = new Map(); // style layer id -> fn(feature, lngLat)
const kindsPresent = new Set();
const hiddenKinds = new Set();
const legendExtras = []; // fn(ul) appending more legend rows (the vessel kinds)

onLangChange(() => {
  if (popup) popup.remove();
  if (map) renderLegend();
});

/** The MapLibre map, or null before createMap(). */
export const getMap = () => map;
export const isMapLoaded = () => loaded;

function buildStyle(config) {
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } }],
  };
  if (config && typeof config.basemap === 'string' && config.basemap) {
    style.sources.basemap = {
      type: 'raster', tiles: [config.basemap], tileSize: 256, maxzoom: 19,
      attribution: typeof config.basemap_attribution === 'string' ? config.basemap_attribution : undefined,
    };
    style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.9 } });
  }
  // An invisible layer marking the top of the zone layers; vessels go above it.
  style.layers.push({ id: ZONES_TOP, type: 'background', layout: { visibility: 'none' }, paint: {} });
  return style;
}

/** A small diagonal red hatch as an RGBA image, for no-mining zones (fill-pattern). */
function hatchImage(rgb, alphaBg, alphaLine) {
  const size = 12;
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = (x + y) % size < 2; // a 2-pixel stripe that tiles seamlessly
      const i = (y * size + x) * 4;
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
      data[i + 3] = Math.round(255 * (on ? alphaLine : alphaBg));
    }
  }
  return { width: size, height: size, data };
}

/**
 * Create the map in #map from CONFIG ({basemap, center, zoom}); resolves once the style is loaded.
 */
export function createMap(config) {
  const hasCenter = Array.isArray(config?.center) && config.center.length === 2;
  const center = hasCenter ? config.center : [117.18, 29.3];
  const zoom = Number.isFinite(config?.zoom) ? config.zoom : 12;
  fitToLayers = !hasCenter;
  map = new maplibregl.Map({
    container: 'map',
    style: buildStyle(config),
    center,
    zoom,
    maxZoom: 19,
    transformRequest: authorizeTiles,
    dragRotate: false,
    pitchWithRotate: false,
    attributionControl: { compact: true, customAttribution: config?.attribution || undefined },
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('click', onClick);
  map.on('mousemove', onMouseMove);
  return new Promise((resolve, reject) => {
    map.once('load', () => {
      map.addImage('hatch-red', hatchImage([214, 39, 40], 0.12, 0.7));
      loaded = true;
      resolve(map);
    });
    // Without a listener MapLibre logs every error itself; after the start, errors are tiles
    // that failed (e.g. an unreachable basemap), which must not flood the console.
    map.on('error', (e) => {
      if (!loaded) reject(e.error || new Error('map error'));
      else console.warn(`map: ${e.error?.message || 'error'}`);
    });
  });
}

/** The URL prefix of this server's vector tiles (same origin only). */
const tilesPrefix = () => `${location.origin}/tiles/`;

/**
 * MapLibre's transformRequest: the bearer token goes with requests for our own tiles and
 * TileJSON, never with anything else (an external basemap must not see it).
 */
function authorizeTiles(url) {
  const tok = token();
  if (tok && typeof url === 'string' && url.startsWith(`${location.origin}/`) && url.includes('/tiles/')) {
    return { url, headers: { Authorization: `Bearer ${tok}` } };
  }
  return undefined;
}

/** The tile URL template of layer NAME; VERSION busts the browser's tile cache on a new version. */
function tileUrl(name, version) {
  const v = Number.isInteger(version) ? `?v=${version}` : '';
  return `${tilesPrefix()}${encodeURIComponent(name)}/{z}/{x}/{y}.mvt${v}`;
}

/** The layer's TileJSON (bounds, zoom range, fields), with the session's token. */
const getTileJson = (name) => request(`/tiles/${encodeURIComponent(name)}.json`);

/** Destroy the map (logout). */
export function destroyMap() {
  if (popup) popup.remove();
  popup = null;
  if (map) map.remove();
  map = null;
  loaded = false;
  layerInfo.clear();
  layerQueue = Promise.resolve();
  clickables.clear();
  kindsPresent.clear();
  legendExtras.length = 0;
  document.getElementById('legend').replaceChildren();
}

/** Run FN(feature, lngLat) when STYLE_LAYER_ID is the top-most clicked layer. */
export function registerClickable(styleLayerId, fn) {
  clickables.set(styleLayerId, fn);
}

/** Add a legend section drawn by FN(ul); redrawn on language change. */
export function addLegendSection(fn) {
  legendExtras.push(fn);
  renderLegend();
}

function queryBox(point, r) {
  return [[point.x - r, point.y - r], [point.x + r, point.y + r]];
}

function clickableIds() {
  return [...clickables.keys()].filter((id) => map.getLayer(id));
}

function onMouseMove(ev) {
  const ids = clickableIds();
  const hit = ids.length ? map.queryRenderedFeatures(queryBox(ev.point, 3), { layers: ids }) : [];
  map.getCanvas().style.cursor = hit.length ? 'pointer' : '';
}

function onClick(ev) {
  const ids = clickableIds();
  if (!ids.length) return;
  const hits = map.queryRenderedFeatures(queryBox(ev.point, 4), { layers: ids });
  if (!hits.length) return;
  const top = hits[0];
  clickables.get(top.layer.id)(top, ev.lngLat);
}

/** Show a sticky popup with CONTENT (a DOM node) at LNGLAT, replacing the previous one. */
export function showPopup(lngLat, content, className) {
  if (popup) popup.remove();
  popup = new maplibregl.Popup({ closeButton: true, maxWidth: '340px', className })
    .setLngLat(lngLat)
    .setDOMContent(content)
    .addTo(map);
  return popup;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function propertyValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const NAME_KEYS = ['名称', '项目名称', 'name', 'NAME', 'Name', 'code'];

function zonePopup(info, feature, lngLat) {
  const props = feature.properties || {};
  const box = el('div', 'popup-zone');
  const head = el('div', 'popup-title');
  const nameKey = NAME_KEYS.find((k) => props[k] !== undefined && props[k] !== null && props[k] !== '');
  head.append(el('span', `kind-chip kind-${info.kind}`, tOr(`kind.${info.kind}`, info.kind)), ' ',
    el('span', null, nameKey ? String(props[nameKey]) : info.title || info.name));
  box.append(head);
  box.append(el('div', 'muted popup-layer', `${t('field.layer')}: ${info.title || info.name}`));
  const table = el('table', 'props');
  // MapLibre hands nested values over as JSON strings; show them as they are.
  for (const [k, v] of Object.entries(props)) {
    const tr = el('tr');
    tr.append(el('th', null, k), el('td', null, propertyValue(v)));
    table.append(tr);
  }
  if (!table.childElementCount) table.append(el('tr')).append(el('td', 'muted', '—'));
  box.append(table);
  showPopup(lngLat, box, 'zone-popup');
}

function styleLayersFor(src, sourceLayer, kind) {
  const s = KIND_STYLE[kind] || KIND_STYLE.shoreline_project;
  const polygon = ['==', '$type', 'Polygon'];
  const line = ['==', '$type', 'LineString'];
  const point = ['==', '$type', 'Point'];
  const fillPaint = s.pattern ? { 'fill-pattern': s.pattern } : { 'fill-color': s.fill, 'fill-opacity': s.fillOpacity };
  const outlinePaint = { 'line-color': s.outline || s.line, 'line-width': kind === 'river' ? 0.8 : s.lineWidth };
  if (s.dash) outlinePaint['line-dasharray'] = s.dash;
  const from = { source: src, 'source-layer': sourceLayer };
  return [
    { id: `${src}-fill`, type: 'fill', ...from, filter: polygon, paint: fillPaint },
    { id: `${src}-outline`, type: 'line', ...from, filter: polygon, paint: outlinePaint },
    {
      id: `${src}-line`, type: 'line', ...from, filter: line,
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': s.line,
        'line-width': kind === 'river' ? ['interpolate', ['linear'], ['zoom'], 8, 1.5, 14, 4] : s.lineWidth,
      },
    },
    {
      id: `${src}-point`, type: 'circle', ...from, filter: point,
      paint: { 'circle-radius': 6, 'circle-color': s.fill, 'circle-opacity': 0.75, 'circle-stroke-color': s.line, 'circle-stroke-width': 1.5 },
    },
  ];
}

function kindRank(kind) {
  const i = KINDS.indexOf(kind);
  return i < 0 ? 1 : i;
}

/** The id of the first style layer drawn above kind KIND (layers go in KINDS order), or the zones' top. */
function beforeIdFor(kind, exceptSrc) {
  const rank = kindRank(kind);
  let best = null;
  for (const [src, info] of layerInfo) {
    if (src === exceptSrc || !info.styleIds.length || kindRank(info.kind) <= rank) continue;
    if (!best || kindRank(info.kind) < kindRank(best.kind)) best = info;
  }
  return best ? best.styleIds[0] : ZONES_TOP;
}

/** Remove layer SRC's style layers and source from the map (not its bookkeeping). */
function removeFromMap(src) {
  const info = layerInfo.get(src);
  if (!info) return;
  for (const id of info.styleIds) {
    if (map.getLayer(id)) map.removeLayer(id);
    clickables.delete(id);
  }
  if (map.getSource(src)) map.removeSource(src);
}

/**
 * Add (or put back) layer INFO's vector source and style layers, below the layers of the kinds
 * drawn above it. The source-layer inside each tile is named exactly like the layer.
 */
function addToMap(src, info) {
  const source = { type: 'vector', tiles: [tileUrl(info.name, info.version)], minzoom: 0, maxzoom: 22 };
  const tj = info.tilejson;
  if (tj) {
    if (Number.isFinite(tj.minzoom)) source.minzoom = tj.minzoom;
    if (Number.isFinite(tj.maxzoom)) source.maxzoom = tj.maxzoom;
    if (Array.isArray(tj.bounds) && tj.bounds.length === 4 && tj.bounds.every(Number.isFinite)) source.bounds = tj.bounds;
  }
  map.addSource(src, source);
  const styleLayers = styleLayersFor(src, info.name, info.kind);
  const before = beforeIdFor(info.kind, src);
  for (const sl of styleLayers) {
    if (hiddenKinds.has(info.kind)) sl.layout = { ...(sl.layout || {}), visibility: 'none' };
    map.addLayer(sl, before);
  }
  info.styleIds = styleLayers.map((l) => l.id);
  if (info.kind !== 'river') {
    for (const id of info.styleIds) registerClickable(id, (f, ll) => zonePopup(info, f, ll));
  }
}

/** Fit the view to the union of the layers' TileJSON bounds (only when the config has no center). */
function fitToBounds() {
  let b = null;
  for (const info of layerInfo.values()) {
    const a = info.tilejson?.bounds;
    if (!Array.isArray(a) || a.length !== 4 || !a.every(Number.isFinite)) continue;
    if (a[0] <= -180 && a[2] >= 180) continue; // an empty layer's whole-world bounds
    b = b ? [Math.min(b[0], a[0]), Math.min(b[1], a[1]), Math.max(b[2], a[2]), Math.max(b[3], a[3])] : [...a];
  }
  if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, animate: false, maxZoom: 16 });
}

// Layer additions and refreshes run one at a time, so a live event never races the first load.
let layerQueue = Promise.resolve();
function queued(fn) {
  const run = layerQueue.then(fn, fn);
  layerQueue = run.catch(() => {});
  return run;
}

/**
 * Add the server's layers (from /api/layers) in kind order, each as a vector tile source.
 * Resolves to [{name, kind, version, features, source: 'tiles'}] once every layer's TileJSON is in
 * (failed ones with an error and no source).
 */
export function loadLayers(layers) {
  return queued(() => addLayers(layers));
}

async function addLayers(layers) {
  const m = map;
  const sorted = [...layers].sort((a, b) => kindRank(a.kind) - kindRank(b.kind));
  const tilejsons = await Promise.all(sorted.map((layer) => getTileJson(layer.name).then(
    (tj) => ({ tj }),
    (e) => {
      console.warn(`layer ${layer.name}: ${e.message}`);
      return { error: e.message };
    },
  )));
  if (!map || map !== m) return sorted.map((l) => ({ name: l.name, kind: l.kind, features: 0, error: 'map closed' }));
  const results = [];
  sorted.forEach((layer, i) => {
    const src = `layer-${layer.name}`;
    const { tj, error } = tilejsons[i];
    const result = {
      name: layer.name, kind: layer.kind, version: layer.version ?? null,
      features: Number.isInteger(layer.features) ? layer.features : 0, source: 'tiles',
    };
    if (error) result.error = error;
    results.push(result);
    if (error || layerInfo.has(src)) return;
    const info = {
      name: layer.name, kind: layer.kind, title: layer.title, version: layer.version ?? null,
      loadedFeatures: result.features, tilejson: tj, styleIds: [], result,
    };
    layerInfo.set(src, info);
    addToMap(src, info);
    kindsPresent.add(layer.kind);
  });
  if (fitToLayers && layerInfo.size) {
    fitToLayers = false;
    fitToBounds();
  }
  renderLegend();
  return results;
}

/**
 * A planner loaded version VERSION of layer NAME (kind KIND): redraw it from the new version's
 * tiles (a new source, with the new bounds and a cache-busting tile URL) and refresh the legend.
 * A layer the page has not seen yet is added.
 */
export function refreshLayer({ layer: name, kind, version, features }) {
  if (!map || typeof name !== 'string' || !name) return Promise.resolve();
  return queued(async () => {
    const m = map;
    const src = `layer-${name}`;
    const info = layerInfo.get(src);
    if (!info) {
      const all = await getLayers();
      const layer = Array.isArray(all) ? all.find((l) => l.name === name) : null;
      if (map === m && layer) await addLayers([layer]);
      return;
    }
    if (Number.isInteger(version) && Number.isInteger(info.version) && version <= info.version) return;
    let tj;
    try {
      tj = await getTileJson(name);
    } catch (e) {
      console.warn(`layer ${name}: ${e.message}`);
      return;
    }
    if (map !== m || layerInfo.get(src) !== info) return;
    removeFromMap(src);
    if (typeof kind === 'string' && kind) info.kind = kind;
    info.version = Number.isInteger(version) ? version : info.version;
    info.tilejson = tj;
    if (Number.isInteger(features)) info.loadedFeatures = features;
    Object.assign(info.result, { kind: info.kind, version: info.version, features: info.loadedFeatures });
    addToMap(src, info);
    kindsPresent.clear();
    for (const i of layerInfo.values()) kindsPresent.add(i.kind);
    renderLegend();
  });
}

/** After the live feed reconnects: redraw the layers whose version moved on while it was down. */
async function resyncLayers() {
  if (!map) return;
  let all;
  try {
    all = await getLayers();
  } catch {
    return;
  }
  if (!Array.isArray(all)) return;
  for (const l of all) {
    const info = layerInfo.get(`layer-${l.name}`);
    if (!info || (Number.isInteger(l.version) && l.version !== info.version)) {
      refreshLayer({ layer: l.name, kind: l.kind, version: l.version, features: l.features });
    }
  }
}

onLive('layer', (msg) => {
  refreshLayer(msg).catch((e) => console.warn(`layer ${msg.layer}: ${e.message}`));
});
onLiveReconnect(resyncLayers);

function setKindVisible(kind, visible) {
  if (visible) hiddenKinds.delete(kind);
  else hiddenKinds.add(kind);
  for (const info of layerInfo.values()) {
    if (info.kind !== kind) continue;
    for (const id of info.styleIds) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
  }
}

function swatch(kind) {
  const s = KIND_STYLE[kind] || KIND_STYLE.shoreline_project;
  const sw = el('span', `swatch swatch-${kind}`);
  sw.style.backgroundColor = kind === 'no_mining' ? 'transparent' : s.fill;
  sw.style.borderColor = s.line;
  return sw;
}

function renderLegend() {
  const ul = document.getElementById('legend');
  ul.replaceChildren();
  for (const kind of KINDS.filter((k) => kindsPresent.has(k))) {
    const li = el('li', 'legend-row');
    const label = el('label');
    const box = el('input');
    box.type = 'checkbox';
    box.checked = !hiddenKinds.has(kind);
    box.addEventListener('change', () => setKindVisible(kind, box.checked));
    label.append(box, swatch(kind), el('span', 'legend-name', t(`kind.${kind}`)));
    li.dataset.kind = kind;
    li.append(label);
    ul.append(li);
  }
  for (const fn of legendExtras) fn(ul);
}

/** For tests and diagnostics: how many features each loaded layer has rendered in the viewport. */
export function renderedCounts() {
  const out = {};
  if (!map || !loaded) return out;
  for (const info of layerInfo.values()) {
    const ids = info.styleIds.filter((id) => map.getLayer(id));
    // A feature crossing tile edges comes back once per tile: count distinct ids.
    const seen = new Set();
    let n = 0;
    for (const f of ids.length ? map.queryRenderedFeatures({ layers: ids }) : []) {
      if (f.id === undefined || f.id === null) n++;
      else seen.add(f.id);
    }
    out[info.name] = n + seen.size;
  }
  return out;
}

/** For tests and diagnostics: [{name, kind, features}] of the layers added so far. */
export function layerSummary() {
  return [...layerInfo.values()].map((i) => ({
    name: i.name, kind: i.kind, title: i.title, version: i.version, features: i.loadedFeatures,
    source: map?.getSource(`layer-${i.name}`)?.type ?? null,
  }));
}

/** For tests and diagnostics: the page position (CSS pixels) of [LON, LAT], or null before the map. */
export function projectToPage(lon, lat) {
  if (!map) return null;
  const p = map.project([lon, lat]);
  const r = map.getContainer().getBoundingClientRect();
  return { x: r.left + p.x, y: r.top + p.y };
}

/**
 * For tests and diagnostics: a page position (CSS pixels) where layer NAME has a rendered feature
 * that nothing clickable covers, found on a coarse grid over the map; null if none is in view.
 */
export function findRenderedPoint(name, step = 10) {
  const info = layerInfo.get(`layer-${name}`);
  if (!map || !loaded || !info) return null;
  const own = new Set(info.styleIds);
  const ids = clickableIds();
  const canvas = map.getCanvas();
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  const r = map.getContainer().getBoundingClientRect();
  for (let y = step * 6; y < h - step * 6; y += step) {
    for (let x = step * 6; x < w - step * 6; x += step) {
      const hits = map.queryRenderedFeatures(queryBox({ x, y }, 4), { layers: ids });
      if (hits.length && own.has(hits[0].layer.id)) return { x: r.left + x, y: r.top + y };
    }
  }
  return null;
}

/** For tests and diagnostics: true while the map is panning or zooming. */
export const isMapMoving = () => Boolean(map && map.isMoving());
