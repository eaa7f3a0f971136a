// SSL certificates (SCM): import (paste or upload), the list, a
// certificate's page (export, delete), and CSR management.

import { api, query } from './api.js';
import { t } from './i18n.js';
import { h, clear, notice, refusal, field, select, details, table, saveText } from './ui.js';
import { go, may } from './app.js';

const SCM = '/v3/scm/certificates';
const CSR = '/v3/scm/csr';
const PAGE = 20;
const CSR_ALGORITHMS = ['EC_P256', 'EC_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'];

// A file input that fills `textarea` with the file's text.
function upload(id, textarea) {
  const input = h('input', { type: 'file', id, accept: '.pem,.crt,.cer,.key,.csr,.txt' });
  input.addEventListener('change', async () => {
    if (input.files.length) textarea.value = await input.files[0].text();
  });
  return input;
}

export async function scmListPage({ params }) {
  const content = params.get('content') || '';
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const page = await api('GET', SCM + query({ content, limit: PAGE, offset }));
  const last = Math.min(offset + PAGE, page.total_count);
  const link = (o) => `#/ssl${query({ content, offset: o })}`;
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    go(`/ssl${query({ content: new FormData(form).get('content').trim() })}`);
  } },
  field(t('scm.search'), h('input', { type: 'search', name: 'content', id: 'scm-search', value: content, maxlength: 255 })),
  h('button', { type: 'submit' }, t('action.search')));
  return h('section', {},
    h('div', { class: 'title-row' },
      h('h1', {}, t('scm.list.title')),
      h('div', { class: 'actions' },
        may('scm:cert:upload') ? h('a', { class: 'button primary', href: '#/ssl/import', id: 'scm-import' }, t('scm.import')) : null,
        may('scm::listCsr') ? h('a', { class: 'button', href: '#/csrs' }, t('nav.csrs')) : null)),
    form,
    h('div', { id: 'scm-table' }, table([
      [t('scm.name'), (c) => h('a', { href: `#/ssl/${c.id}` }, c.name)],
      [t('scm.domain'), (c) => c.domain],
      [t('cert.status'), (c) => h('span', { class: `badge status-${String(c.status).toLowerCase()}` }, t(`scm.status.${c.status}`))],
      [t('scm.expires'), (c) => c.expire_time || '—'],
    ], page.certificates)),
    h('nav', { class: 'pager', 'aria-label': t('list.pages') },
      h('span', {}, t('list.range', { from: page.total_count ? offset + 1 : 0, to: last, total: page.total_count })),
      offset > 0 ? h('a', { href: link(Math.max(0, offset - PAGE)) }, t('list.prev')) : null,
      last < page.total_count ? h('a', { href: link(offset + PAGE) }, t('list.next')) : null));
}

export async function scmImportPage() {
  const status = h('div', {});
  const cert = h('textarea', { name: 'certificate', id: 'scm-certificate', rows: 8, required: true, placeholder: '-----BEGIN CERTIFICATE-----' });
  const chain = h('textarea', { name: 'certificate_chain', id: 'scm-chain', rows: 5 });
  const key = h('textarea', { name: 'private_key', id: 'scm-key', rows: 6, required: true, placeholder: '-----BEGIN PRIVATE KEY-----', autocomplete: 'off' });
  const form = h('form', { class: 'card', id: 'scm-import-form', onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { name: data.get('name'), certificate: data.get('certificate'), private_key: data.get('private_key') };
    if (data.get('certificate_chain').trim()) body.certificate_chain = data.get('certificate_chain');
    clear(status);
    try {
      const created = await api('POST', `${SCM}/import`, body);
      go(`/ssl/${created.certificate_id}`);
    } catch (err) {
      status.appendChild(notice('error', refusal(err)));
    }
  } },
  status,
  field(t('scm.name'), h('input', { name: 'name', id: 'scm-name', required: true, minlength: 3, maxlength: 63, pattern: '[A-Za-z0-9_.\\-]+' }), t('scm.name.hint')),
  field(t('scm.certificate'), cert), upload('scm-certificate-file', cert),
  field(t('scm.chain'), chain), upload('scm-chain-file', chain),
  field(t('scm.key'), key), upload('scm-key-file', key),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary', id: 'scm-import-submit' }, t('scm.import')),
    h('a', { href: '#/ssl', class: 'button' }, t('action.cancel'))));
  return h('section', {}, h('h1', {}, t('scm.import.title')), form);
}

export async function scmDetailPage({ id }) {
  const cert = await api('GET', `${SCM}/${id}`);
  const status = h('div', { id: 'scm-status' });
  const fail = (err) => { clear(status); status.appendChild(notice('error', refusal(err))); };
  const exportButton = may('scm:cert:export') ? h('button', { type: 'button', id: 'scm-export', onclick: async () => {
    clear(status);
    try {
      const pem = await api('POST', `${SCM}/${id}/export`);
      // One file (a browser lets a click download one): the certificate
      // and its chain, the key, and an SM2 certificate's encryption pair.
      const parts = [pem.entire_certificate || pem.certificate, pem.private_key, pem.enc_certificate, pem.enc_private_key];
      saveText(`${parts.filter(Boolean).map((p) => p.trim()).join('\n')}\n`, `${cert.name}.pem`);
      status.appendChild(notice('ok', t('scm.exported')));
    } catch (err) { fail(err); }
  } }, t('scm.export')) : null;
  const deleteButton = may('scm:cert:delete') ? h('button', { type: 'button', class: 'danger', id: 'scm-delete', onclick: async () => {
    if (!window.confirm(t('scm.delete.confirm', { name: cert.name }))) return;
    try {
      await api('DELETE', `${SCM}/${id}`);
      go('/ssl');
    } catch (err) { fail(err); }
  } }, t('scm.delete')) : null;
  return h('section', {},
    h('h1', {}, cert.name, ' ', h('span', { class: `badge status-${String(cert.status).toLowerCase()}` }, t(`scm.status.${cert.status}`))),
    status,
    h('div', { class: 'actions' }, exportButton, deleteButton),
    details([
      [t('scm.id'), cert.id],
      [t('scm.domain'), cert.domain],
      [t('scm.sans'), cert.sans],
      [t('cert.signature_algorithm'), cert.signature_algorithm],
      [t('cert.not_before'), cert.not_before],
      [t('cert.not_after'), cert.not_after],
      [t('scm.fingerprint'), cert.fingerprint],
      [t('cert.enterprise_project'), cert.enterprise_project_id],
    ]));
}

