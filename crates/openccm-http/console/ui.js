// DOM building without HTML strings: every text goes in as a text node,
// so nothing the API returns can become markup.

import { t } from './i18n.js';

// An element: h('a', { href: '#/', class: 'x', onclick: f }, 'text', child)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'value') {
      el.value = v;
    } else if (k === 'checked') {
      el.checked = !!v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Epoch ms as local date and time (YYYY-MM-DD HH:MM).
export function when(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function badge(status) {
  return h('span', { class: `badge status-${String(status).toLowerCase()}` }, t(`status.${status}`));
}

// A page's message line (errors and confirmations), role=alert.
export function notice(kind, text) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// What a certificate is called: its CN, or (a CSR with SANs only) its id.
export function certName(cert) {
  return (cert.distinguished_name && cert.distinguished_name.common_name) || cert.certificate_id;
}

// The sentence for a refused call: what the API said, and why in words.
export function refusal(err) {
  if (err && err.status === 403) {
    return `${t('error.forbidden')} (${err.code}: ${err.message})`;
  }
  if (err && err.status) {
    return `${t('error.failed')} (${err.status} ${err.code}: ${err.message})`;
  }
  return `${t('error.failed')}: ${err}`;
}

// Saves `blob` as a file named `name`.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, class: 'hidden' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function saveText(text, name, type = 'application/x-pem-file') {
  saveBlob(new Blob([text], { type }), name);
}

// A labelled form field; `control` is the input element.
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('small', {}, hint) : null);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

// A definition list of [label, value] rows.
export function details(rows) {
  return h('dl', { class: 'details' },
    rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v === null || v === undefined || v === '' ? '—' : v)]));
}

// A table: columns are [header, cell(row)].
export function table(columns, rows, emptyText) {
  if (!rows.length) {
    return h('p', { class: 'empty' }, emptyText || t('list.empty'));
  }
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', { scope: 'col' }, head)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(row)))))));
}

const DN_PARTS = [['common_name', 'CN'], ['organizational_unit', 'OU'], ['organization', 'O'],
  ['locality', 'L'], ['state', 'ST'], ['country', 'C']];

// A distinguished name as people write it: CN=…, OU=…, O=…, L=…, ST=…, C=…
export function dnText(dn) {
  return DN_PARTS.filter(([k]) => dn && dn[k]).map(([k, short]) => `${short}=${dn[k]}`).join(', ');
}
