// Private certificates: the list (search, status, issuer, key algorithm and
// tag filters, sorting, pages),
// issuing from a form or from a CSR, and a certificate's page (download in
// every export format, revocation).

import { api, query } from './api.js';
import { t } from './i18n.js';
import { h, clear, when, badge, notice, refusal, field, select, details, table, saveBlob, dnText, certName } from './ui.js';
import { go, may, render } from './app.js';
import { allCas, dnOf, validityFields, validityOf, pairHashWithKey, KEY_ALGORITHMS, SIGNATURE_ALGORITHMS } from './pages-cas.js';

const CERTS = '/v1/private-certificates';
const PAGE = 20;
const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement'];
const REASONS = ['UNSPECIFIED', 'KEY_COMPROMISE', 'CERTIFICATE_AUTHORITY_COMPROMISE', 'AFFILIATION_CHANGED',
  'SUPERSEDED', 'CESSATION_OF_OPERATION', 'CERTIFICATE_HOLD', 'PRIVILEGE_WITHDRAWN', 'ATTRIBUTE_AUTHORITY_COMPROMISE'];
const FORMATS = ['OTHER', 'NGINX', 'APACHE', 'IIS', 'TOMCAT'];

export async function certListPage({ params }) {
  const filters = {
    name: params.get('name') || '',
    status: params.get('status') || '',
    issuer_id: params.get('issuer_id') || '',
    key_algorithm: params.get('key_algorithm') || '',
    tag_key: params.get('tag_key') || '',
    tag_value: params.get('tag_value') ?? '',
    sort_key: params.get('sort_key') || 'create_time',
    sort_dir: params.get('sort_dir') || 'DESC',
  };
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  // The issuer filter lists the CAs, if the user may list them.
  const [page, cas] = await Promise.all([
    api('GET', CERTS + query({ ...filters, limit: PAGE, offset })),
    may('pca:ca:list') ? allCas().catch(() => []) : Promise.resolve([]),
  ]);
  const link = (changes) => `#/certs${query({ ...filters, offset, ...changes })}`;
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    go(`/certs${query({
      name: data.get('name').trim(), status: data.get('status'),
      issuer_id: data.get('issuer_id') || '', key_algorithm: data.get('key_algorithm'),
      tag_key: data.get('tag_key').trim(),
      // A value only with a key; an empty value box means any value.
      tag_value: data.get('tag_key').trim() && data.get('tag_value').trim() ? data.get('tag_value').trim() : '',
      sort_key: data.get('sort_key'), sort_dir: data.get('sort_dir'),
    })}`);
  } },
  field(t('cert.search'), h('input', { name: 'name', id: 'cert-search', type: 'search', value: filters.name, maxlength: 64 })),
  field(t('cert.status'), select('status', [['', t('filter.any')], ['ISSUED', t('status.ISSUED')], ['REVOKED', t('status.REVOKED')], ['EXPIRED', t('status.EXPIRED')]], filters.status)),
  cas.length ? field(t('cert.issuer'), select('issuer_id', [['', t('filter.any')],
    ...cas.map((ca) => [ca.ca_id, ca.distinguished_name.common_name])], filters.issuer_id)) : null,
  field(t('cert.key_algorithm'), select('key_algorithm', [['', t('filter.any')], ...KEY_ALGORITHMS.map((a) => [a, a])], filters.key_algorithm)),
  field(t('cert.tag_key'), h('input', { name: 'tag_key', id: 'cert-tag-key', value: filters.tag_key, placeholder: 'env', maxlength: 128 })),
  field(t('cert.tag_value'), h('input', { name: 'tag_value', id: 'cert-tag-value', value: filters.tag_value, placeholder: 'prod', maxlength: 255 })),
  field(t('list.sort'), select('sort_key', [['create_time', t('cert.created')], ['not_after', t('cert.not_after')], ['common_name', t('cert.name')], ['issuer_name', t('cert.issuer')]], filters.sort_key)),
  field(t('list.direction'), select('sort_dir', [['DESC', t('list.desc')], ['ASC', t('list.asc')]], filters.sort_dir)),
  h('button', { type: 'submit', id: 'cert-filter' }, t('action.search')));
  const last = Math.min(offset + PAGE, page.total);
  return h('section', {},
    h('div', { class: 'title-row' },
      h('h1', {}, t('cert.list.title')),
      (may('pca:ca:issueCert') || may('pca:ca:issueCertByCsr'))
        ? h('a', { class: 'button primary', href: '#/certs/new', id: 'cert-issue' }, t('cert.issue')) : null),
    form,
    h('div', { id: 'cert-table' }, table([
      [t('cert.name'), (c) => h('a', { href: `#/certs/${c.certificate_id}` }, certName(c))],
      [t('cert.status'), (c) => badge(c.status)],
      [t('cert.issuer'), (c) => c.issuer_name],
      [t('cert.key_algorithm'), (c) => c.key_algorithm],
      [t('cert.not_after'), (c) => when(c.not_after)],
    ], page.certificates)),
    h('nav', { class: 'pager', 'aria-label': t('list.pages') },
      h('span', { id: 'cert-range' }, t('list.range', { from: page.total ? offset + 1 : 0, to: last, total: page.total })),
      offset > 0 ? h('a', { href: link({ offset: Math.max(0, offset - PAGE) }), id: 'prev' }, t('list.prev')) : null,
      last < page.total ? h('a', { href: link({ offset: offset + PAGE }), id: 'next' }, t('list.next')) : null));
}

