// api.js -- the HTTP client: the session token, authorised JSON requests, and "session ended" news.

const TOKEN_KEY = 'shorewatch.token';
const SESSION_KEY = 'shorewatch.session';

/** Thrown for any non-2xx answer; STATUS is the HTTP status, 0 for a network failure. */
export class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.path = path;
  }
}

const unauthorizedListeners = new Set();

/** Call FN() when an authorised request answers 401: the token is no longer good. */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/** The session token, or null when not logged in. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The logged-in {user, role}, or null. */
export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch {
    return null;
  }
}

/** Forget the token (logout, or after a 401). */
export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(SESSION_KEY);
}

async function errorMessage(res) {
  try {
    const body = await res.json();
    if (body && typeof body.error === 'string') return body.error;
  } catch {
    // Not JSON; the status text will do.
  }
  return `${res.status} ${res.statusText}`.trim();
}

/**
 * Request PATH (same origin) and return the parsed JSON body. With AUTH (the default), send the
 * bearer token and treat a 401 as the end of the session.
 */
export async function request(path, { method = 'GET', body, auth = true, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const tok = token();
  if (auth && tok) headers.Authorization = `Bearer ${tok}`;
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'same-origin',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, e.message, path);
  }
  if (!res.ok) {
    const err = new ApiError(res.status, await errorMessage(res), path);
    if (res.status === 401 && auth) {
      clearSession();
      for (const fn of unauthorizedListeners) fn(err);
    }
    throw err;
  }
  if (res.status === 204) return null;
  return res.json();
}

/** POST /api/login; on success keep the token and return {token, role, user}. */
export async function login(user, password) {
  const r = await request('/api/login', { method: 'POST', body: { user, password }, auth: false });
  if (!r || typeof r.token !== 'string') throw new ApiError(500, 'no token in the answer', '/api/login');
  sessionStorage.setItem(TOKEN_KEY, r.token);
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ user: r.user ?? user, role: r.role ?? '' }));
  return r;
}

export const getConfig = () => request('/api/config', { auth: false });
export const getLayers = () => request('/api/layers');
export const getLayerItems = (name) =>
  request(`/collections/${encodeURIComponent(name)}/items?limit=10000`);
export const getVessels = () => request('/api/vessels');
export const getVessel = (id) => request(`/api/vessels/${encodeURIComponent(id)}`);

/** The WebSocket URL of the live feed for the current token. */
export function liveUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token() ?? '')}`;
}
