// upload.js -- the planners' upload page: log in, send a GIS file to POST /api/layers with progress, show the
// whole load report (counts, repaired and skipped features with their reasons, the CRS used, warnings) and
// the layer's versions. Strings come from i18n.js (upload.* keys), Chinese first.

import { ApiError, clearSession, login, request, session, token } from './api.js';
import { t, tOr, lang, applyStatic, setLang, otherLang, onLangChange } from './i18n.js';

const $ = (id) => document.getElementById(id);

let lastReport = null;
let lastVersions = null;

// The report's summary rows, in order: [key, how to show the value].
const SUMMARY = [
  ['layer', (r) => r.layer],
  ['kind', (r) => t(`upload.kind.${r.kind}`)],
  ['version', (r) => r.version],
  ['features', (r) => r.features],
  ['repaired', (r) => r.repaired],
  ['skipped', (r) => r.skipped ?? 0],
  ['closed_polylines', (r) => r.closed_polylines ?? 0, (r) => r.closed_polylines > 0],
  ['source_srs', (r) => t(r.srs_from === 's_srs' ? 'upload.srs.s_srs' : 'upload.srs.file', { srs: r.source_srs })],
  ['driver', (r) => r.driver, (r) => Boolean(r.driver)],
  ['source_layer', (r) => r.source_layer, (r) => Boolean(r.source_layer)],
  ['loaded_by', (r) => r.loaded_by],
  ['source_file', (r) => r.source_file],
];

function applyLang() {
  applyStatic();
  document.title = t('upload.title');
  const toggle = $('lang-toggle');
  toggle.textContent = otherLang() === 'en' ? 'English' : '中文';
  toggle.lang = otherLang();
  if (lastReport) showReport(lastReport);
  if (lastVersions) showVersions(lastVersions);
}

function showView() {
  const s = session();
  const logged = Boolean(token());
  $('login-form').hidden = logged;
  $('upload-form').hidden = !logged;
  $('user-info').hidden = !logged;
  $('user-info').textContent = logged && s ? `${s.user} (${s.role})` : '';
}

function showError(el, msg) {
  el.textContent = msg;
  el.hidden = !msg;
}

/** "可采区.geojson" -> "可采区" (the default layer name). */
function baseName(file) {
  const dot = file.lastIndexOf('.');
  return dot > 0 ? file.slice(0, dot) : file;
}

/**
 * A PostGIS validity reason ("Self-intersection[117.205 29.305]") or one of the loader's own
 * ("empty geometry", "invalid geometry (...), empty once repaired") in the page's language; text
 * it does not know stays as the server wrote it.
 */
export function reasonText(reason) {
  const s = String(reason ?? '');
  if (s === 'empty geometry') return t('upload.reason.empty');
  let m = /^invalid geometry \((.*)\), empty once repaired$/.exec(s);
  if (m) return t('upload.reason.emptyAfterRepair', { why: reasonText(m[1]) });
  m = /^([^[]+)\[(.*)\]$/.exec(s);
  const what = m ? m[1].trim() : s;
  const named = tOr(`upload.reason.${what}`, what);
  return m ? t('upload.reason.at', { what: named, where: m[2] }) : named;
}

/** A server warning line in Chinese when it is one the page knows (else as written). */
export function warningText(w) {
  const s = String(w ?? '');
  if (lang() !== 'zh-CN') return s;
  let m = /^eastings (\d+)-(\d+) carry a zone number \((\d+)\) but (\S+) is declared without one; did you mean EPSG:(\d+)\?$/.exec(s);
  if (m) return t('upload.warn.gkWithZone', { lo: m[1], hi: m[2], zone: m[3], crs: m[4], fit: m[5] });
  m = /^eastings (\d+)-(\d+) have no zone number but (\S+) expects zone (\d+) in front; did you mean EPSG:(\d+)\?$/.exec(s);
  if (m) return t('upload.warn.gkWithoutZone', { lo: m[1], hi: m[2], crs: m[3], zone: m[4], fit: m[5] });
  m = /^eastings (\d+)-(\d+) do not fit (\S+) \(expected (\d+)-(\d+)\)$/.exec(s);
  if (m) return t('upload.warn.gkMisfit', { lo: m[1], hi: m[2], crs: m[3], elo: m[4], ehi: m[5] });
  m = /^ledger: (\d+) date\(s\) not understood, left empty: (.*)$/.exec(s);
  if (m) return t('upload.warn.ledgerDates', { n: m[1], list: m[2] });
  return s;
}

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  tr.append(td);
}

