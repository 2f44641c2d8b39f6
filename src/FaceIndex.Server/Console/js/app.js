// The console's shell: sign-in, the current collection, and a hash router over the views.
import { api, apiKey, setApiKey } from './api.js';
import { h, attempt } from './ui.js';
import { dashboard } from './views/dashboard.js';
import { collections } from './views/collections.js';
import { persons } from './views/persons.js';
import { enrol } from './views/enrol.js';
import { search } from './views/search.js';
import { verify } from './views/verify.js';
import { clustering } from './views/clustering.js';

const views = { dashboard, collections, persons, enrol, search, verify, clustering };
const main = document.getElementById('main');
const picker = document.getElementById('collection');
const COLLECTION_STORE = 'faceindex.collection';
let signedIn = false;
let cleanup = null;

/** The state the views share: the current collection and a way to refresh the collection list. */
export const state = {
  get collection() { return picker.value || 'default'; },
  set collection(name) { localStorage.setItem(COLLECTION_STORE, name); picker.value = name; },
  refreshCollections,
};

async function refreshCollections() {
  const reply = await api.collections();
  const names = (reply.collections ?? []).map(c => c.name);
  const wanted = picker.value || localStorage.getItem(COLLECTION_STORE) || 'default';
  picker.replaceChildren(...names.map(n => h('option', { value: n, text: n })));
  picker.value = names.includes(wanted) ? wanted : (names[0] ?? '');
  return reply.collections ?? [];
}

function showChrome(visible) {
  document.querySelector('nav.tabs').hidden = !visible;
  document.querySelector('.collection-picker').hidden = !visible;
  document.getElementById('sign-out').hidden = !visible;
}

function signInView() {
  showChrome(false);
  const key = h('input', { type: 'password', id: 'api-key', name: 'api-key', autocomplete: 'current-password', required: false });
  const slot = h('div');
  const form = h('form.card.signin', { 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title', text: 'Sign in' }),
    h('p.muted', { text: 'Enter an API key of this server (leave it empty when the server runs without authentication).' }),
    h('label.field', { for: 'api-key' }, 'API key', key),
    slot,
    h('p', {}, h('button', { type: 'submit', text: 'Sign in' })));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    setApiKey(key.value.trim());
    const ok = await attempt(slot, () => refreshCollections());
    if (ok) {
      signedIn = true;
      showChrome(true);
      if (!location.hash || location.hash === '#/signin') { location.hash = '#/dashboard'; } else { route(); }
    } else {
      setApiKey('');
    }
  });
  main.replaceChildren(form);
  key.focus();
}

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  if (!signedIn) { signInView(); return; }
  const [, name = 'dashboard', ...rest] = location.hash.replace(/^#/, '').split('/');
  const view = views[name] ?? dashboard;
  for (const a of document.querySelectorAll('nav.tabs a')) {
    if (a.getAttribute('href') === `#/${name}`) { a.setAttribute('aria-current', 'page'); } else { a.removeAttribute('aria-current'); }
  }
  const container = h('section', { 'aria-live': 'polite' });
  main.replaceChildren(container);
  cleanup = (await view(container, state, rest.map(decodeURIComponent))) ?? null;
  main.focus({ preventScroll: true });
}

picker.addEventListener('change', () => { localStorage.setItem(COLLECTION_STORE, picker.value); route(); });
document.getElementById('sign-out').addEventListener('click', () => { setApiKey(''); signedIn = false; location.hash = '#/signin'; route(); });
window.addEventListener('hashchange', route);

// A key kept for this tab signs in again on reload.
(async () => {
  if (apiKey() || sessionStorage.getItem('faceindex.signedIn')) {
    try { await refreshCollections(); signedIn = true; showChrome(true); } catch { setApiKey(''); }
  }
  route();
})();
window.addEventListener('beforeunload', () => { if (signedIn) { sessionStorage.setItem('faceindex.signedIn', '1'); } });
