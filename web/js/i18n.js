// i18n.js -- every user-visible string of the page, in Chinese (first) and English, and the switch.

const STORAGE_KEY = 'shorewatch.lang';
const LANGS = ['zh-CN', 'en'];

const STRINGS = {
  'zh-CN': {
    'app.title': '昌江采砂监管',
    'app.logout': '退出',
    'app.upload': '上传图层',
    'app.switch': 'English',
    'login.heading': '登录',
    'login.user': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.busy': '正在登录…',
    'login.missing': '请输入用户名和密码',
    'login.failed': '用户名或密码错误',
    'login.network': '无法连接服务器',
    'login.expired': '登录已过期，请重新登录',
    'login.withDetail': '{main}（{detail}）',
    'map.label': '地图',
    'legend.heading': '图例',
    'legend.vessels': '船舶',
    'vessels.heading': '船舶',
    'vessels.noPosition': '无位置',
    'vessels.empty': '暂无船舶',
    'ws.connecting': '连接中',
    'ws.open': '已连接',
    'ws.reconnecting': '重连中',
    'ws.closed': '未连接',
    'kind.river': '河道',
    'kind.mining_zone': '可采区',
    'kind.parking': '集中停放点',
    'kind.no_mining': '禁采区',
    'kind.protection': '水源保护区',
    'kind.shoreline_project': '岸线项目',
    'kind.function_zone': '功能区',
    'vkind.sand_mining': '采砂船',
    'vkind.sand_transport': '运砂船',
    'vkind.other': '其他船舶',
    'role.admin': '管理员',
    'role.officer': '值班员',
    'role.enforcement': '执法',
    'role.planner': '规划',
    'role.viewer': '查看',
    'status.active': '在用',
    'status.inactive': '停用',
    'status.suspended': '暂停',
    'status.seized': '已扣押',
    'field.name': '船名',
    'field.registration': '登记号',
    'field.kind': '类型',
    'field.owner': '所有人',
    'field.terminal': '终端号',
    'field.mmsi': 'MMSI',
    'field.status': '状态',
    'field.speed': '航速',
    'field.course': '航向',
    'field.time': '最后上报',
    'field.position': '位置',
    'field.layer': '图层',
    'unit.kn': '节',
    'time.zone': '北京时间',
    'error.load': '数据加载失败：{what}',
  },
  en: {
    'app.title': 'Shorewatch — Chang River',
    'app.logout': 'Log out',
    'app.upload': 'Upload layers',
    'app.switch': '中文',
    'login.heading': 'Sign in',
    'login.user': 'User name',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'Signing in…',
    'login.missing': 'Enter user name and password',
    'login.failed': 'Wrong user name or password',
    'login.network': 'Cannot reach the server',
    'login.expired': 'Session expired, please sign in again',
    'login.withDetail': '{main} ({detail})',
    'map.label': 'Map',
    'legend.heading': 'Legend',
    'legend.vessels': 'Vessels',
    'vessels.heading': 'Vessels',
    'vessels.noPosition': 'no position',
    'vessels.empty': 'No vessels',
    'ws.connecting': 'Connecting',
    'ws.open': 'Connected',
    'ws.reconnecting': 'Reconnecting',
    'ws.closed': 'Disconnected',
    'kind.river': 'River',
    'kind.mining_zone': 'Mining zone',
    'kind.parking': 'Parking point',
    'kind.no_mining': 'No-mining zone',
    'kind.protection': 'Water source protection',
    'kind.shoreline_project': 'Shoreline project',
    'kind.function_zone': 'Function zone',
    'vkind.sand_mining': 'Sand-mining vessel',
    'vkind.sand_transport': 'Sand-transport vessel',
    'vkind.other': 'Other vessel',
    'role.admin': 'Administrator',
    'role.officer': 'Duty officer',
    'role.enforcement': 'Enforcement',
    'role.planner': 'Planner',
    'role.viewer': 'Viewer',
    'status.active': 'active',
    'status.inactive': 'inactive',
    'status.suspended': 'suspended',
    'status.seized': 'seized',
    'field.name': 'Name',
    'field.registration': 'Registration',
    'field.kind': 'Kind',
    'field.owner': 'Owner',
    'field.terminal': 'Terminal',
    'field.mmsi': 'MMSI',
    'field.status': 'Status',
    'field.speed': 'Speed',
    'field.course': 'Course',
    'field.time': 'Last report',
    'field.position': 'Position',
    'field.layer': 'Layer',
    'unit.kn': 'kn',
    'time.zone': 'UTC+8',
    'error.load': 'Loading failed: {what}',
  },
};

const listeners = new Set();
let current = initialLang();

function initialLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled; Chinese is the default anyway.
  }
  return LANGS.includes(saved) ? saved : 'zh-CN';
}

/** The current language tag ('zh-CN' or 'en'). */
export function lang() {
  return current;
}

/** Translate KEY, replacing {name} placeholders from PARAMS; unknown keys come back as the key. */
export function t(key, params) {
  const s = STRINGS[current][key] ?? STRINGS['zh-CN'][key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Translate KEY if it exists, otherwise return FALLBACK (for codes such as roles from the server). */
export function tOr(key, fallback) {
  return key in STRINGS[current] ? STRINGS[current][key] : fallback;
}

/** Fill every [data-i18n] element's text and [data-i18n-aria] element's aria-label under ROOT. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
  document.documentElement.lang = current;
  document.title = t('app.title');
}

/** Switch to LANG, remember it, re-translate static text and tell every listener. */
export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered; the switch still works for this page.
  }
  applyStatic();
  for (const fn of listeners) fn(current);
}

/** The other language, for the toggle button. */
export function otherLang() {
  return current === 'zh-CN' ? 'en' : 'zh-CN';
}

/** Call FN(lang) after every language change; returns an unsubscribe function. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const formatters = new Map();

/**
 * Format an ISO-8601 time in China's local time (Asia/Shanghai, UTC+8 all year) as
 * "YYYY-MM-DD HH:MM:SS"; with SHORT, today's times show only "HH:MM:SS".
 */
export function formatTime(iso, short = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  let f = formatters.get(current);
  if (!f) {
    f = new Intl.DateTimeFormat(current, {
      timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    formatters.set(current, f);
  }
  const p = {};
  for (const part of f.formatToParts(d)) p[part.type] = part.value;
  const time = `${p.hour}:${p.minute}:${p.second}`;
  const date = `${p.year}-${p.month}-${p.day}`;
  if (short) {
    const today = {};
    for (const part of f.formatToParts(new Date())) today[part.type] = part.value;
    if (today.year === p.year && today.month === p.month && today.day === p.day) return time;
  }
  return `${date} ${time}`;
}
