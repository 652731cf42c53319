// login.js -- the login form: submit, show the server's error, hand the session over on success.

import { login, ApiError } from './api.js';
import { t, onLangChange } from './i18n.js';

const form = document.getElementById('login-form');
const userInput = document.getElementById('login-user');
const passwordInput = document.getElementById('login-password');
const errorBox = document.getElementById('login-error');
const submit = document.getElementById('login-submit');
const view = document.getElementById('login-view');

// What the error box shows: a message key (re-translated on a language switch) or the server's text.
let shown = null;

function renderError() {
  if (!shown) {
    errorBox.hidden = true;
    errorBox.textContent = '';
    return;
  }
  const main = shown.key ? t(shown.key) : shown.text;
  errorBox.textContent = shown.detail ? t('login.withDetail', { main, detail: shown.detail }) : main;
  errorBox.hidden = false;
}

/**
 * Show MESSAGE in the form ({key} to translate or {text} verbatim, plus an optional untranslated
 * {detail} from the server), or clear it with null.
 */
export function showLoginError(message) {
  shown = message;
  renderError();
}

/** Show the login form (e.g. after logout or an expired token), optionally with a message key. */
export function showLogin(messageKey) {
  view.hidden = false;
  passwordInput.value = '';
  showLoginError(messageKey ? { key: messageKey } : null);
  (userInput.value ? passwordInput : userInput).focus();
}

export function hideLogin() {
  view.hidden = true;
  showLoginError(null);
}

/** Wire the form; ONSUCCESS({token, role, user}) runs after a successful login. */
export function initLogin(onSuccess) {
  onLangChange(renderError);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const user = userInput.value.trim();
    const password = passwordInput.value;
    if (!user || !password) {
      showLoginError({ key: 'login.missing' });
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      const r = await login(user, password);
      hideLogin();
      passwordInput.value = '';
      onSuccess(r);
    } catch (e) {
      if (e instanceof ApiError && e.status === 0) showLoginError({ key: 'login.network' });
      else if (e instanceof ApiError && e.status === 401) {
        // The server's own message goes along, so operators see e.g. a locked account.
        const detail = e.message && !/^401\b/.test(e.message) ? e.message : null;
        showLoginError({ key: 'login.failed', detail });
      } else showLoginError({ text: e.message || t('login.failed') });
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  });
}