/** Fills table ID's body with ITEMS (repaired or skipped features); WITH_ID adds the feature id. */
function showItems(box, id, items, total, withId) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const it of items) {
    const tr = document.createElement('tr');
    cell(tr, `#${it.row}`);
    cell(tr, it.fid);
    if (withId) cell(tr, it.id);
    cell(tr, reasonText(it.reason));
    body.append(tr);
  }
  const more = $(`${id}-more`);
  more.hidden = total <= items.length;
  more.textContent = more.hidden ? '' : t('upload.moreItems', { n: total - items.length });
  $(box).hidden = items.length === 0 && total === 0;
}

function showReport(r) {
  const dl = $('report-list');
  dl.replaceChildren();
  for (const [key, value, shown] of SUMMARY) {
    if (shown && !shown(r)) continue;
    const dt = document.createElement('dt');
    dt.textContent = t(`upload.r.${key}`);
    const dd = document.createElement('dd');
    dd.id = `report-${key}`;
    const v = value(r);
    dd.textContent = v === null || v === undefined ? '' : String(v);
    dl.append(dt, dd);
  }
  const warnings = Array.isArray(r.warnings) ? r.warnings : [];
  const ul = $('report-warnings');
  ul.replaceChildren(...warnings.map((w) => {
    const li = document.createElement('li');
    li.textContent = warningText(w);
    li.title = w;
    return li;
  }));
  $('report-warnings-box').hidden = warnings.length === 0;
  showItems('report-repaired-box', 'repaired-table', r.repaired_features ?? [], r.repaired ?? 0, true);
  showItems('report-skipped-box', 'skipped-table', r.skipped_features ?? [], r.skipped ?? 0, false);
  $('report').hidden = false;
}

function showVersions(list) {
  const body = $('versions').tBodies[0];
  body.replaceChildren();
  for (const v of list) {
    const tr = document.createElement('tr');
    if (v.current) tr.className = 'current';
    for (const key of ['version', 'loaded_at', 'loaded_by', 'source_file', 'source_srs', 'features', 'repaired']) {
      cell(tr, v[key]);
    }
    body.append(tr);
  }
}

/** POST the file with XMLHttpRequest (fetch cannot report upload progress); resolves {status, json}. */
function send(file, params, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/layers?${new URLSearchParams(params)}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token() ?? ''}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      resolve({ status: xhr.status, json });
    };
    xhr.onerror = () => reject(new ApiError(0, t('upload.e.network'), '/api/layers'));
    xhr.send(file);
  });
}

async function onUpload(ev) {
  ev.preventDefault();
  const err = $('upload-error');
  const file = $('file').files[0];
  const name = $('name').value.trim();
  showError(err, '');
  if (!file) return showError(err, t('upload.e.nofile'));
  if (!name) return showError(err, t('upload.e.noname'));
  const params = { kind: $('kind').value, name, filename: file.name };
  for (const [id, key] of [['code-field', 'code_field'], ['s-srs', 's_srs'], ['encoding', 'encoding'], ['src-layer', 'layer']]) {
    const v = $(id).value.trim();
    if (v) params[key] = v;
  }
  if ($('skip-invalid').checked) params.skip_invalid = '1';
  const button = $('upload-submit');
  const progress = $('progress');
  button.disabled = true;
  button.textContent = t('upload.uploading');
  progress.hidden = false;
  progress.value = 0;
  try {
    const res = await send(file, params, (f) => {
      progress.value = Math.round(f * 100);
      if (f >= 1) button.textContent = t('upload.loading');
    });
    if (res.status === 201 && res.json) {
      lastReport = res.json;
      showReport(res.json);
      lastVersions = await request(`/api/layers/${encodeURIComponent(res.json.layer)}/versions`);
      showVersions(lastVersions);
    } else if (res.status === 401) {
      clearSession();
      showView();
      showError($('login-error'), t('upload.e.session'));
    } else {
      const msg = res.json?.error
        ?? (res.status === 403 ? t('upload.e.role') : res.status === 413 ? t('upload.e.large') : `HTTP ${res.status}`);
      showError(err, msg);
    }
  } catch (e) {
    showError(err, e.message || t('upload.e.network'));
  } finally {
    button.disabled = false;
    button.textContent = t('upload.submit');
    progress.hidden = true;
  }
}

async function onLogin(ev) {
  ev.preventDefault();
  showError($('login-error'), '');
  try {
    await login($('login-user').value.trim(), $('login-password').value);
    showView();
  } catch (e) {
    showError($('login-error'), e.message);
  }
}

$('lang-toggle').addEventListener('click', () => setLang(otherLang()));
onLangChange(applyLang);
$('login-form').addEventListener('submit', onLogin);
$('upload-form').addEventListener('submit', onUpload);
$('file').addEventListener('change', () => {
  const f = $('file').files[0];
  if (f) $('name').value = baseName(f.name);
});
applyLang();
showView();
document.body.dataset.ready = '1';
