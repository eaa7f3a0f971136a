// The account administrator's pages: users and their access keys (the
// secret key shown once), groups, and identity policies (a JSON editor that
// checks the document before it is saved; the server checks it again).

import { api, query } from './api.js';
import { t } from './i18n.js';
import { h, clear, notice, refusal, field, select, table, saveText } from './ui.js';
import { render } from './app.js';

const USERS = '/v3/users';
const KEYS = '/v3.0/OS-CREDENTIAL/credentials';
const GROUPS = '/v3/groups';
const POLICIES = '/v5/policies';

// Runs `f`; shows its refusal in `status` (and re-renders on success unless
// `f` returns false).
async function attempt(status, f) {
  clear(status);
  try {
    if ((await f()) !== false) render();
  } catch (err) {
    status.appendChild(notice('error', refusal(err)));
  }
}

export async function usersPage() {
  const { users } = await api('GET', USERS);
  const status = h('div', { id: 'iam-status' });
  const secret = h('div', { id: 'new-key' });
  // Every key of the account in one call, grouped by user.
  const { credentials } = await api('GET', KEYS);
  const keysOf = new Map();
  for (const key of credentials) {
    if (!keysOf.has(key.user_id)) keysOf.set(key.user_id, []);
    keysOf.get(key.user_id).push(key);
  }

  const createForm = h('form', { class: 'card', id: 'user-form', onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(createForm);
    attempt(status, () => api('POST', USERS, { user: { name: data.get('name'), password: data.get('password') } }));
  } },
  h('h2', {}, t('iam.user.create')),
  field(t('iam.user.name'), h('input', { name: 'name', id: 'user-name', required: true, maxlength: 64, autocomplete: 'off' })),
  field(t('signin.password'), h('input', { name: 'password', id: 'user-password', type: 'password', required: true, autocomplete: 'new-password' }), t('iam.user.password.hint')),
  h('button', { type: 'submit', class: 'primary', id: 'user-submit' }, t('iam.user.create')));

  const newKey = (user) => attempt(status, async () => {
    const { credential } = await api('POST', KEYS, { credential: { user_id: user.id, description: 'console' } });
    // The secret key is shown this once: the API never returns it again.
    // Not a live region (a screen reader would read it out), and gone from
    // the page once the administrator says it is saved.
    clear(secret).appendChild(h('div', { class: 'notice ok' },
      h('p', {}, t('iam.key.once')),
      h('p', {}, h('strong', {}, 'AK '), h('code', { id: 'new-ak' }, credential.access)),
      h('p', {}, h('strong', {}, 'SK '), h('code', { id: 'new-sk' }, credential.secret)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => saveText(`access_key = "${credential.access}"\nsecret_key = "${credential.secret}"\n`, `${credential.access}.toml`, 'text/plain') }, t('iam.key.save')),
        h('button', { type: 'button', id: 'key-saved', onclick: () => clear(secret) }, t('iam.key.saved')))));
    return false;
  });

  const rows = users.map((u) => ({ ...u, keys: keysOf.get(u.id) || [] }));
  return h('section', {},
    h('h1', {}, t('iam.users.title')),
    status,
    secret,
    h('div', { id: 'user-table' }, table([
      [t('iam.user.name'), (u) => (u.is_root_user ? `${u.name} (${t('iam.admin')})` : u.name)],
      [t('iam.user.enabled'), (u) => (u.enabled ? t('state.on') : t('state.off'))],
      [t('iam.keys'), (u) => h('ul', { class: 'plain' }, u.keys.map((k) => h('li', {},
        h('code', {}, k.access), ` ${k.status} `,
        h('button', { type: 'button', class: 'link', onclick: () => {
          if (window.confirm(t('iam.key.delete.confirm', { ak: k.access }))) attempt(status, () => api('DELETE', `${KEYS}/${k.access}`));
        } }, t('iam.delete')))))],
      [t('iam.actions'), (u) => h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => newKey(u), 'data-user': u.name, class: 'new-key' }, t('iam.key.create')),
        u.is_root_user ? null : h('button', { type: 'button', onclick: () => attempt(status,
          () => api('PATCH', `${USERS}/${u.id}`, { user: { enabled: !u.enabled } })) }, u.enabled ? t('ca.disable') : t('ca.enable')),
        u.is_root_user ? null : h('button', { type: 'button', class: 'danger', onclick: () => {
          if (window.confirm(t('iam.user.delete.confirm', { name: u.name }))) attempt(status, () => api('DELETE', `${USERS}/${u.id}`));
        } }, t('iam.delete')))],
    ], rows)),
    createForm);
}

