// alerts.js -- the alert panel: the list of alerts (active by default) kept current from the live
// feed, filters by state and kind, a highlight and a short tone for a new alert, the detail popup
// with acknowledgement, and the evidence positions of the chosen alert drawn on the map.
//
// Every alert the page knows is kept in one store, id -> {a: alert, v: version}. The version is
// the seq of the live event it came from, or the seq an HTTP list answered with: an alert is only
// ever replaced by an equal or newer version, so a replayed or late event cannot undo a newer state.

import { request, session, ApiError } from './api.js';
import { t, tOr, formatTime, onLangChange } from './i18n.js';
import { getMap, showPopup, layerSummary } from './map.js';
import { onLive, noteLiveSeq, liveSeq } from './live.js';

export const ALERT_KINDS = ['illegal_stop', 'outside_zone', 'off_hours', 'no_mining_zone', 'protection_zone',
  'no_permit', 'unregistered', 'offline', 'jump', 'device_alarm'];
const STATES = ['open', 'acknowledged', 'closed'];
const ACTIVE = new Set(['open', 'acknowledged']);
const ACK_ROLES = new Set(['enforcer', 'admin']);
const ACTIVE_LIMIT = 1000; // the first list: every alert not yet closed, up to this many
const FILTER_LIMIT = 300; // lists fetched for another filter (closed ones can be many)
const KEEP_CLOSED = 500; // closed alerts kept in the store beyond what is shown
const HIGHLIGHT_MS = 8000;
const SOUND_KEY = 'shorewatch.alertSound';
const SOUND_GAP_MS = 1500; // one tone for a burst of alerts (e.g. a replay after a reconnect)

const SOURCE = 'alert-evidence';
const LAYER_LINE = 'alert-evidence-line';
const LAYER_FIXES = 'alert-evidence-fixes';
const LAYER_AT = 'alert-evidence-at';

const listEl = document.getElementById('alert-list');
const countEl = document.getElementById('alert-open-count');
const emptyEl = document.getElementById('alert-empty');
const errorEl = document.getElementById('alert-error');
const stateSel = document.getElementById('alert-state');
const kindSel = document.getElementById('alert-kind');
const soundBtn = document.getElementById('alert-sound');

const store = new Map(); // id -> {a, v}
const rows = new Map(); // id -> <li>
const highlighted = new Map(); // id -> timer
let running = false;
let generation = 0;
let loaded = false; // the first list is in (or failed): live events apply directly
let buffered = []; // live events that came before the first list
let loadError = null; // {what} shown above the list
let activeSeq = null; // the seq the list of active alerts was current to
let selectedId = null;
let popup = null;
let frame = 0;
let layersReady = false;
const filter = { state: 'active', kind: '' };
const sound = { enabled: readSoundSetting(), requested: 0, played: 0, blocked: 0, last: 0 };
let audio = null;
const stats = { newAlerts: 0, events: 0, stale: 0 };

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ------------------------------------------------------------------ the store

function isAlert(a) {
  return a && typeof a === 'object' && (Number.isSafeInteger(a.id) || (typeof a.id === 'string' && a.id !== ''));
}

/** A clean copy of an alert object from the server (REST or a live event without type/seq). */
function normalize(raw) {
  const a = { ...raw };
  delete a.type;
  if (!STATES.includes(a.state)) a.state = 'open';
  a.severity = [1, 2, 3].includes(a.severity) ? a.severity : 2;
  if (!Array.isArray(a.evidence)) a.evidence = [];
  if (!a.detail || typeof a.detail !== 'object') a.detail = {};
  return a;
}

/**
 * Put A (version V: a seq, or null when unknown) in the store unless the store holds a newer
 * version. Returns 'new', 'changed' or null (ignored).
 */
function put(raw, v) {
  const a = normalize(raw);
  const cur = store.get(a.id);
  if (cur && v !== null && cur.v !== null && v < cur.v) {
    stats.stale++;
    return null;
  }
  store.set(a.id, { a, v: v ?? cur?.v ?? null });
  return cur ? 'changed' : 'new';
}

