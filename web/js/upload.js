// upload.js -- the planners' upload page: log in, send a GIS file to POST /api/layers with progress, show the report.

import { ApiError, clearSession, login, request, session, token } from './api.js';

const LANG_KEY = 'shorewatch.lang'; // shared with the map page (i18n.js)

// The page's own strings (the map's i18n.js belongs to the map page).
const STRINGS = {
  zh: {
    title: '图层上传', back: '返回地图', login: '登录', user: '用户名', password: '密码',
    heading: '上传规划图层文件',
    formats: '支持：压缩的 Shapefile (.zip)、GeoPackage、GeoJSON、KML/KMZ、DXF、含 WKT 的 CSV',
    file: '文件', kind: '图层类型', name: '图层名称', more: '更多选项',
    code_field: '编号字段（可选）', s_srs: '源坐标系（可选，如 EPSG:4548）', encoding: '编码（可选，如 GBK）',
    src_layer: '源图层（多图层文件）', upload: '上传', uploading: '上传中…', loading: '载入中…',
    report: '载入报告', versions: '版本',
    'k.shoreline_project': '岸线利用项目', 'k.mining_zone': '可采区', 'k.parking': '集中停放点',
    'k.no_mining': '禁采区', 'k.protection': '水源保护区', 'k.function_zone': '岸线功能区', 'k.river': '河道',
    'r.layer': '图层', 'r.kind': '类型', 'r.version': '版本', 'r.features': '要素数', 'r.repaired': '已修复几何',
    'r.source_srs': '源坐标系', 'r.loaded_by': '载入人', 'r.source_file': '源文件',
    'v.version': '版本', 'v.loaded_at': '载入时间', 'v.loaded_by': '载入人', 'v.source_file': '源文件',
    'v.source_srs': '坐标系', 'v.features': '要素', 'v.repaired': '已修复',
    'e.nofile': '请选择文件', 'e.noname': '请填写图层名称', 'e.network': '网络错误', 'e.role': '需要规划员权限',
    'e.session': '登录已过期，请重新登录', 'e.large': '文件过大',
    lang: 'English',
  },
  en: {
    title: 'Layer upload', back: 'Back to the map', login: 'Log in', user: 'User name', password: 'Password',
    heading: 'Upload a planning layer file',
    formats: 'Accepted: zipped Shapefile (.zip), GeoPackage, GeoJSON, KML/KMZ, DXF, CSV with WKT',
    file: 'File', kind: 'Layer kind', name: 'Layer name', more: 'More options',
    code_field: 'Code field (optional)', s_srs: 'Source CRS (optional, e.g. EPSG:4548)',
    encoding: 'Encoding (optional, e.g. GBK)', src_layer: 'Source layer (multi-layer files)',
    upload: 'Upload', uploading: 'Uploading…', loading: 'Loading…',
    report: 'Load report', versions: 'Versions',
    'k.shoreline_project': 'Shoreline use projects', 'k.mining_zone': 'Mining zones', 'k.parking': 'Parking points',
    'k.no_mining': 'No-mining zones', 'k.protection': 'Water source protection', 'k.function_zone': 'Shoreline function zones',
    'k.river': 'Rivers',
    'r.layer': 'Layer', 'r.kind': 'Kind', 'r.version': 'Version', 'r.features': 'Features',
    'r.repaired': 'Repaired geometries', 'r.source_srs': 'Source CRS', 'r.loaded_by': 'Loaded by',
    'r.source_file': 'Source file',
    'v.version': 'Version', 'v.loaded_at': 'Loaded at', 'v.loaded_by': 'By', 'v.source_file': 'File',
    'v.source_srs': 'CRS', 'v.features': 'Features', 'v.repaired': 'Repaired',
    'e.nofile': 'Choose a file', 'e.noname': 'Give the layer a name', 'e.network': 'Network error',
    'e.role': 'The planner role is needed', 'e.session': 'The session ended: log in again', 'e.large': 'The file is too large',
    lang: '中文',
  },
};

let lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
const t = (key) => STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
const $ = (id) => document.getElementById(id);

let lastReport = null;
let lastVersions = null;

function applyLang() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  const toggle = $('lang-toggle');
  toggle.textContent = t('lang');
  toggle.lang = lang === 'en' ? 'zh-CN' : 'en';
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

function showReport(r) {
  const dl = $('report-list');
  dl.replaceChildren();
  for (const key of ['layer', 'kind', 'version', 'features', 'repaired', 'source_srs', 'loaded_by', 'source_file']) {
    const dt = document.createElement('dt');
    dt.textContent = t(`r.${key}`);
    const dd = document.createElement('dd');
    dd.id = `report-${key}`;
    dd.textContent = key === 'kind' ? t(`k.${r.kind}`) : String(r[key] ?? '');
    dl.append(dt, dd);
  }
  $('report').hidden = false;
}

function showVersions(list) {
  const body = $('versions').tBodies[0];
  body.replaceChildren();
  for (const v of list) {
    const tr = document.createElement('tr');
    if (v.current) tr.className = 'current';
    for (const key of ['version', 'loaded_at', 'loaded_by', 'source_file', 'source_srs', 'features', 'repaired']) {
      const td = document.createElement('td');
      td.textContent = String(v[key] ?? '');
      tr.append(td);
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
    xhr.onerror = () => reject(new ApiError(0, t('e.network'), '/api/layers'));
    xhr.send(file);
  });
}

async function onUpload(ev) {
  ev.preventDefault();
  const err = $('upload-error');
  const file = $('file').files[0];
  const name = $('name').value.trim();
  showError(err, '');
  if (!file) return showError(err, t('e.nofile'));
  if (!name) return showError(err, t('e.noname'));
  const params = { kind: $('kind').value, name, filename: file.name };
  for (const [id, key] of [['code-field', 'code_field'], ['s-srs', 's_srs'], ['encoding', 'encoding'], ['src-layer', 'layer']]) {
    const v = $(id).value.trim();
    if (v) params[key] = v;
  }
  const button = $('upload-submit');
  const progress = $('progress');
  button.disabled = true;
  button.textContent = t('uploading');
  progress.hidden = false;
  progress.value = 0;
  try {
    const res = await send(file, params, (f) => {
      progress.value = Math.round(f * 100);
      if (f >= 1) button.textContent = t('loading');
    });
    if (res.status === 201 && res.json) {
      lastReport = res.json;
      showReport(res.json);
      lastVersions = await request(`/api/layers/${encodeURIComponent(res.json.layer)}/versions`);
      showVersions(lastVersions);
    } else if (res.status === 401) {
      clearSession();
      showView();
      showError($('login-error'), t('e.session'));
    } else {
      const msg = res.json?.error
        ?? (res.status === 403 ? t('e.role') : res.status === 413 ? t('e.large') : `HTTP ${res.status}`);
      showError(err, msg);
    }
  } catch (e) {
    showError(err, e.message || t('e.network'));
  } finally {
    button.disabled = false;
    button.textContent = t('upload');
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

$('lang-toggle').addEventListener('click', () => {
  lang = lang === 'en' ? 'zh' : 'en';
  localStorage.setItem(LANG_KEY, lang === 'en' ? 'en' : 'zh-CN');
  applyLang();
});
$('login-form').addEventListener('submit', onLogin);
$('upload-form').addEventListener('submit', onUpload);
$('file').addEventListener('change', () => {
  const f = $('file').files[0];
  if (f) $('name').value = baseName(f.name);
});
applyLang();
showView();
document.body.dataset.ready = '1';