// "DNS:a.example, IP:192.0.2.1" or one per line: names as the API wants them.
function altNames(text) {
  return text.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^(DNS|IP|EMAIL|URI):(.*)$/i.exec(entry);
    if (m) return { type: m[1].toUpperCase(), value: m[2].trim() };
    if (/^[0-9.]+$/.test(entry) || entry.includes(':')) return { type: 'IP', value: entry };
    if (entry.includes('@')) return { type: 'EMAIL', value: entry };
    return { type: 'DNS', value: entry };
  });
}

export async function certNewPage({ params }) {
  const cas = (await allCas()).filter((ca) => ca.status === 'ACTIVED');
  if (!cas.length) {
    return h('section', {}, h('h1', {}, t('cert.new.title')), notice('error', t('cert.new.no_ca')));
  }
  const status = h('div', {});
  const issuer = params.get('issuer_id') || cas[0].ca_id;
  const issuerSelect = () => select('issuer_id', cas.map((ca) => [ca.ca_id, ca.distinguished_name.common_name]), issuer);
  const done = (created) => go(`/certs/${created.certificate_id}`);
  const fail = (err) => { clear(status); status.appendChild(notice('error', refusal(err))); };

  const formTab = h('form', { class: 'card', id: 'cert-form', onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(formTab);
    const body = {
      issuer_id: data.get('issuer_id'),
      distinguished_name: dnOf(data, 'dn_'),
      key_algorithm: data.get('key_algorithm'),
      signature_algorithm: data.get('signature_algorithm'),
      validity: validityOf(data),
      key_usages: data.getAll('key_usages'),
      extended_key_usage: { server_auth: data.get('server_auth') === 'on', client_auth: data.get('client_auth') === 'on' },
    };
    const sans = altNames(data.get('sans') || '');
    if (sans.length) body.subject_alternative_names = sans;
    try { done(await api('POST', CERTS, body)); } catch (err) { fail(err); }
  } },
  h('h2', {}, t('cert.new.form')),
  field(t('cert.issuer'), issuerSelect()),
  h('fieldset', {}, h('legend', {}, t('dn.title')),
    field(t('dn.common_name'), h('input', { name: 'dn_common_name', id: 'dn_common_name', required: true, maxlength: 64 })),
    field(t('dn.organization'), h('input', { name: 'dn_organization', id: 'dn_organization', maxlength: 64 })),
    field(t('dn.organizational_unit'), h('input', { name: 'dn_organizational_unit', id: 'dn_organizational_unit', maxlength: 64 })),
    field(t('dn.country'), h('input', { name: 'dn_country', id: 'dn_country', maxlength: 2, value: 'CN' }))),
  field(t('cert.sans'), h('textarea', { name: 'sans', id: 'sans', rows: 3, placeholder: 'www.example.com\n192.0.2.10' }), t('cert.sans.hint')),
  h('div', { class: 'inline' },
    field(t('cert.key_algorithm'), select('key_algorithm', KEY_ALGORITHMS.map((a) => [a, a]), 'EC256')),
    field(t('cert.signature_algorithm'), select('signature_algorithm', SIGNATURE_ALGORITHMS.map((a) => [a, a]), 'SHA256'))),
  validityFields(1, 'YEAR'),
  h('fieldset', {}, h('legend', {}, t('cert.key_usages')),
    KEY_USAGES.map((u) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'key_usages', value: u, checked: u === 'digitalSignature' }), ` ${u}`)),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'server_auth', checked: true }), ` ${t('cert.server_auth')}`),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'client_auth' }), ` ${t('cert.client_auth')}`)),
  h('button', { type: 'submit', class: 'primary', id: 'cert-submit' }, t('cert.issue')));

  // RSA keys encipher (TLS key transport); EC and SM2 keys may not (RFC 5480).
  const algorithm = formTab.querySelector('select[name=key_algorithm]');
  const encipherment = formTab.querySelector('input[value=keyEncipherment]');
  algorithm.addEventListener('change', () => { encipherment.checked = algorithm.value.startsWith('RSA'); });
  pairHashWithKey(formTab);

  const csrText = h('textarea', { name: 'csr', id: 'csr', rows: 8, required: true, placeholder: '-----BEGIN CERTIFICATE REQUEST-----' });
  const csrFile = h('input', { type: 'file', id: 'csr-file', accept: '.csr,.pem,.req,.txt' });
  csrFile.addEventListener('change', async () => {
    if (csrFile.files.length) csrText.value = await csrFile.files[0].text();
  });
  const csrTab = h('form', { class: 'card', id: 'csr-form', onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(csrTab);
    try {
      done(await api('POST', `${CERTS}/csr`, { issuer_id: data.get('issuer_id'), csr: data.get('csr'), validity: validityOf(data) }));
    } catch (err) { fail(err); }
  } },
  h('h2', {}, t('cert.new.csr')),
  field(t('cert.issuer'), issuerSelect()),
  field(t('cert.csr.file'), csrFile),
  field(t('cert.csr.paste'), csrText),
  validityFields(1, 'YEAR', 'csr-'),
  h('button', { type: 'submit', class: 'primary', id: 'csr-submit' }, t('cert.issue')));

  return h('section', {},
    h('h1', {}, t('cert.new.title')),
    status,
    h('div', { class: 'columns' },
      may('pca:ca:issueCert') ? formTab : null,
      may('pca:ca:issueCertByCsr') ? csrTab : null));
}