/** Drop the oldest closed alerts beyond KEEP_CLOSED (never the chosen one). */
function prune() {
  const closed = [...store.values()].filter((e) => e.a.state === 'closed' && e.a.id !== selectedId);
  if (closed.length <= KEEP_CLOSED) return;
  closed.sort(compareNewestFirst);
  for (const e of closed.slice(KEEP_CLOSED)) store.delete(e.a.id);
}

function timeOf(iso) {
  const ms = Date.parse(iso || '');
  return Number.isFinite(ms) ? ms : 0;
}

/** Newest first: by opening time, then by id. */
function compareNewestFirst(x, y) {
  const a = x.a ?? x;
  const b = y.a ?? y;
  return timeOf(b.opened) - timeOf(a.opened) || (Number(b.id) || 0) - (Number(a.id) || 0);
}

function matches(a, f = filter) {
  if (f.kind && a.kind !== f.kind) return false;
  if (f.state === 'all') return true;
  if (f.state === 'active') return ACTIVE.has(a.state);
  return a.state === f.state;
}

// ------------------------------------------------------------------ HTTP

function listPath(f, limit) {
  const q = new URLSearchParams();
  if (f.state !== 'all') q.set('status', f.state);
  if (f.kind) q.set('kind', f.kind);
  q.set('limit', String(limit));
  return `/api/alerts?${q}`;
}

/**
 * Merge a list answer for filter F into the store. Alerts the store holds as matching F, no newer
 * than the answer, but missing from a complete answer have changed meanwhile: fetch them one by one.
 */
function mergeList(body, f, limit) {
  if (!body || !Array.isArray(body.alerts)) throw new Error('the answer has no "alerts" list');
  const seq = Number.isSafeInteger(body.seq) ? body.seq : null;
  const seen = new Set();
  for (const raw of body.alerts) {
    if (!isAlert(raw)) continue;
    seen.add(raw.id);
    put(raw, Number.isSafeInteger(raw.seq) ? raw.seq : seq);
  }
  if (seq !== null) noteLiveSeq(seq);
  if (f.state === 'active' && !f.kind && seq !== null && (activeSeq === null || seq > activeSeq)) activeSeq = seq;
  if (body.alerts.length < limit && seq !== null) {
    for (const e of [...store.values()]) {
      if (!seen.has(e.a.id) && matches(e.a, f) && (e.v === null || e.v <= seq)) refreshOne(e.a.id);
    }
  }
}

/** Fetch alert ID again and store it, unless a newer version arrived meanwhile. */
async function refreshOne(id) {
  const gen = generation;
  const before = store.get(id)?.v ?? null;
  try {
    const raw = await request(`/api/alerts/${encodeURIComponent(id)}`);
    if (gen !== generation || !isAlert(raw)) return;
    const now = store.get(id);
    if (now && now.v !== before && !(Number.isSafeInteger(raw.seq) && raw.seq >= now.v)) return;
    put(raw, Number.isSafeInteger(raw.seq) ? raw.seq : before);
    changed(id);
  } catch (e) {
    if (gen !== generation) return;
    if (e instanceof ApiError && e.status === 404) {
      store.delete(id);
      schedule();
    }
  }
}

async function loadFilter(f, limit) {
  const gen = generation;
  const body = await request(listPath(f, limit));
  if (gen !== generation) return false;
  mergeList(body, f, limit);
  return true;
}

function showLoadError(e) {
  loadError = { what: e.message || String(e) };
  console.warn(`alerts: ${loadError.what}`);
  renderError();
}

function renderError() {
  errorEl.hidden = !loadError;
  errorEl.textContent = loadError ? t('alerts.loadFailed', loadError) : '';
}

// ------------------------------------------------------------------ live events

function onAlertEvent(msg) {
  if (!running || !isAlert(msg)) return;
  if (!loaded) {
    buffered.push(msg);
    return;
  }
  applyEvent(msg);
}

function applyEvent(msg) {
  stats.events++;
  const v = Number.isSafeInteger(msg.seq) ? msg.seq : null;
  // Every alert active at activeSeq is in the store: an older event of one that is not was
  // followed by its closing, which the list already reflects.
  if (!store.has(msg.id) && v !== null && activeSeq !== null && v <= activeSeq) {
    stats.stale++;
    return;
  }
  const what = put(msg, v);
  if (!what) return;
  const a = store.get(msg.id).a;
  if (what === 'new' && a.state === 'open') {
    stats.newAlerts++;
    highlight(a.id);
    playTone();
  }
  changed(a.id);
}

