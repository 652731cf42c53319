// fleet.js -- the fleet overview: every vessel's state from GET /api/fleet (the rules engine's view:
// working, parked, moving, stopped, offline, unknown, plus "alerting"), refreshed every 10 s and soon
// after an alert event; the counts as chips in the side panel, and the chosen state as a filter
// that vessels.js applies to the map layer and the vessel list.

import { request, ApiError } from './api.js';
import { t, formatTime, onLangChange } from './i18n.js';
import { onLive, onLiveReconnect } from './live.js';

/** The states a vessel can be in, in the order the list sorts them (then 'alerting' is a flag). */
export const FLEET_STATES = ['working', 'moving', 'stopped', 'parked', 'offline', 'unknown'];
/** What the chips filter on: a state, or 'alerting' (any state with an open alert). */
export const FLEET_FILTERS = ['working', 'moving', 'stopped', 'parked', 'offline', 'alerting', 'unknown'];

const REFRESH_MS = 10_000;
const EVENT_GAP_MS = 2_000; // at most one extra refresh this often for a burst of live events

const chipsEl = document.getElementById('fleet-counts');
const errorEl = document.getElementById('fleet-error');

const states = new Map(); // vessel id -> {state, alerting, since, zone}
let counts = null; // the server's counts, or null before the first answer
let filter = ''; // '' (all) or one of FLEET_FILTERS
let running = false;
let generation = 0;
let timer = 0;
let soonTimer = 0;
let inFlight = null;
let lastFetch = 0;
let updatedAt = null; // Date.now() of the last good answer
let loadError = null;
let refreshes = 0;
const changeListeners = new Set();
const filterListeners = new Set();

/** The vessel's state record {state, alerting, since, zone}, or undefined when the server has none. */
export const fleetOf = (id) => states.get(id);

/** The chosen filter: '' for all vessels, otherwise a state or 'alerting'. */
export const fleetFilter = () => filter;

/** True when a vessel with state record F passes the filter FLT (default: the chosen one). */
export function passesFilter(f, flt = filter) {
  if (!flt) return true;
  if (flt === 'alerting') return Boolean(f?.alerting);
  return (f?.state || 'unknown') === flt;
}

/** Call FN(changedIds: Set) whenever vessels' states change. */
export function onFleetChange(fn) {
  changeListeners.add(fn);
  return () => changeListeners.delete(fn);
}

/** Call FN(filter) when the chosen filter changes. */
export function onFilterChange(fn) {
  filterListeners.add(fn);
  return () => filterListeners.delete(fn);
}

/** Choose filter F ('' for all); choosing the chosen one again clears it. */
export function setFleetFilter(f) {
  const next = FLEET_FILTERS.includes(f) && f !== filter ? f : '';
  if (next === filter) return;
  filter = next;
  renderChips();
  for (const fn of filterListeners) fn(filter);
}

function normState(s) {
  return FLEET_STATES.includes(s) ? s : 'unknown';
}

function apply(body) {
  if (!body || typeof body !== 'object' || !Array.isArray(body.vessels)) throw new Error('the answer has no "vessels" list');
  const changed = new Set();
  const seen = new Set();
  for (const raw of body.vessels) {
    if (!raw || raw.id === undefined || raw.id === null) continue;
    const next = {
      state: normState(raw.state), alerting: raw.alerting === true,
      since: typeof raw.since === 'string' ? raw.since : null, zone: typeof raw.zone === 'string' ? raw.zone : null,
    };
    seen.add(raw.id);
    const cur = states.get(raw.id);
    if (!cur || cur.state !== next.state || cur.alerting !== next.alerting || cur.since !== next.since || cur.zone !== next.zone) {
      states.set(raw.id, next);
      changed.add(raw.id);
    }
  }
  for (const id of [...states.keys()]) {
    if (!seen.has(id)) {
      states.delete(id);
      changed.add(id);
    }
  }
  counts = {};
  const c = body.counts && typeof body.counts === 'object' ? body.counts : null;
  for (const k of FLEET_FILTERS) {
    counts[k] = c && Number.isFinite(c[k]) ? c[k] : 0;
  }
  if (!c) {
    // Without counts, count the list itself.
    for (const f of states.values()) {
      counts[f.state]++;
      if (f.alerting) counts.alerting++;
    }
  }
  counts.total = states.size;
  updatedAt = Date.now();
  loadError = null;
  refreshes++;
  renderChips();
  if (changed.size) for (const fn of changeListeners) fn(changed);
}