export async function certDetailPage({ id }) {
  const cert = await api('GET', `${CERTS}/${id}`);
  const status = h('div', { id: 'cert-status' });
  const fail = (err) => { clear(status); status.appendChild(notice('error', refusal(err))); };
  const name = certName(cert);

  const exportForm = h('form', { class: 'card', id: 'export-form', onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(exportForm);
    const body = { type: data.get('type'), is_compressed: 'true' };
    if (data.get('password')) body.password = data.get('password');
    if (data.get('sm') === 'on') body.is_sm_standard = 'true';
    clear(status);
    try {
      const file = await api('POST', `${CERTS}/${id}/export`, body, { blob: true });
      saveBlob(file.blob, file.name);
      status.appendChild(notice('ok', t('cert.export.done', { name: file.name })));
    } catch (err) { fail(err); }
  } },
  h('h2', {}, t('cert.export')),
  h('div', { class: 'inline' },
    field(t('cert.export.format'), select('type', FORMATS.map((f) => [f, t(`format.${f}`)]), 'OTHER')),
    field(t('cert.export.password'), h('input', { type: 'password', name: 'password', id: 'export-password', maxlength: 32, autocomplete: 'new-password' }), t('cert.export.password.hint'))),
  cert.key_algorithm === 'SM2' ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'sm' }), ` ${t('cert.export.sm')}`) : null,
  h('button', { type: 'submit', class: 'primary', id: 'export-submit' }, t('cert.export.download')));

  const revokeForm = h('form', { class: 'card danger', id: 'revoke-form', onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(revokeForm);
    if (!window.confirm(t('cert.revoke.confirm', { name }))) return;
    try {
      await api('POST', `${CERTS}/${id}/revoke`, { reason: data.get('reason') });
      render();
    } catch (err) { fail(err); }
  } },
  h('h2', {}, t('cert.revoke')),
  field(t('cert.revoke.reason'), select('reason', REASONS.map((r) => [r, t(`reason.${r}`)]), 'UNSPECIFIED')),
  h('button', { type: 'submit', class: 'danger', id: 'revoke-submit' }, t('cert.revoke')));

  // The decoded certificate (OpenSSL's text); the certificate itself is
  // downloaded by ExportCertificate, under its own permission.
  const decoded = h('details', { id: 'cert-decoded' }, h('summary', {}, t('cert.decoded')));
  try {
    const printed = await api('GET', `/console/certificates/${id}`);
    decoded.appendChild(h('pre', { class: 'decoded' }, printed.text));
  } catch (err) {
    decoded.appendChild(notice('error', refusal(err)));
  }
  const enc = cert.enc_cert_info;
  return h('section', {},
    h('h1', {}, name, ' ', h('span', { id: 'cert-badge' }, badge(cert.status))),
    status,
    details([
      [t('cert.id'), cert.certificate_id],
      [t('cert.status'), t(`status.${cert.status}`)],
      [t('cert.issuer'), h('a', { href: `#/cas/${cert.issuer_id}` }, cert.issuer_name)],
      [t('dn.title'), dnText(cert.distinguished_name)],
      [t('cert.key_algorithm'), cert.key_algorithm],
      [t('cert.signature_algorithm'), cert.signature_algorithm],
      [t('cert.gen_mode'), t(`gen_mode.${cert.gen_mode}`)],
      [t('cert.serial'), cert.serial_number],
      [t('cert.not_before'), when(cert.not_before)],
      [t('cert.not_after'), when(cert.not_after)],
      [t('cert.created'), when(cert.create_time)],
      [t('cert.enterprise_project'), cert.enterprise_project_id],
      enc ? [t('cert.enc_serial'), enc.serial_number] : null,
    ].filter(Boolean)),
    decoded,
    h('div', { class: 'columns' },
      cert.status === 'ISSUED' && may('pca:cert:export') ? exportForm : null,
      cert.status === 'ISSUED' && may('pca:cert:revoke') ? revokeForm : null));
}