function changed(id) {
  if (id === selectedId) refreshSelected();
  schedule();
}

onLive('alert', onAlertEvent);

// ------------------------------------------------------------------ sound

function readSoundSetting() {
  try {
    return localStorage.getItem(SOUND_KEY) !== 'off';
  } catch {
    return true;
  }
}

/** Create or resume the audio context; browsers allow it only after a user gesture. */
function unlockAudio() {
  try {
    if (!audio) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      audio = new AC();
    }
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(type, () => {
    if (!audio || audio.state !== 'running') unlockAudio();
  }, { capture: true, passive: true });
}

/** Two short beeps from an oscillator; silently nothing when audio is blocked or off. */
function playTone() {
  if (!sound.enabled) return;
  const now = Date.now();
  if (now - sound.last < SOUND_GAP_MS) return;
  sound.last = now;
  sound.requested++;
  try {
    if (!audio && navigator.userActivation?.hasBeenActive) unlockAudio();
    if (!audio || audio.state !== 'running') {
      if (audio) audio.resume().catch(() => {});
      sound.blocked++;
      return;
    }
    const t0 = audio.currentTime + 0.01;
    const gain = audio.createGain();
    gain.connect(audio.destination);
    gain.gain.setValueAtTime(0.0001, t0);
    [[880, 0], [660, 0.18]].forEach(([hz, at]) => {
      const osc = audio.createOscillator();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(hz, t0 + at);
      gain.gain.exponentialRampToValueAtTime(0.2, t0 + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.15);
      osc.connect(gain);
      osc.start(t0 + at);
      osc.stop(t0 + at + 0.16);
    });
    sound.played++;
  } catch {
    sound.blocked++;
  }
}

function renderSoundButton() {
  soundBtn.setAttribute('aria-pressed', String(sound.enabled));
  soundBtn.classList.toggle('muted-sound', !sound.enabled);
  const label = t(sound.enabled ? 'alerts.soundOn' : 'alerts.soundOff');
  soundBtn.title = label;
  soundBtn.setAttribute('aria-label', label);
}

soundBtn.addEventListener('click', () => {
  sound.enabled = !sound.enabled;
  try {
    localStorage.setItem(SOUND_KEY, sound.enabled ? 'on' : 'off');
  } catch {
    // Not remembered; the switch still works for this page.
  }
  renderSoundButton();
});

// ------------------------------------------------------------------ the list

function highlight(id) {
  clearTimeout(highlighted.get(id));
  highlighted.set(id, setTimeout(() => {
    highlighted.delete(id);
    rows.get(id)?.classList.remove('alert-new');
  }, HIGHLIGHT_MS));
}

function schedule() {
  if (!frame) frame = requestAnimationFrame(render);
}

const unregistered = (a) => a.vessel === null || a.vessel === undefined;

/** The zone's code ("MZ-01" of "demo_mining_zones/MZ-01"); nothing for an unregistered terminal. */
function zoneText(a) {
  if (!a.subject || unregistered(a)) return '';
  const slash = a.subject.indexOf('/');
  if (slash < 0) return a.subject;
  return a.subject.slice(slash + 1);
}

/** The zone's layer title and code, e.g. "可采区（演示） · MZ-01". */
function zoneLong(a) {
  if (!a.subject || unregistered(a)) return '';
  const slash = a.subject.indexOf('/');
  if (slash < 0) return a.subject;
  const layer = a.subject.slice(0, slash);
  const info = layerSummary().find((l) => l.name === layer);
  return `${info?.title || layer} · ${a.subject.slice(slash + 1)}`;
}

/** The vessel's name, or the terminal number of an unregistered terminal. */
function vesselText(a) {
  if (unregistered(a)) return a.subject ? t('alerts.terminal', { terminal: a.subject }) : t('alerts.unregistered');
  return a.vessel_name || `#${a.vessel}`;
}

const kindName = (k) => tOr(`alertkind.${k}`, k);

