// The console's shell: sign-in, the navigation, the language switch and
// the router (the routes below).

import { api, setCsrf, ApiError } from './api.js';
import { t, lang, setLang } from './i18n.js';
import { h, clear, notice, refusal } from './ui.js';
import { overviewPage } from './pages-overview.js';
import { caListPage, caNewPage, caDetailPage } from './pages-cas.js';
import { certListPage, certNewPage, certDetailPage } from './pages-certs.js';
import { scmListPage, scmImportPage, scmDetailPage, csrListPage, csrDetailPage } from './pages-scm.js';
import { usersPage, groupsPage, policiesPage } from './pages-iam.js';

const root = document.getElementById('app');
// Who is signed in (GET /console/session), or null.
let session = null;

const routes = [
  [/^\/overview$/, overviewPage],
  [/^\/cas$/, caListPage],
  [/^\/cas\/new$/, caNewPage],
  [/^\/cas\/([0-9a-f-]{36})$/, caDetailPage],
  [/^\/certs$/, certListPage],
  [/^\/certs\/new$/, certNewPage],
  [/^\/certs\/([0-9a-f-]{36})$/, certDetailPage],
  [/^\/ssl$/, scmListPage],
  [/^\/ssl\/import$/, scmImportPage],
  [/^\/ssl\/(scs[0-9]{13})$/, scmDetailPage],
  [/^\/csrs$/, csrListPage],
  [/^\/csrs\/([0-9a-f]{32})$/, csrDetailPage],
  [/^\/iam\/users$/, usersPage],
  [/^\/iam\/groups$/, groupsPage],
  [/^\/iam\/policies$/, policiesPage],
];

// The route of the location's hash: path, its parameters and the query.
function location() {
  const hash = window.location.hash.replace(/^#/, '') || '/overview';
  const [path, search] = hash.split('?');
  return { path, params: new URLSearchParams(search || '') };
}

export function go(path) {
  window.location.hash = `#${path}`;
}

// What the signed-in user may do (the actions' names).
export function may(action) {
  return !!(session && session.may && session.may[action]);
}

function languageSwitch() {
  const other = lang() === 'zh' ? 'en' : 'zh';
  return h('button', {
    type: 'button', class: 'link', id: 'lang-switch', lang: other,
    onclick: () => {
      setLang(other);
      if (session) {
        render();
      } else {
        // The sign-in page again, in the other language, keeping what was typed.
        const typed = (id) => (document.getElementById(id) || {}).value || '';
        const kept = { domain: typed('signin-domain'), user: typed('signin-user') };
        clear(root).appendChild(signInPage(null, kept));
      }
    },
  }, other === 'zh' ? '中文' : 'English');
}

function signInPage(message, kept = {}) {
  document.title = `${t('signin.title')} · OpenCCM`;
  const status = h('div', {}, message ? notice('error', message) : null);
  const form = h('form', { class: 'card signin', onsubmit: submit },
    h('h1', {}, t('signin.title')),
    status,
    h('div', { class: 'field' }, h('label', { for: 'signin-domain' }, t('signin.domain')),
      h('input', { id: 'signin-domain', name: 'domain', autocomplete: 'organization', required: true, value: kept.domain })),
    h('div', { class: 'field' }, h('label', { for: 'signin-user' }, t('signin.user')),
      h('input', { id: 'signin-user', name: 'user', autocomplete: 'username', required: true, value: kept.user })),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, t('signin.password')),
      h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit', id: 'signin-submit', class: 'primary' }, t('signin.submit')),
    h('p', { class: 'hint' }, t('signin.hint')));

  async function submit(event) {
    event.preventDefault();
    const data = new FormData(form);
    clear(status);
    try {
      session = await api('POST', '/console/session', {
        domain: data.get('domain'), user: data.get('user'), password: data.get('password'),
      });
      setCsrf(session.csrf);
      render();
    } catch (err) {
      status.appendChild(notice('error', err.status === 401 ? t('signin.failed') : refusal(err)));
    }
  }

  return h('main', { class: 'signin-page' }, h('div', { class: 'topright' }, languageSwitch()), form);
}