/** Fetch /api/fleet now (one request at a time); resolves when the answer is applied. */
export function refreshFleet() {
  if (!running) return Promise.resolve();
  if (inFlight) return inFlight;
  const gen = generation;
  lastFetch = Date.now();
  inFlight = request('/api/fleet').then((body) => {
    if (gen === generation) apply(body);
  }, (e) => {
    if (gen !== generation || (e instanceof ApiError && e.status === 401)) return;
    loadError = e.message || String(e);
    renderChips();
  }).finally(() => {
    if (gen === generation) inFlight = null;
  });
  return inFlight;
}

/** A live event may have changed states: refresh soon, at most once every EVENT_GAP_MS. */
function refreshSoon() {
  if (!running || soonTimer) return;
  const wait = Math.max(250, EVENT_GAP_MS - (Date.now() - lastFetch));
  soonTimer = setTimeout(() => {
    soonTimer = 0;
    refreshFleet();
  }, wait);
}

onLive('alert', refreshSoon);
onLive('fleet', refreshSoon);
onLiveReconnect(refreshSoon);

/** Start the overview of a new session: fetch now and every 10 s. */
export function startFleet() {
  stopFleet();
  running = true;
  generation++;
  refreshFleet();
  timer = setInterval(refreshFleet, REFRESH_MS);
}

/** Forget everything (logout). */
export function stopFleet() {
  running = false;
  generation++;
  clearInterval(timer);
  clearTimeout(soonTimer);
  timer = 0;
  soonTimer = 0;
  inFlight = null;
  const had = new Set(states.keys());
  states.clear();
  counts = null;
  updatedAt = null;
  loadError = null;
  filter = '';
  renderChips();
  if (had.size) for (const fn of changeListeners) fn(had);
  for (const fn of filterListeners) fn(filter);
}

function renderChips() {
  for (const chip of chipsEl.querySelectorAll('.fleet-chip')) {
    const s = chip.dataset.state;
    const n = counts ? (s ? counts[s] : counts.total) : null;
    chip.querySelector('.fleet-n').textContent = n === null || n === undefined ? '–' : String(n);
    chip.setAttribute('aria-pressed', String(s === filter));
    chip.dataset.count = n === null || n === undefined ? '' : String(n);
    chip.title = s ? t('fleet.chipTitle', { state: t(`fstate.${s}`), n: n ?? '–' }) : t('fleet.allTitle');
    // An empty state stays visible (0) except "unknown", which only shows when some vessel is in it.
    if (s === 'unknown') chip.hidden = !(n > 0) && filter !== 'unknown';
  }
  errorEl.hidden = !loadError;
  errorEl.textContent = loadError ? t('fleet.loadFailed', { what: loadError }) : '';
  chipsEl.title = updatedAt ? t('fleet.updated', { time: formatTime(new Date(updatedAt).toISOString()) }) : '';
}

chipsEl.addEventListener('click', (ev) => {
  const chip = ev.target.closest('.fleet-chip');
  if (chip) setFleetFilter(chip.dataset.state);
});

onLangChange(renderChips);
renderChips();

/** For tests and diagnostics. */
export function fleetSnapshot() {
  return {
    counts: counts ? { ...counts } : null,
    filter,
    error: loadError,
    refreshes,
    updatedAt,
    states: Object.fromEntries([...states].map(([id, f]) => [id, { ...f }])),
  };
}