function renderRow(a) {
  let li = rows.get(a.id);
  if (!li) {
    li = el('li', 'alert-row');
    li.dataset.alertId = String(a.id);
    li.tabIndex = 0;
    const main = el('div', 'alert-main');
    const l1 = el('div', 'alert-line');
    l1.append(el('span', 'alert-kind'), el('span', 'alert-late'), el('span', 'alert-state'));
    const l2 = el('div', 'alert-line alert-sub muted');
    l2.append(el('span', 'alert-vessel'), el('span', 'alert-zone'));
    main.append(l1, l2);
    li.append(el('span', 'alert-sev'), main, el('span', 'alert-time muted'));
    const id = a.id;
    li.addEventListener('click', () => selectAlert(id));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        selectAlert(id);
      }
    });
    rows.set(a.id, li);
  }
  li.className = `alert-row sev-${a.severity} state-${a.state}`;
  li.classList.toggle('alert-new', highlighted.has(a.id));
  li.classList.toggle('selected', a.id === selectedId);
  li.dataset.state = a.state;
  li.dataset.kind = a.kind;
  li.setAttribute('aria-selected', String(a.id === selectedId));
  li.querySelector('.alert-sev').title = tOr(`severity.${a.severity}`, String(a.severity));
  li.querySelector('.alert-kind').textContent = kindName(a.kind);
  const late = li.querySelector('.alert-late');
  late.hidden = !a.late;
  late.textContent = t('alerts.late');
  late.title = t('alerts.lateTitle');
  li.querySelector('.alert-state').textContent = tOr(`alertstate.${a.state}`, a.state);
  li.querySelector('.alert-vessel').textContent = vesselText(a);
  const zone = li.querySelector('.alert-zone');
  zone.textContent = zoneText(a);
  zone.title = zoneLong(a);
  const time = li.querySelector('.alert-time');
  time.textContent = formatTime(a.time || a.updated || a.opened, true);
  time.title = `${formatTime(a.time || a.updated || a.opened)} (${t('time.zone')})`;
  return li;
}

function render() {
  frame = 0;
  prune();
  const shown = [...store.values()].filter((e) => matches(e.a)).sort(compareNewestFirst);
  const keep = new Set(shown.map((e) => e.a.id));
  for (const [id, li] of rows) {
    if (!keep.has(id)) {
      li.remove();
      rows.delete(id);
    }
  }
  // Put the rows in order, moving only those out of place.
  let at = listEl.firstChild;
  for (const e of shown) {
    const li = renderRow(e.a);
    if (li === at) at = at.nextSibling;
    else listEl.insertBefore(li, at);
  }
  emptyEl.hidden = shown.length > 0 || !loaded;
  let open = 0;
  let active = 0;
  for (const e of store.values()) {
    if (e.a.state === 'open') open++;
    if (ACTIVE.has(e.a.state)) active++;
  }
  countEl.textContent = String(open);
  countEl.dataset.count = String(open);
  countEl.title = t('alerts.openTitle', { open, active });
}

function onFilterChange() {
  filter.state = stateSel.value;
  filter.kind = kindSel.value;
  schedule();
  if (!running) return;
  const f = { ...filter };
  // The store already holds every active alert; closed ones (and all) come from the server.
  if (f.state === 'closed' || f.state === 'all') {
    loadFilter(f, FILTER_LIMIT).then((ok) => {
      if (ok) schedule();
    }, (e) => {
      if (!(e instanceof ApiError && e.status === 401)) showLoadError(e);
    });
  }
}

stateSel.addEventListener('change', onFilterChange);
kindSel.addEventListener('change', onFilterChange);

// ------------------------------------------------------------------ the chosen alert

function emptyCollection() {
  return { type: 'FeatureCollection', features: [] };
}

/** The evidence of A as GeoJSON: the track through its positions, the positions, and where it is. */
function evidenceFeatures(a) {
  const fixes = a.evidence
    .filter((p) => p && Number.isFinite(p.lon) && Number.isFinite(p.lat))
    .slice()
    .sort((p, q) => timeOf(p.time) - timeOf(q.time));
  const features = [];
  if (fixes.length >= 2) {
    features.push({
      type: 'Feature', properties: { role: 'track' },
      geometry: { type: 'LineString', coordinates: fixes.map((p) => [p.lon, p.lat]) },
    });
  }
  fixes.forEach((p, i) => features.push({
    type: 'Feature', properties: { role: 'fix', i },
    geometry: { type: 'Point', coordinates: [p.lon, p.lat] },
  }));
  if (Number.isFinite(a.lon) && Number.isFinite(a.lat)) {
    features.push({
      type: 'Feature', properties: { role: 'at', severity: a.severity },
      geometry: { type: 'Point', coordinates: [a.lon, a.lat] },
    });
  }
  return { type: 'FeatureCollection', features };
}