export async function csrListPage({ params }) {
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const page = await api('GET', CSR + query({ limit: PAGE, offset }));
  const status = h('div', {});
  const createForm = h('form', { class: 'card', id: 'csr-create-form', onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(createForm);
    const body = { name: data.get('name'), domain_name: data.get('domain_name'), private_key_algo: data.get('private_key_algo'), usage: 'PERSONAL' };
    if (data.get('sans').trim()) body.sans = data.get('sans').trim();
    try {
      const created = await api('POST', CSR, body);
      go(`/csrs/${created.id}`);
    } catch (err) { clear(status); status.appendChild(notice('error', refusal(err))); }
  } },
  h('h2', {}, t('csr.create')),
  field(t('csr.name'), h('input', { name: 'name', id: 'csr-name', required: true, maxlength: 63 })),
  field(t('csr.domain'), h('input', { name: 'domain_name', id: 'csr-domain', required: true, maxlength: 63 })),
  field(t('scm.sans'), h('input', { name: 'sans', id: 'csr-sans', maxlength: 255 }), t('csr.sans.hint')),
  field(t('csr.algorithm'), select('private_key_algo', CSR_ALGORITHMS.map((a) => [a, a]), 'EC_P256')),
  h('button', { type: 'submit', class: 'primary', id: 'csr-create-submit' }, t('csr.create')));
  const csrText = h('textarea', { name: 'csr', id: 'csr-upload-text', rows: 6, required: true });
  const uploadForm = h('form', { class: 'card', id: 'csr-upload-form', onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(uploadForm);
    try {
      const created = await api('POST', `${CSR}/upload`, { name: data.get('name'), csr: data.get('csr') });
      go(`/csrs/${created.id}`);
    } catch (err) { clear(status); status.appendChild(notice('error', refusal(err))); }
  } },
  h('h2', {}, t('csr.upload')),
  field(t('csr.name'), h('input', { name: 'name', required: true, maxlength: 63 })),
  field(t('cert.csr.file'), upload('csr-upload-file', csrText)),
  field(t('cert.csr.paste'), csrText),
  h('button', { type: 'submit', class: 'primary' }, t('csr.upload')));
  const last = Math.min(offset + PAGE, page.total);
  return h('section', {},
    h('h1', {}, t('csr.list.title')),
    status,
    h('div', { id: 'csr-table' }, table([
      [t('csr.name'), (c) => h('a', { href: `#/csrs/${c.id}` }, c.name)],
      [t('csr.domain'), (c) => c.domain_name],
      [t('csr.algorithm'), (c) => c.private_key_algo],
    ], page.csr_list)),
    h('nav', { class: 'pager', 'aria-label': t('list.pages') },
      h('span', {}, t('list.range', { from: page.total ? offset + 1 : 0, to: last, total: page.total })),
      offset > 0 ? h('a', { href: `#/csrs${query({ offset: Math.max(0, offset - PAGE) })}` }, t('list.prev')) : null,
      last < page.total ? h('a', { href: `#/csrs${query({ offset: offset + PAGE })}` }, t('list.next')) : null),
    h('div', { class: 'columns' },
      may('scm::createCsr') ? createForm : null,
      may('scm::uploadCsr') ? uploadForm : null));
}

export async function csrDetailPage({ id }) {
  const csr = await api('GET', `${CSR}/${id}`);
  const status = h('div', {});
  const fail = (err) => { clear(status); status.appendChild(notice('error', refusal(err))); };
  return h('section', {},
    h('h1', {}, csr.name),
    status,
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'csr-download', onclick: () => saveText(csr.csr, `${csr.name}.csr`) }, t('csr.download')),
      may('scm::getCsrPrivateKey') ? h('button', { type: 'button', id: 'csr-key', onclick: async () => {
        try {
          const key = await api('GET', `${CSR}/${id}/private-key`);
          saveText(key.private_key, `${csr.name}.key.pem`);
        } catch (err) { fail(err); }
      } }, t('csr.key.download')) : null,
      may('scm::deleteCsr') ? h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!window.confirm(t('csr.delete.confirm', { name: csr.name }))) return;
        try { await api('DELETE', `${CSR}/${id}`); go('/csrs'); } catch (err) { fail(err); }
      } }, t('csr.delete')) : null),
    details([
      [t('csr.domain'), csr.domain_name],
      [t('scm.sans'), csr.sans],
      [t('csr.algorithm'), csr.private_key_algo],
    ]),
    h('pre', { class: 'decoded', id: 'csr-pem' }, csr.csr));
}

