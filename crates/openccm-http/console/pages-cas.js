// Private CAs: the hierarchy as a tree, creating a root or subordinate CA,
// and a CA's page (state changes, revocation settings, certificate export).

import { api, query } from './api.js';
import { t } from './i18n.js';
import { h, clear, when, badge, notice, refusal, field, select, details, saveText, dnText } from './ui.js';
import { go, may, render } from './app.js';

const CAS = '/v1/private-certificate-authorities';
export const KEY_ALGORITHMS = ['EC256', 'EC384', 'RSA2048', 'RSA4096', 'SM2'];
export const SIGNATURE_ALGORITHMS = ['SHA256', 'SHA384', 'SHA512', 'SM3'];

// Every CA of the account (the CA quota is 100; 1000 is one page).
export async function allCas() {
  const page = await api('GET', CAS + query({ limit: 1000, sort_key: 'common_name', sort_dir: 'ASC' }));
  return page.certificate_authorities;
}

function caLabel(ca) {
  return ca.distinguished_name.common_name;
}

// The CAs as nested lists: each CA under its issuer (a CA whose issuer is
// not listed, or a root, at the top).
function tree(cas) {
  const byId = new Map(cas.map((ca) => [ca.ca_id, ca]));
  const children = new Map();
  const tops = [];
  for (const ca of cas) {
    if (ca.issuer_id && byId.has(ca.issuer_id)) {
      if (!children.has(ca.issuer_id)) children.set(ca.issuer_id, []);
      children.get(ca.issuer_id).push(ca);
    } else {
      tops.push(ca);
    }
  }
  const branch = (list) => h('ul', { class: 'tree' }, list.map((ca) => h('li', {},
    h('a', { href: `#/cas/${ca.ca_id}`, class: 'ca-link' }, caLabel(ca)),
    ' ', badge(ca.status),
    h('span', { class: 'meta' }, ` ${t(`ca.type.${ca.type}`)} · ${ca.key_algorithm} · ${t('ca.until')} ${when(ca.not_after)}`),
    children.has(ca.ca_id) ? branch(children.get(ca.ca_id)) : null)));
  return branch(tops);
}

export async function caListPage() {
  const cas = await allCas();
  return h('section', {},
    h('div', { class: 'title-row' },
      h('h1', {}, t('ca.list.title')),
      may('pca:ca:create') ? h('a', { class: 'button primary', href: '#/cas/new', id: 'ca-create' }, t('ca.create')) : null),
    cas.length ? h('div', { id: 'ca-tree' }, tree(cas)) : h('p', { class: 'empty' }, t('ca.list.empty')));
}

// A CA's subject: every part is required (pca-v1.md, DistinguishedName).
function dnFields(prefix) {
  const input = (name, attrs = {}) => h('input', { name: `${prefix}${name}`, id: `${prefix}${name}`, required: true, ...attrs });
  return [
    field(t('dn.common_name'), input('common_name', { maxlength: 64 })),
    field(t('dn.organization'), input('organization', { maxlength: 64 })),
    field(t('dn.organizational_unit'), input('organizational_unit', { maxlength: 64 })),
    field(t('dn.country'), input('country', { maxlength: 2, pattern: '[A-Za-z]{2}', value: 'CN' })),
    field(t('dn.state'), input('state', { maxlength: 128 })),
    field(t('dn.locality'), input('locality', { maxlength: 128 })),
  ];
}

// The distinguished name the form's fields give (empty ones left out).
export function dnOf(data, prefix) {
  const dn = {};
  for (const k of ['common_name', 'organization', 'organizational_unit', 'country', 'state', 'locality']) {
    const v = (data.get(`${prefix}${k}`) || '').trim();
    if (v) dn[k] = v;
  }
  return dn;
}

// Validity fields; `prefix` keeps the ids of two forms on one page apart.
export function validityFields(defaultValue, defaultType, prefix = '') {
  return h('div', { class: 'inline' },
    field(t('validity.value'), h('input', { name: 'validity_value', id: `${prefix}validity_value`, type: 'number', min: 1, value: defaultValue, required: true })),
    field(t('validity.type'), select('validity_type', [['YEAR', t('validity.YEAR')], ['MONTH', t('validity.MONTH')], ['DAY', t('validity.DAY')]], defaultType)));
}