function drawEvidence(a) {
  const map = getMap();
  if (!map || !layersReady) return;
  map.getSource(SOURCE)?.setData(a ? evidenceFeatures(a) : emptyCollection());
}

function detailRow(table, label, value, className) {
  if (value === null || value === undefined || value === '') return;
  const tr = el('tr', className);
  tr.append(el('th', null, label), el('td', null, String(value)));
  table.append(tr);
}

const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/;

/** A value of the rule's detail as text: times in Beijing time, yes/no, rounded numbers. */
function detailValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return t(v ? 'alert.yes' : 'alert.no');
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  if (typeof v === 'string' && ISO_RE.test(v)) return formatTime(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const canAcknowledge = () => ACK_ROLES.has(session()?.role);

function ackForm(a, carried) {
  const form = el('form', 'alert-ack');
  form.noValidate = true;
  const label = el('label', 'alert-ack-label', t('alert.ackNote'));
  const note = el('textarea', 'alert-ack-note');
  note.id = 'alert-ack-note';
  label.htmlFor = note.id;
  note.rows = 2;
  note.maxLength = 1000;
  note.placeholder = t('alert.notePlaceholder');
  note.value = carried?.note ?? '';
  const msg = el('p', 'alert-ack-error');
  msg.hidden = true;
  msg.setAttribute('role', 'alert');
  const btn = el('button', 'btn btn-primary alert-ack-submit', t('alert.ack'));
  btn.type = 'submit';
  form.append(label, note, msg, btn);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = note.value.trim();
    if (!text) {
      msg.textContent = t('alert.noteRequired');
      msg.hidden = false;
      note.focus();
      return;
    }
    btn.disabled = true;
    btn.textContent = t('alert.acking');
    msg.hidden = true;
    const gen = generation;
    try {
      const raw = await request(`/api/alerts/${encodeURIComponent(a.id)}/ack`, { method: 'POST', body: { note: text } });
      if (gen !== generation) return;
      if (isAlert(raw)) {
        const cur = store.get(raw.id);
        // Without a seq the answer is applied unless the live feed already brought a later state.
        if (Number.isSafeInteger(raw.seq)) put(raw, raw.seq);
        else if (!cur || cur.a.state === 'open') put(raw, null);
        changed(raw.id);
      }
    } catch (e) {
      if (gen !== generation || !form.isConnected) return;
      btn.disabled = false;
      btn.textContent = t('alert.ack');
      msg.textContent = e instanceof ApiError && e.status === 403 ? t('alert.ackForbidden')
        : t('alert.ackFailed', { what: e.message });
      msg.hidden = false;
    }
  });
  return form;
}