export async function groupsPage() {
  const [{ groups }, { users }] = await Promise.all([api('GET', GROUPS), api('GET', USERS)]);
  const status = h('div', { id: 'iam-status' });
  const createForm = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(createForm);
    attempt(status, () => api('POST', GROUPS, { group: { name: data.get('name'), description: data.get('description') } }));
  } },
  h('h2', {}, t('iam.group.create')),
  field(t('iam.group.name'), h('input', { name: 'name', id: 'group-name', required: true, maxlength: 64 })),
  field(t('iam.description'), h('input', { name: 'description', maxlength: 255 })),
  h('button', { type: 'submit', class: 'primary', id: 'group-submit' }, t('iam.group.create')));
  // One button per action (never a form whose default is to grant).
  const membership = (method) => () => {
    const data = new FormData(memberForm);
    attempt(status, async () => {
      await api(method, `${GROUPS}/${data.get('group')}/users/${data.get('user')}`);
      status.appendChild(notice('ok', t('iam.done')));
      return false;
    });
  };
  const memberForm = h('form', { class: 'card', onsubmit: (event) => event.preventDefault() },
    h('h2', {}, t('iam.group.members')),
    field(t('iam.group.name'), select('group', groups.map((g) => [g.id, g.name]))),
    field(t('iam.user.name'), select('user', users.map((u) => [u.id, u.name]))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', id: 'group-add', onclick: membership('PUT') }, t('iam.group.add')),
      h('button', { type: 'button', id: 'group-remove', onclick: membership('DELETE') }, t('iam.group.remove'))));
  return h('section', {},
    h('h1', {}, t('iam.groups.title')),
    status,
    table([
      [t('iam.group.name'), (g) => g.name],
      [t('iam.description'), (g) => g.description],
      [t('iam.actions'), (g) => h('button', { type: 'button', class: 'danger', onclick: () => {
        if (window.confirm(t('iam.group.delete.confirm', { name: g.name }))) attempt(status, () => api('DELETE', `${GROUPS}/${g.id}`));
      } }, t('iam.delete'))],
    ], groups),
    h('div', { class: 'columns' }, createForm, groups.length && users.length ? memberForm : null));
}

// As the server checks them (crates/openccm-app/src/iam/policy/mod.rs,
// valid_action): "*", or three colon-separated parts of letters, digits
// and * ? _ -, at most 128 characters.
const ACTION = /^(\*|[A-Za-z0-9*?_-]*:[A-Za-z0-9*?_-]*:[A-Za-z0-9*?_-]*)$/;

// What is wrong with a policy document, as sentences (empty: nothing).
export function policyProblems(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return [`${t('iam.policy.json')}: ${err.message}`];
  }
  const problems = [];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [t('iam.policy.object')];
  if (doc.Version !== '5.0' && doc.Version !== '1.1') problems.push(t('iam.policy.version'));
  if (!Array.isArray(doc.Statement) || !doc.Statement.length) {
    problems.push(t('iam.policy.statements'));
    return problems;
  }
  doc.Statement.forEach((st, i) => {
    const n = i + 1;
    if (st === null || typeof st !== 'object') { problems.push(t('iam.policy.statement', { n })); return; }
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') problems.push(t('iam.policy.effect', { n }));
    const actions = typeof st.Action === 'string' ? [st.Action] : st.Action;
    if (!Array.isArray(actions) || !actions.length) {
      problems.push(t('iam.policy.action', { n }));
    } else {
      actions.filter((a) => typeof a !== 'string' || a.length > 128 || !ACTION.test(a))
        .forEach((a) => problems.push(t('iam.policy.action_name', { n, action: String(a) })));
    }
  });
  return problems;
}