// SM2 keys sign with SM3, the others with a SHA-2 hash (pca-v1.md).
export function pairHashWithKey(form) {
  const key = form.querySelector('select[name=key_algorithm]');
  const hash = form.querySelector('select[name=signature_algorithm]');
  key.addEventListener('change', () => {
    if (key.value === 'SM2') hash.value = 'SM3';
    else if (hash.value === 'SM3') hash.value = 'SHA256';
  });
}

export function validityOf(data) {
  return { type: data.get('validity_type'), value: Number(data.get('validity_value')) };
}

export async function caNewPage() {
  const cas = (await allCas()).filter((ca) => ca.status === 'ACTIVED');
  const status = h('div', {});
  const issuer = select('issuer_id', cas.map((ca) => [ca.ca_id, caLabel(ca)]));
  const issuerField = field(t('ca.issuer'), issuer);
  const typeSelect = select('type', [['ROOT', t('ca.type.ROOT')], ['SUBORDINATE', t('ca.type.SUBORDINATE')]], 'ROOT');
  const pathLength = field(t('ca.path_length'), h('input', { name: 'path_length', id: 'path_length', type: 'number', min: 0, max: 6, value: 0 }));
  const sync = () => {
    const sub = typeSelect.value === 'SUBORDINATE';
    issuerField.hidden = !sub;
    pathLength.hidden = !sub;
  };
  typeSelect.addEventListener('change', sync);
  const form = h('form', { class: 'card', id: 'ca-form', onsubmit: submit },
    status,
    field(t('ca.type'), typeSelect),
    issuerField,
    h('fieldset', {}, h('legend', {}, t('dn.title')), dnFields('dn_')),
    h('div', { class: 'inline' },
      field(t('ca.key_algorithm'), select('key_algorithm', KEY_ALGORITHMS.map((a) => [a, a]), 'EC256')),
      field(t('ca.signature_algorithm'), select('signature_algorithm', SIGNATURE_ALGORITHMS.map((a) => [a, a]), 'SHA256'))),
    validityFields(10, 'YEAR'),
    pathLength,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'ca-submit' }, t('ca.create')),
      h('a', { href: '#/cas', class: 'button' }, t('action.cancel'))));
  sync();
  pairHashWithKey(form);

  async function submit(event) {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      type: data.get('type'),
      distinguished_name: dnOf(data, 'dn_'),
      key_algorithm: data.get('key_algorithm'),
      signature_algorithm: data.get('signature_algorithm'),
      validity: validityOf(data),
    };
    if (body.type === 'SUBORDINATE') {
      body.issuer_id = data.get('issuer_id');
      body.path_length = Number(data.get('path_length'));
    }
    clear(status);
    try {
      const created = await api('POST', CAS, body);
      go(`/cas/${created.ca_id}`);
    } catch (err) {
      status.appendChild(notice('error', refusal(err)));
    }
  }

  return h('section', {}, h('h1', {}, t('ca.new.title')), form);
}

