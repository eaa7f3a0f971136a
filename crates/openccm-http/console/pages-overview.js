// Overview: counts by status, what expires within 7/30/90 days, and the
// latest issuances and revocations.

import { api, query } from './api.js';
import { t } from './i18n.js';
import { h, when, badge, table, certName } from './ui.js';
import { may } from './app.js';

const DAY = 24 * 3600 * 1000;

async function total(path, params) {
  const page = await api('GET', path + query({ ...params, limit: 1 }));
  return page.total;
}

// What expires within 7, 30 and 90 days: certificates counted by the list's
// `expires_before` (an OpenCCM extension: one small answer per window),
// CAs (a few hundred at most) counted from one page of them.
const WINDOWS = [7, 30, 90];

function certWindowsOf(path, now) {
  return Promise.all(WINDOWS.map(async (days) =>
    [days, await total(path, { status: 'ISSUED', expires_before: now + days * DAY })]));
}

async function caWindowsOf(path, now) {
  const page = await api('GET', path + query({ status: 'ACTIVED', limit: 1000 }));
  return WINDOWS.map((days) =>
    [days, page.certificate_authorities.filter((ca) => ca.not_after < now + days * DAY).length]);
}

function tile(label, value, href, id) {
  return h('a', { class: 'tile', href, id }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
}

export async function overviewPage() {
  const now = Date.now();
  const certs = '/v1/private-certificates';
  const cas = '/v1/private-certificate-authorities';
  // Each part shows what the user may list: the rest reads "—".
  const seeCerts = may('pca:cert:list');
  const seeCas = may('pca:ca:list');
  const none = { certificates: [] };
  const dashes = WINDOWS.map((days) => [days, '—']);
  // One round of requests, all at once.
  const [issued, revoked, expired, active, disabled, latest, revokedList, certWindows, caWindows] = await Promise.all([
    seeCerts ? total(certs, { status: 'ISSUED' }) : '—',
    seeCerts ? total(certs, { status: 'REVOKED' }) : '—',
    seeCerts ? total(certs, { status: 'EXPIRED' }) : '—',
    seeCas ? total(cas, { status: 'ACTIVED' }) : '—',
    seeCas ? total(cas, { status: 'DISABLED' }) : '—',
    seeCerts ? api('GET', certs + query({ sort_key: 'create_time', sort_dir: 'DESC', limit: 5 })) : none,
    seeCerts ? api('GET', certs + query({ status: 'REVOKED', sort_key: 'create_time', sort_dir: 'DESC', limit: 5 })) : none,
    seeCerts ? certWindowsOf(certs, now) : dashes,
    seeCas ? caWindowsOf(cas, now) : dashes,
  ]);
  const recent = (rows) => table([
    [t('cert.name'), (c) => h('a', { href: `#/certs/${c.certificate_id}` }, certName(c))],
    [t('cert.issuer'), (c) => c.issuer_name],
    [t('cert.status'), (c) => badge(c.status)],
    [t('cert.created'), (c) => when(c.create_time)],
  ], rows);
  return h('section', {},
    h('h1', {}, t('overview.title')),
    h('h2', {}, t('overview.counts')),
    h('div', { class: 'tiles' },
      tile(t('status.ISSUED'), issued, '#/certs?status=ISSUED', 'count-issued'),
      tile(t('status.REVOKED'), revoked, '#/certs?status=REVOKED', 'count-revoked'),
      tile(t('status.EXPIRED'), expired, '#/certs?status=EXPIRED', 'count-expired'),
      tile(t('overview.cas_active'), active, '#/cas', 'count-cas-active'),
      tile(t('overview.cas_disabled'), disabled, '#/cas', 'count-cas-disabled')),
    h('h2', {}, t('overview.expiring')),
    h('table', { class: 'compact', id: 'expiring' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), certWindows.map(([d]) => h('th', { scope: 'col' }, t('overview.within', { days: d }))))),
      h('tbody', {},
        h('tr', {}, h('th', { scope: 'row' }, t('nav.certs')), certWindows.map(([, n]) => h('td', {}, n))),
        h('tr', {}, h('th', { scope: 'row' }, t('nav.cas')), caWindows.map(([, n]) => h('td', {}, n))))),
    h('h2', {}, t('overview.recent_issued')),
    recent(latest.certificates),
    h('h2', {}, t('overview.recent_revoked')),
    recent(revokedList.certificates));
}
