// live.js -- the live event feed: one WebSocket, reconnect with backoff, status indicator, dispatch by type.
// Alert events carry a sequence number: the feed remembers the highest one seen and reconnects with
// ?since=<it>, so the server replays every alert event missed while the connection was down.

import { liveUrl, token } from './api.js';
import { t, onLangChange } from './i18n.js';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;

const statusEl = document.getElementById('ws-status');
const statusText = statusEl.querySelector('.ws-status-text');

let ws = null;
let state = 'idle'; // idle | connecting | open | reconnecting | closed
let handlers = {};
let attempt = 0;
let retryTimer = 0;
let everOpened = false;
let stopped = true;
let failuresSinceOpen = 0;
let options = {};
// Handlers that modules register for themselves (the map's `layer` events); startLive keeps them.
const moduleHandlers = new Map(); // type -> Set of fn(msg)
const reconnectListeners = new Set();
// The highest alert event seq seen (from the feed or an alert list's "seq"); null: none yet.
let lastSeq = null;
// Debugging and tests: while held, a dropped feed does not reconnect (see dropLive).
let held = false;
let heldPending = false;
let lastUrlSince = null; // the since= of the latest connection attempt, null if none

/**
 * Call FN(msg) for every live message of type TYPE, in addition to startLive's handler for it;
 * lasts across logins. Returns a function that removes it.
 */
export function onLive(type, fn) {
  if (!moduleHandlers.has(type)) moduleHandlers.set(type, new Set());
  moduleHandlers.get(type).add(fn);
  return () => moduleHandlers.get(type).delete(fn);
}

/** Call FN() after every reconnect of the feed (to resync what was missed while it was down). */
export function onLiveReconnect(fn) {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

function setState(next) {
  state = next;
  statusEl.dataset.state = next;
  statusEl.hidden = next === 'idle';
  renderStatus();
}

function renderStatus() {
  const key = { connecting: 'ws.connecting', open: 'ws.open', reconnecting: 'ws.reconnecting', closed: 'ws.closed' }[state];
  statusText.textContent = key ? t(key) : '';
  statusEl.title = statusText.textContent;
}

onLangChange(renderStatus);

/** The feed's state: 'idle', 'connecting', 'open', 'reconnecting' or 'closed'. */
export const liveState = () => state;

/** The highest alert event sequence number seen so far (what a reconnect resumes after), or null. */
export const liveSeq = () => lastSeq;

/** The `since` the latest connection attempt sent, or null when it sent none. */
export const liveSince = () => lastUrlSince;

/**
 * Raise the resume point to SEQ: an alert list fetched over HTTP answers with the seq it is
 * current to, so nothing at or before it needs replaying. Never lowers it.
 */
export function noteLiveSeq(seq) {
  if (Number.isSafeInteger(seq) && seq >= 0 && (lastSeq === null || seq > lastSeq)) lastSeq = seq;
}

function dispatch(data) {
  let msg;
  try {
    msg = JSON.parse(data);
  } catch {
    console.warn('live: a message that is not JSON was ignored');
    return;
  }
  if (!msg || typeof msg.type !== 'string') return;
  if (msg.type === 'alert') noteLiveSeq(msg.seq);
  const fn = handlers[msg.type];
  // Unknown types (e.g. alerts before their UI exists) are ignored on purpose.
  if (fn) fn(msg);
  for (const h of moduleHandlers.get(msg.type) || []) {
    try {
      h(msg);
    } catch (e) {
      console.warn(`live: ${msg.type}: ${e.message}`);
    }
  }
}

function connect() {
  if (stopped || !token()) return;
  setState(everOpened || attempt > 0 ? 'reconnecting' : 'connecting');
  lastUrlSince = lastSeq;
  const sock = new WebSocket(lastSeq === null ? liveUrl() : `${liveUrl()}&since=${lastSeq}`);
  ws = sock;
  sock.addEventListener('open', () => {
    if (ws !== sock) return;
    const resumed = everOpened;
    everOpened = true;
    attempt = 0;
    failuresSinceOpen = 0;
    setState('open');
    if (resumed && options.onReconnect) options.onReconnect();
    if (resumed) for (const fn of reconnectListeners) fn();
  });
  sock.addEventListener('message', (ev) => {
    if (ws === sock && typeof ev.data === 'string') dispatch(ev.data);
  });
  sock.addEventListener('close', () => {
    if (ws !== sock) return;
    ws = null;
    if (stopped) return;
    failuresSinceOpen++;
    scheduleReconnect();
  });
  // 'error' is always followed by 'close'; nothing to do here.
}

function scheduleReconnect() {
  setState('reconnecting');
  // Exponential backoff with jitter, so a restarted server is not hit by every client at once.
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  const delay = base / 2 + Math.random() * (base / 2);
  attempt++;
  // A handshake that keeps failing may mean the token expired: let the caller check over HTTP
  // (a 401 there ends the session); browsers do not expose the handshake's status.
  if (failuresSinceOpen === 3 && options.onRepeatedFailure) options.onRepeatedFailure();
  retryTimer = setTimeout(() => {
    retryTimer = 0;
    if (held) heldPending = true;
    else connect();
  }, delay);
}

/**
 * Open the feed. HANDLERS maps message types to functions; OPTS.onReconnect runs after a
 * reconnect (to resync what was missed), OPTS.onRepeatedFailure after three failed attempts.
 */
export function startLive(handlerMap, opts = {}) {
  stopLive();
  handlers = handlerMap;
  options = opts;
  stopped = false;
  attempt = 0;
  everOpened = false;
  failuresSinceOpen = 0;
  lastSeq = null; // a new session starts from its own alert list
  lastUrlSince = null;
  held = false;
  heldPending = false;
  connect();
}

/** Close the feed for good (logout). */
export function stopLive() {
  stopped = true;
  held = false;
  heldPending = false;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = 0;
  if (ws) {
    const sock = ws;
    ws = null;
    sock.close(1000, 'logout');
  }
  setState('idle');
}

/**
 * For tests and diagnostics: drop the connection as a network failure would. With HOLD, do not
 * reconnect until resumeLive(); otherwise reconnect with the usual backoff.
 */
export function dropLive({ hold = false } = {}) {
  if (stopped) return false;
  held = Boolean(hold);
  if (!ws) return false;
  // The close event then schedules the reconnect; no message is delivered after close().
  ws.close(4000, 'dropped for a test');
  return true;
}

/** For tests and diagnostics: let a feed held by dropLive({hold: true}) reconnect now. */
export function resumeLive() {
  held = false;
  if (heldPending && !stopped) {
    heldPending = false;
    connect();
  }
}