function detailContent(a, carried) {
  const box = el('div', 'popup-alert');
  box.dataset.alertId = String(a.id);
  box.dataset.state = a.state;
  const head = el('div', 'popup-title');
  head.append(el('span', `kind-chip alert-chip sev-${a.severity}`, kindName(a.kind)), ' ',
    el('span', 'alert-popup-vessel', vesselText(a)));
  box.append(head);
  const table = el('table', 'props');
  detailRow(table, t('alert.state'), tOr(`alertstate.${a.state}`, a.state), 'alert-popup-state');
  detailRow(table, t('alert.severity'), tOr(`severity.${a.severity}`, String(a.severity)));
  detailRow(table, t('alert.zone'), zoneLong(a));
  detailRow(table, t('alert.permit'), a.permit);
  detailRow(table, t('alert.opened'), a.opened && `${formatTime(a.opened)} (${t('time.zone')})`);
  detailRow(table, t('alert.time'), a.time && formatTime(a.time));
  detailRow(table, t('alert.closed'), a.closed && formatTime(a.closed));
  if (Number.isFinite(a.lon) && Number.isFinite(a.lat)) {
    detailRow(table, t('alert.position'), `${a.lon.toFixed(5)}, ${a.lat.toFixed(5)}`);
  }
  if (a.late) detailRow(table, t('alerts.late'), t('alerts.lateTitle'), 'alert-popup-late');
  detailRow(table, t('alert.rule'), a.detail.rule, 'alert-popup-rule');
  for (const [k, v] of Object.entries(a.detail)) {
    if (k === 'rule' || (k === 'zone' && v === a.subject)) continue; // the zone has its own row
    detailRow(table, tOr(`alertdetail.${k}`, k), detailValue(v), 'alert-popup-threshold');
  }
  detailRow(table, t('alert.evidence'), t('alert.evidenceCount', { n: a.evidence.length }));
  if (a.ack) {
    detailRow(table, t('alert.acked'), t('alert.ackedBy', { by: a.ack.by ?? '', at: formatTime(a.ack.at) }), 'alert-popup-ack');
    detailRow(table, t('alert.ackNote'), a.ack.note, 'alert-popup-note');
  }
  box.append(table);
  if (a.state === 'open' && canAcknowledge()) box.append(ackForm(a, carried));
  return box;
}

function openPopup(a, carried) {
  if (!Number.isFinite(a.lon) || !Number.isFinite(a.lat) || !getMap()) return;
  popup = showPopup([a.lon, a.lat], detailContent(a, carried), 'alert-popup');
  const mine = popup;
  popup.on('close', () => {
    if (popup === mine) popup = null;
  });
}

/** The chosen alert changed: redraw its evidence and its popup (keeping a half-written note). */
function refreshSelected() {
  const e = store.get(selectedId);
  if (!e) return;
  drawEvidence(e.a);
  if (!popup || !popup.isOpen()) return;
  const content = popup.getElement()?.querySelector('.popup-alert');
  if (!content || content.dataset.alertId !== String(selectedId)) return;
  const note = content.querySelector('.alert-ack-note');
  const carried = note ? { note: note.value } : null;
  const hadFocus = note && document.activeElement === note;
  popup.setDOMContent(detailContent(e.a, carried));
  if (hadFocus) popup.getElement()?.querySelector('.alert-ack-note')?.focus();
}

/**
 * A zoom that shows all of A's evidence around A's position (the evidence box mirrored about the
 * position, since the view is centred on it), between 13 and 17.
 */
function evidenceZoom(map, a) {
  let w = a.lon;
  let e = a.lon;
  let s = a.lat;
  let n = a.lat;
  for (const p of a.evidence) {
    if (!Number.isFinite(p?.lon) || !Number.isFinite(p?.lat)) continue;
    const dx = Math.abs(p.lon - a.lon);
    const dy = Math.abs(p.lat - a.lat);
    w = Math.min(w, a.lon - dx);
    e = Math.max(e, a.lon + dx);
    s = Math.min(s, a.lat - dy);
    n = Math.max(n, a.lat + dy);
  }
  let zoom = Math.max(map.getZoom(), 15);
  if (e - w > 1e-7 || n - s > 1e-7) {
    const cam = map.cameraForBounds([[w, s], [e, n]], { padding: 90 });
    if (cam && Number.isFinite(cam.zoom)) zoom = cam.zoom;
  }
  return Math.min(17, Math.max(13, zoom));
}

/** Choose alert ID: fly to it, draw its evidence and show its details. */
export function selectAlert(id) {
  const e = store.get(id);
  const map = getMap();
  if (!e || !map) return;
  selectedId = id;
  const a = e.a;
  drawEvidence(a);
  if (Number.isFinite(a.lon) && Number.isFinite(a.lat)) {
    // The alert ends up above the middle, leaving room for its popup below it.
    const dy = Math.round(Math.min(220, map.getContainer().clientHeight * 0.3));
    map.flyTo({
      center: [a.lon, a.lat], zoom: evidenceZoom(map, a), offset: [0, -dy], duration: 800, essential: true,
    });
  }
  openPopup(a);
  schedule();
  // The list may hold a trimmed copy: fetch the whole alert (evidence, detail) once.
  refreshOne(id);
}

// ------------------------------------------------------------------ lifecycle