export async function policiesPage() {
  const [{ policies }, { users }, { groups }] = await Promise.all([api('GET', POLICIES), api('GET', USERS), api('GET', GROUPS)]);
  const status = h('div', { id: 'iam-status' });
  const checked = h('div', { id: 'policy-check', 'aria-live': 'polite' });
  const editor = h('textarea', { name: 'document', id: 'policy-document', rows: 12, spellcheck: 'false',
    value: JSON.stringify({ Version: '5.0', Statement: [{ Effect: 'Allow', Action: ['pca:cert:get', 'pca:cert:list'] }] }, null, 2) });
  const check = () => {
    const problems = policyProblems(editor.value);
    clear(checked).appendChild(problems.length
      ? h('div', { class: 'notice error', role: 'alert' }, h('ul', {}, problems.map((p) => h('li', {}, p))))
      : notice('ok', t('iam.policy.valid')));
    return !problems.length;
  };
  const createForm = h('form', { class: 'card', id: 'policy-form', onsubmit: (event) => {
    event.preventDefault();
    if (!check()) return;
    const data = new FormData(createForm);
    attempt(status, () => api('POST', POLICIES, {
      policy_name: data.get('name'), description: data.get('description'),
      // Compact: the server stores the document as given.
      policy_document: JSON.stringify(JSON.parse(editor.value)),
    }));
  } },
  h('h2', {}, t('iam.policy.create')),
  field(t('iam.policy.name'), h('input', { name: 'name', id: 'policy-name', required: true, maxlength: 128 })),
  field(t('iam.description'), h('input', { name: 'description', maxlength: 255 })),
  field(t('iam.policy.document'), editor),
  checked,
  h('div', { class: 'actions' },
    h('button', { type: 'button', id: 'policy-check-button', onclick: check }, t('iam.policy.check')),
    h('button', { type: 'submit', class: 'primary', id: 'policy-submit' }, t('iam.policy.create'))));
  const principals = [
    ...users.filter((u) => !u.is_root_user).map((u) => [`user:${u.id}`, `${t('iam.user')}: ${u.name}`]),
    ...groups.map((g) => [`group:${g.id}`, `${t('iam.group')}: ${g.name}`])];
  // One button per action (never a form whose default is to grant).
  const binding = (verb) => () => {
    const data = new FormData(attachForm);
    const [kind, id] = String(data.get('principal')).split(':');
    const body = kind === 'user' ? { user_id: id } : { group_id: id };
    attempt(status, async () => {
      await api('POST', `${POLICIES}/${data.get('policy')}/${verb}-${kind}`, body);
      status.appendChild(notice('ok', t('iam.done')));
      return false;
    });
  };
  const attachForm = h('form', { class: 'card', onsubmit: (event) => event.preventDefault() },
    h('h2', {}, t('iam.policy.attach')),
    principals.length ? [
      field(t('iam.policy.name'), select('policy', policies.map((p) => [p.policy_id, p.policy_name]))),
      field(t('iam.principal'), select('principal', principals)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'policy-attach', onclick: binding('attach') }, t('iam.policy.attach')),
        h('button', { type: 'button', id: 'policy-detach', onclick: binding('detach') }, t('iam.policy.detach'))),
    ] : h('p', { class: 'empty' }, t('iam.principal.none')));
  return h('section', {},
    h('h1', {}, t('iam.policies.title')),
    status,
    table([
      [t('iam.policy.name'), (p) => p.policy_name],
      [t('iam.description'), (p) => p.description],
      [t('iam.actions'), (p) => h('button', { type: 'button', class: 'danger', onclick: () => {
        if (window.confirm(t('iam.policy.delete.confirm', { name: p.policy_name }))) attempt(status, () => api('DELETE', `${POLICIES}/${p.policy_id}`));
      } }, t('iam.delete'))],
    ], policies),
    h('div', { class: 'columns' }, createForm, policies.length ? attachForm : null));
}