export async function caDetailPage({ id }) {
  const ca = await api('GET', `${CAS}/${id}`);
  const status = h('div', { id: 'ca-status' });
  const act = async (label, method, path, body, done) => {
    clear(status);
    try {
      const answer = await api(method, path, body);
      if (done) {
        done(answer);
      } else {
        render();
      }
    } catch (err) {
      status.appendChild(notice('error', refusal(err)));
    }
  };
  const button = (action, key, onclick, attrs = {}) => (may(action)
    ? h('button', { type: 'button', onclick, id: `ca-${key.replace(/\./g, '-')}`, ...attrs }, t(key))
    : null);
  const confirmThen = (question, f) => () => { if (window.confirm(question)) f(); };
  const s = ca.status;
  const crl = ca.crl_configuration || {};
  const actions = h('div', { class: 'actions' },
    (s === 'ACTIVED' || s === 'EXPIRED') ? button('pca:ca:export', 'ca.export', () => act('export', 'POST', `${CAS}/${id}/export`, undefined, (pem) => {
      // One file: the CA's certificate, then the chain above it (empty for a root).
      const chain = (pem.certificate_chain || '').trim();
      saveText(chain ? `${pem.certificate.trim()}\n${chain}\n` : pem.certificate, `${caLabel(ca)}.pem`);
    })) : null,
    s === 'ACTIVED' ? button('pca:ca:disable', 'ca.disable', confirmThen(t('ca.confirm.disable'), () => act('disable', 'POST', `${CAS}/${id}/disable`))) : null,
    s === 'DISABLED' ? button('pca:ca:enable', 'ca.enable', () => act('enable', 'POST', `${CAS}/${id}/enable`)) : null,
    (s === 'DISABLED' || s === 'PENDING' || s === 'EXPIRED') ? button('pca:ca:delete', 'ca.delete', confirmThen(t('ca.confirm.delete'), () => act('delete', 'DELETE', `${CAS}/${id}${query({ pending_days: '7' })}`))) : null,
    s === 'DELETED' ? button('pca:ca:restore', 'ca.restore', () => act('restore', 'POST', `${CAS}/${id}/restore`)) : null,
    s === 'ACTIVED' ? h('a', { class: 'button primary', href: `#/certs/new?issuer_id=${id}` }, t('cert.issue')) : null);
  // How often the CRL is updated (7–30 days), set when publishing starts.
  const crlDays = h('input', { type: 'number', id: 'crl-days', min: 7, max: 30, value: 7 });
  const crlControls = h('div', { class: 'actions' },
    crl.enabled
      ? button('pca:ca:disableCrl', 'ca.crl.disable', () => act('crl', 'POST', `${CAS}/${id}/crl/disable`))
      : (may('pca:ca:enableCrl') ? [
        h('label', { for: 'crl-days' }, t('ca.crl.days')), crlDays,
        // The API requires a bucket name (the cloud writes the CRL to OBS);
        // this server stores it and serves the CRL itself (pca-v1.md).
        button('pca:ca:enableCrl', 'ca.crl.enable', () => act('crl', 'POST', `${CAS}/${id}/crl/enable`,
          { valid_days: Number(crlDays.value), obs_bucket_name: 'openccm' })),
      ] : null),
    // ShowCertificateAuthority does not tell whether OCSP is on: both ways.
    button('pca:ca:updateOcspSwitch', 'ca.ocsp.enable', () => act('ocsp', 'POST', `${CAS}/${id}/ocsp/switch`, { ocsp_switch: true }, () => status.appendChild(notice('ok', t('ca.ocsp.on'))))),
    button('pca:ca:updateOcspSwitch', 'ca.ocsp.disable', () => act('ocsp', 'POST', `${CAS}/${id}/ocsp/switch`, { ocsp_switch: false }, () => status.appendChild(notice('ok', t('ca.ocsp.off'))))));
  const dn = ca.distinguished_name;
  return h('section', {},
    h('h1', {}, caLabel(ca), ' ', badge(s)),
    status,
    actions,
    details([
      [t('ca.id'), ca.ca_id],
      [t('ca.type'), t(`ca.type.${ca.type}`)],
      [t('ca.issuer'), ca.issuer_id ? h('a', { href: `#/cas/${ca.issuer_id}` }, ca.issuer_name) : '—'],
      [t('dn.title'), dnText(dn)],
      [t('ca.key_algorithm'), ca.key_algorithm],
      [t('ca.signature_algorithm'), ca.signature_algorithm],
      [t('ca.serial'), ca.serial_number],
      [t('ca.path_length'), String(ca.path_length)],
      [t('ca.not_before'), when(ca.not_before)],
      [t('ca.not_after'), when(ca.not_after)],
      [t('ca.created'), when(ca.create_time)],
      [t('ca.delete_time'), when(ca.delete_time)],
      [t('ca.crl'), crl.enabled ? `${t('state.on')} (${crl.valid_days} ${t('validity.DAY')}) ${crl.crl_dis_point || ''}` : t('state.off')],
    ]),
    h('h2', {}, t('ca.revocation')),
    crlControls);
}