async function signOut() {
  try {
    await api('DELETE', '/console/session');
  } catch (err) {
    // 401: the session had ended already. Anything else: it may still
    // stand, and the user must know (a shared machine).
    if (err.status !== 401) {
      window.alert(`${t('signout.failed')} ${refusal(err)}`);
      return;
    }
  }
  session = null;
  setCsrf('');
  go('/overview');
  render();
}

window.addEventListener('openccm-session-ended', () => {
  if (!session) return;
  session = null;
  setCsrf('');
  clear(root).appendChild(signInPage(t('signin.expired')));
});

function layout(content, path) {
  const link = (href, key) => h('a', {
    href: `#${href}`, 'aria-current': path.startsWith(href) ? 'page' : null,
  }, t(key));
  return h('div', { class: 'shell' },
    h('header', {},
      h('a', { href: '#/overview', class: 'brand' }, 'OpenCCM'),
      h('nav', { 'aria-label': t('nav.label') },
        link('/overview', 'nav.overview'),
        link('/cas', 'nav.cas'),
        link('/certs', 'nav.certs'),
        link('/ssl', 'nav.ssl'),
        session.is_admin ? link('/iam/users', 'nav.users') : null,
        session.is_admin ? link('/iam/groups', 'nav.groups') : null,
        session.is_admin ? link('/iam/policies', 'nav.policies') : null),
      h('div', { class: 'who' },
        h('span', { id: 'who' }, `${session.user_name} @ ${session.domain_name}`),
        languageSwitch(),
        h('button', { type: 'button', class: 'link', id: 'signout', onclick: signOut }, t('nav.signout')))),
    h('main', { id: 'main' }, content));
}

let rendering = 0;

export async function render() {
  const turn = ++rendering;
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  // Signed out and the sign-in page showing: a new address changes nothing
  // (what was typed stays); the page it names opens after signing in.
  if (!session && root.querySelector('.signin-page')) return;
  if (!session) {
    let expired = false;
    try {
      // 204 (null) when there is no session cookie at all.
      session = await api('GET', '/console/session');
    } catch (err) {
      expired = true;
    }
    if (!session) {
      if (turn === rendering) clear(root).appendChild(signInPage(expired ? t('signin.expired') : null));
      return;
    }
    setCsrf(session.csrf);
  }
  const { path, params } = location();
  const route = routes.find(([pattern]) => pattern.test(path));
  const content = h('div', { class: 'page' }, h('p', { class: 'loading' }, t('loading')));
  clear(root).appendChild(layout(content, path));
  if (!route) {
    clear(content).appendChild(notice('error', t('error.notfound')));
    return;
  }
  const [pattern, page] = route;
  const id = pattern.exec(path)[1];
  try {
    const built = await page({ id, params, session });
    if (turn === rendering) {
      clear(content).appendChild(built);
      const heading = content.querySelector('h1');
      if (heading) {
        document.title = `${heading.textContent} · OpenCCM`;
        // A screen reader and the keyboard start at the new page's title.
        heading.setAttribute('tabindex', '-1');
        heading.focus({ preventScroll: true });
      }
    }
  } catch (err) {
    // A 401 has shown the sign-in page already ('openccm-session-ended').
    if (err instanceof ApiError && err.status === 401) return;
    if (turn === rendering) clear(content).appendChild(notice('error', refusal(err)));
  }
  // Which render finished last, and when (the browser test waits on it;
  // scripts/bench_console.py times pages with it).
  if (turn === rendering) {
    document.body.dataset.rendered = String(turn);
    document.body.dataset.renderedAt = String(performance.now());
  }
}

window.addEventListener('hashchange', render);
render();
