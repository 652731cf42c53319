// main.js -- the page's entry point: language, login/logout, and starting map, fleet and live feed.

import * as api from './api.js';
import { t, tOr, applyStatic, setLang, otherLang, onLangChange } from './i18n.js';
import { initLogin, showLogin, hideLogin } from './login.js';
import {
  createMap, destroyMap, loadLayers, isMapLoaded, isMapMoving, renderedCounts, layerSummary, projectToPage,
  findRenderedPoint,
} from './map.js';
import {
  initVesselLayers, setVessels, applyPosition, clearVessels, vesselSnapshot, positionCount, screenPoint,
  listSnapshot, openDetails, closeDetails, setSort, fitToGroup, renderedVessels,
} from './vessels.js';
import { initReplayLayers, stopReplay, replaySnapshot } from './replay.js';
import { startFleet, stopFleet, fleetSnapshot, setFleetFilter } from './fleet.js';
import { startLive, stopLive, liveState, dropLive, resumeLive, liveSince } from './live.js';
import { initAlertLayers, startAlerts, stopAlerts, alertsSnapshot, evidenceRendered } from './alerts.js';

const appView = document.getElementById('app-view');
const userInfo = document.getElementById('user-info');
const logoutBtn = document.getElementById('logout');
const langBtn = document.getElementById('lang-toggle');

let layersLoaded = [];
let running = false;
let generation = 0; // bumps on logout so late answers of an old session are dropped

function renderLangButton() {
  const other = otherLang();
  langBtn.textContent = other === 'en' ? 'English' : '中文';
  langBtn.lang = other;
}

function renderUser() {
  const s = api.session();
  userInfo.hidden = !s;
  logoutBtn.hidden = !s;
  if (s) userInfo.textContent = `${s.user} · ${tOr(`role.${s.role}`, s.role)}`;
}

async function start() {
  if (running) return;
  running = true;
  const gen = ++generation;
  hideLogin();
  appView.hidden = false;
  renderUser();
  try {
    const config = await api.getConfig();
    if (gen !== generation) return;
    await createMap(config);
    if (gen !== generation) return;
    initVesselLayers();
    initReplayLayers();
    initAlertLayers();
    // The live feed starts first so no position between the snapshot and the feed is lost;
    // positions are ordered by time, so a late snapshot cannot move a vessel backwards.
    startLive({ position: applyPosition }, {
      onReconnect: () => api.getVessels().then(setVessels).catch(() => {}),
      onRepeatedFailure: () => api.getLayers().catch(() => {}),
    });
    // Alert events that arrive before the alert list are held until it is in.
    startAlerts();
    startFleet();
    const [vessels, layers] = await Promise.all([api.getVessels(), api.getLayers()]);
    if (gen !== generation) return;
    setVessels(vessels);
    layersLoaded = await loadLayers(layers);
  } catch (e) {
    if (gen !== generation) return;
    if (e instanceof api.ApiError && e.status === 401) return; // onUnauthorized handles it
    console.error(t('error.load', { what: e.message }));
  }
}

function stop(messageKey) {
  generation++;
  running = false;
  stopLive();
  stopAlerts();
  stopFleet();
  clearVessels();
  stopReplay();
  destroyMap();
  layersLoaded = [];
  api.clearSession();
  appView.hidden = true;
  renderUser();
  showLogin(messageKey);
}

applyStatic();
renderLangButton();
// On short screens the legend starts folded, leaving room for the alerts and the vessel list.
document.getElementById('legend-box').open = window.innerHeight >= 900;
onLangChange(() => {
  renderLangButton();
  renderUser();
});
langBtn.addEventListener('click', () => setLang(otherLang()));
logoutBtn.addEventListener('click', () => stop());
api.onUnauthorized(() => {
  if (running) stop('login.expired');
});
initLogin(() => start());

// A read-only view of the page's state for tests and diagnostics.
Object.defineProperty(window, 'shorewatch', {
  value: Object.freeze({
    get vessels() { return vesselSnapshot(); },
    get ws() { return liveState(); },
    get positionsReceived() { return positionCount(); },
    get mapLoaded() { return isMapLoaded(); },
    get loggedIn() { return running; },
    get layers() { return layerSummary(); },
    get layersLoaded() { return layersLoaded.map((l) => ({ ...l })); },
    get mapMoving() { return isMapMoving(); },
    renderedFeatures: () => renderedCounts(),
    vesselScreenPoint: (id) => screenPoint(id),
    project: (lon, lat) => projectToPage(lon, lat),
    findRenderedPoint: (layerName) => findRenderedPoint(layerName),
    get alerts() { return alertsSnapshot(); },
    alertEvidenceRendered: () => evidenceRendered(),
    get liveSince() { return liveSince(); },
    // Simulate a dropped connection; with {hold: true} it stays down until resumeLive().
    dropLive: (opts) => dropLive(opts),
    resumeLive: () => resumeLive(),
    // The vessel list, details panel, track replay and fleet overview.
    get list() { return listSnapshot(); },
    get replay() { return replaySnapshot(); },
    get fleet() { return fleetSnapshot(); },
    openVessel: (id) => openDetails(id),
    closeVessel: () => closeDetails(),
    sortVessels: (key, dir) => setSort(key, dir),
    filterFleet: (state) => setFleetFilter(state),
    fitToGroup: () => fitToGroup(),
    renderedVessels: () => renderedVessels(),
  }),
  writable: false,
  configurable: false,
});

if (api.token()) start();
else showLogin();