/** Add the evidence source and layers to the (loaded) map, above everything else. */
export function initAlertLayers() {
  const map = getMap();
  map.addSource(SOURCE, { type: 'geojson', data: emptyCollection() });
  map.addLayer({
    id: LAYER_LINE, type: 'line', source: SOURCE, filter: ['==', ['get', 'role'], 'track'],
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': '#c0392b', 'line-width': 2.5, 'line-dasharray': [2, 1.5], 'line-opacity': 0.9 },
  });
  map.addLayer({
    id: LAYER_FIXES, type: 'circle', source: SOURCE, filter: ['==', ['get', 'role'], 'fix'],
    paint: {
      'circle-radius': 4, 'circle-color': '#ffffff', 'circle-stroke-color': '#c0392b', 'circle-stroke-width': 2,
    },
  });
  map.addLayer({
    id: LAYER_AT, type: 'circle', source: SOURCE, filter: ['==', ['get', 'role'], 'at'],
    paint: {
      'circle-radius': 11, 'circle-color': 'rgba(192, 57, 43, 0.12)',
      'circle-stroke-color': '#c0392b', 'circle-stroke-width': 3,
    },
  });
  layersReady = true;
  const e = store.get(selectedId);
  if (e) drawEvidence(e.a);
}

/** Load the alerts of a new session; live events wait until the list is in. */
export async function startAlerts() {
  running = true;
  const gen = ++generation;
  loaded = false;
  activeSeq = null;
  loadError = null;
  renderError();
  renderSoundButton();
  try {
    await loadFilter({ state: 'active', kind: '' }, ACTIVE_LIMIT);
    if (gen !== generation) return;
    if (filter.state === 'closed' || filter.state === 'all') await loadFilter({ ...filter }, FILTER_LIMIT);
  } catch (e) {
    if (gen !== generation) return;
    if (!(e instanceof ApiError && e.status === 401)) showLoadError(e);
  }
  if (gen !== generation) return;
  loaded = true;
  const pending = buffered;
  buffered = [];
  for (const msg of pending) applyEvent(msg);
  schedule();
}

/** Forget everything (logout). */
export function stopAlerts() {
  running = false;
  generation++;
  loaded = false;
  buffered = [];
  store.clear();
  for (const timer of highlighted.values()) clearTimeout(timer);
  highlighted.clear();
  rows.clear();
  listEl.replaceChildren();
  if (frame) cancelAnimationFrame(frame);
  frame = 0;
  selectedId = null;
  popup = null;
  layersReady = false;
  loadError = null;
  renderError();
  countEl.textContent = '0';
  countEl.dataset.count = '0';
  emptyEl.hidden = true;
}

onLangChange(() => {
  renderSoundButton();
  renderError();
  for (const e of store.values()) if (rows.has(e.a.id)) renderRow(e.a);
  schedule();
});
renderSoundButton();

// ------------------------------------------------------------------ for tests and diagnostics

function copy(a) {
  return JSON.parse(JSON.stringify(a));
}

/** A copy of what the panel holds: every alert (newest first), the resume seq, counters. */
export function alertsSnapshot() {
  const all = [...store.values()].sort(compareNewestFirst);
  return {
    loaded,
    error: loadError ? loadError.what : null,
    seq: liveSeq(),
    list: all.map((e) => ({ ...copy(e.a), version: e.v })),
    shown: [...listEl.children].map((li) => li.dataset.alertId),
    open: all.filter((e) => e.a.state === 'open').length,
    active: all.filter((e) => ACTIVE.has(e.a.state)).length,
    filter: { ...filter },
    selected: selectedId,
    highlighted: [...highlighted.keys()],
    sound: { enabled: sound.enabled, requested: sound.requested, played: sound.played, blocked: sound.blocked,
      context: audio ? audio.state : null },
    stats: { ...stats },
  };
}

/** How many features of the evidence layers are drawn in the viewport, by role. */
export function evidenceRendered() {
  const map = getMap();
  const out = { track: 0, fix: 0, at: 0 };
  if (!map || !layersReady) return out;
  for (const f of map.queryRenderedFeatures({ layers: [LAYER_LINE, LAYER_FIXES, LAYER_AT] })) {
    if (f.properties.role in out) out[f.properties.role]++;
  }
  return out;
}
