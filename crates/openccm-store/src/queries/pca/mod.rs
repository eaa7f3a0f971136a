//! PCA queries: CAs, certificates, serial reservations, quota counters.
//! Rows and their columns are `rows.rs`; the steps writes share inside
//! their transactions are `steps.rs`.

use async_trait::async_trait;

mod quota;
mod rows;
mod search;
mod steps;

use super::{
    by_id, corrupt, delete_tags, like_pattern, locks, placeholders, set_tag, sort_dir, Conditions,
    Sql,
};
use crate::db::{args, params, Backend, Durability, Finish};
use crate::ids::{CaId, CertId, DomainId};
use crate::records::{
    CaFilter, CaRecord, CaSortKey, CertFilter, CertRecord, CertSortKey, InsertOutcome, Page,
    TaggedResource, UpdateOutcome,
};
use crate::{
    CaState, CaStatus, CertStatus, ImportedCertificate, PcaStore, RevocationReason,
    SerialReservation, StoreError, StoreEvent, StoreResult,
};
use quota::{release_certificate_quota, take_certificate_quota, Taken};
use rows::{ca_args, cert_args, cert_from_row, CERT_LIST_COLUMNS};
pub(super) use rows::{ca_from_row, CA_COLUMNS, CA_NOT_GONE, CERT_COLUMNS};
use steps::{
    count_certificates_by, count_listed_cas, counter_slot, fail_serials, intent_serials,
    record_revocation, reserve_serial, status_list, Revoked, UNMARKED_EXPIRED,
};

impl<B: Backend> Sql<B> {
    /// How many live certificates of the account have `status` (any, if
    /// `None`), off the counters of `0012_certificate_counts.sql`: what
    /// `COUNT(*)` would say, without reading the certificates. Expiry as
    /// marked: [`Self::mark_expired`] first for the statuses it decides.
    async fn counted_certificates(
        &self,
        domain: &DomainId,
        status: Option<CertStatus>,
    ) -> StoreResult<i64> {
        let row = self
            .read_one(
                "SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) AS live, \
                 CAST(COALESCE(SUM(revoked), 0) AS BIGINT) AS revoked, \
                 CAST(COALESCE(SUM(expired), 0) AS BIGINT) AS expired \
                 FROM certificate_counts WHERE domain_id = $1",
                args![domain.as_str()],
            )
            .await?
            .ok_or_else(|| corrupt("certificate_counts"))?;
        let (live, revoked, expired) = (row.int("live")?, row.int("revoked")?, row.int("expired")?);
        Ok(match status {
            None => live,
            Some(CertStatus::Revoked) => revoked,
            Some(CertStatus::Expired) => expired,
            Some(CertStatus::Issued) => live - revoked - expired,
        })
    }

    /// Marks the account's live, unrevoked certificates whose notAfter has
    /// passed by `now` as expired, and counts them. A read finds first
    /// whether there are any, so that a list writes only when a certificate
    /// expired since the last one. Concurrent marks (other servers) each
    /// count only the rows they changed.
    async fn mark_expired(&self, domain: &DomainId, now: i64) -> StoreResult<()> {
        let pending = self
            .read_one(
                &format!("SELECT 1 AS one FROM certificates WHERE {UNMARKED_EXPIRED} LIMIT 1"),
                args![domain.as_str(), now],
            )
            .await?;
        if pending.is_none() {
            return Ok(());
        }
        let domain = domain.to_string();
        // Deferred: a mark lost to a crash is made again by the next list,
        // and its counts go with it.
        self.write(Durability::Deferred, move |tx| {
            Box::pin(async move {
                let marked = tx
                    .exec(
                        &format!("UPDATE certificates SET expired_at = not_after WHERE {UNMARKED_EXPIRED}"),
                        &params![domain.as_str(), now],
                    )
                    .await?;
                // Any slot adds up the same; marks are rare enough for one.
                count_certificates_by(tx, &domain, 0, 0, 0, i64::try_from(marked).unwrap_or(i64::MAX))
                    .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    /// Replaces a CA's mutable fields if its status is one of `expected`,
    /// reserving `serial` and recording `revocation` in the same
    /// transaction; announces the change (and the revocation's) on commit.
    async fn change_ca(
        &self,
        ca: &CaRecord,
        expected: &[CaState],
        serial: Option<&SerialReservation>,
        revocation: Option<Revoked>,
    ) -> StoreResult<UpdateOutcome> {
        let (ca, serial) = (ca.clone(), serial.cloned());
        let ca_id = ca.ca_id.clone();
        let issuer = revocation.as_ref().map(|r| r.issuer.clone());
        // A CA's key is set when the CA is created and never by a change:
        // a record read before a master-key rotation re-sealed the key
        // must not write the old seal back (the stored one is kept; the
        // placeholder stays referenced, so both backends type it).
        let assignments: Vec<String> = CA_COLUMNS
            .split(", ")
            .enumerate()
            .map(|(i, column)| match column.trim() {
                key @ ("key_owner" | "sealed_key") => {
                    format!("{key} = COALESCE({key}, ${})", i + 1)
                }
                column => format!("{column} = ${}", i + 1),
            })
            .collect();
        let sql = format!(
            "UPDATE cas SET {} WHERE ca_id = $1 AND domain_id = $2 AND status IN ({})",
            assignments.join(", "),
            status_list(expected)
        );
        let outcome = self
            .write(Durability::Durable, move |tx| {
                Box::pin(async move {
                    if let Some(serial) = &serial {
                        if !reserve_serial(
                            tx,
                            serial,
                            ca.ca_id.as_str(),
                            &ca.domain_id,
                            ca.create_time,
                        )
                        .await?
                        {
                            return Ok(Finish::Rollback(UpdateOutcome::SerialTaken));
                        }
                    }
                    if tx.exec(&sql, &ca_args(&ca)).await? != 1 {
                        return Ok(Finish::Rollback(UpdateOutcome::StateChanged));
                    }
                    if let Some(revocation) = &revocation {
                        record_revocation(tx, revocation).await?;
                    }
                    tx.notify_ca_changed(ca.ca_id.as_str()).await?;
                    Ok(Finish::Commit(UpdateOutcome::Updated))
                })
            })
            .await?;
        if outcome == UpdateOutcome::Updated {
            let _ = self.0.events().send(StoreEvent::CaChanged(ca_id));
            if let Some(issuer) = issuer {
                let _ = self.0.events().send(StoreEvent::CaChanged(issuer));
            }
        }
        Ok(outcome)
    }
}

#[async_trait]
impl<B: Backend> PcaStore for Sql<B> {
    async fn insert_ca(
        &self,
        ca: &CaRecord,
        serial: Option<&SerialReservation>,
        quota: Option<i64>,
        now: i64,
    ) -> StoreResult<InsertOutcome> {
        let (ca, serial) = (ca.clone(), serial.cloned());
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.lock(locks::DOMAIN, ca.domain_id.as_str()).await?;
                if let Some(quota) = quota {
                    if count_listed_cas(tx, &ca.domain_id, now).await? >= quota {
                        return Ok(Finish::Rollback(InsertOutcome::QuotaExceeded));
                    }
                }
                if let Some(serial) = &serial {
                    if !reserve_serial(tx, serial, ca.ca_id.as_str(), &ca.domain_id, now).await? {
                        return Ok(Finish::Rollback(InsertOutcome::SerialTaken));
                    }
                }
                tx.exec(
                    &format!(
                        "INSERT INTO cas ({CA_COLUMNS}) VALUES ({})",
                        placeholders(37)
                    ),
                    &ca_args(&ca),
                )
                .await?;
                Ok(Finish::Commit(InsertOutcome::Inserted))
            })
        })
        .await
    }

    async fn ca(&self, domain: &DomainId, ca_id: &CaId, now: i64) -> StoreResult<Option<CaRecord>> {
        let sql = format!(
            "SELECT {CA_COLUMNS} FROM cas WHERE ca_id = $1 AND domain_id = $2 AND {}",
            CA_NOT_GONE.replace('?', "$3")
        );
        self.read_one(&sql, args![ca_id.as_str(), domain.as_str(), now])
            .await?
            .as_ref()
            .map(ca_from_row)
            .transpose()
    }

    async fn list_cas(
        &self,
        domain: &DomainId,
        filter: &CaFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<(i64, Vec<CaRecord>)> {
        let mut c = Conditions::default();
        c.push("domain_id = ?", args![domain.as_str()]);
        c.push("listed = ?", args![true]);
        c.push(CA_NOT_GONE, args![now]);
        super::push_visibility(
            &mut c,
            &filter.visibility,
            "enterprise_project_id",
            "pca-ca",
            "cas.ca_id",
        );
        super::push_tag_filter(&mut c, "pca-ca", "cas.ca_id", &filter.tags);
        if let Some(name) = &filter.name {
            c.push(
                "LOWER(common_name) LIKE ? ESCAPE '\\'",
                args![like_pattern(name)],
            );
        }
        if let Some(t) = &filter.ca_type {
            c.push("ca_type = ?", args![t.column()]);
        }
        let state = |s: CaState| s.column();
        match filter.status {
            Some(CaStatus::Active) => c.push("status = 'ACTIVED' AND not_after > ?", args![now]),
            Some(CaStatus::Expired) => c.push("status = 'ACTIVED' AND not_after <= ?", args![now]),
            Some(CaStatus::Pending) => c.push("status = ?", args![state(CaState::Pending)]),
            Some(CaStatus::Disabled) => c.push("status = ?", args![state(CaState::Disabled)]),
            Some(CaStatus::Deleted) => c.push("status = ?", args![state(CaState::Deleted)]),
            Some(CaStatus::Revoked) => c.push("status = ?", args![state(CaState::Revoked)]),
            None => {}
        }
        let total = self.count_where("cas", &c).await?;
        let column = match filter.sort_key {
            CaSortKey::CreateTime => "create_time",
            CaSortKey::CommonName => "common_name",
            CaSortKey::Type => "ca_type",
            CaSortKey::NotAfter => "not_after",
        };
        let dir = sort_dir(filter.sort_dir);
        let order = format!("{column} {dir}, ca_id {dir}");
        let rows = self.page_where(CA_COLUMNS, "cas", c, &order, page).await?;
        Ok((
            total,
            rows.iter().map(ca_from_row).collect::<StoreResult<_>>()?,
        ))
    }

    async fn count_cas(&self, domain: &DomainId, now: i64) -> StoreResult<i64> {
        self.read_one(
            &format!(
                "SELECT COUNT(*) AS n FROM cas WHERE domain_id = $1 AND listed = $2 AND {}",
                CA_NOT_GONE.replace('?', "$3")
            ),
            args![domain.as_str(), true, now],
        )
        .await?
        .map_or(Ok(0), |r| r.int("n"))
    }

    async fn update_ca(
        &self,
        ca: &CaRecord,
        expected: &[CaState],
        serial: Option<&SerialReservation>,
    ) -> StoreResult<UpdateOutcome> {
        self.change_ca(ca, expected, serial, None).await
    }

    async fn revoke_ca(&self, ca: &CaRecord, expected: &[CaState]) -> StoreResult<UpdateOutcome> {
        // The CA's certificate goes on its issuer's CRL when OpenCCM signed
        // it (an externally signed CA is revoked by its external issuer).
        let revocation = match (&ca.issuer_id, &ca.serial_number, ca.not_after, &ca.chain) {
            (Some(issuer), Some(serial), Some(not_after), None) if *issuer != ca.ca_id => {
                Some(Revoked {
                    issuer: issuer.clone(),
                    serials: vec![serial.clone()],
                    at: ca.revoked_at.unwrap_or_default(),
                    reason: ca.revocation_reason.unwrap_or_default(),
                    not_after,
                })
            }
            _ => None,
        };
        self.change_ca(ca, expected, None, revocation).await
    }

    async fn remove_ca(
        &self,
        domain: &DomainId,
        ca_id: &CaId,
        expected: &[CaState],
    ) -> StoreResult<bool> {
        let sql = format!(
            "DELETE FROM cas WHERE ca_id = $1 AND domain_id = $2 AND status IN ({})",
            status_list(expected)
        );
        let args = args![ca_id.as_str(), domain.as_str()];
        let id = ca_id.to_string();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // The CA's ACME state (settings, keys, accounts, orders) goes with it (their
                // foreign keys would refuse the CA's row otherwise); undone
                // below if the CA is not removed.
                for child in [
                    "DELETE FROM acme_authorizations WHERE ca_id = $1 AND domain_id = $2",
                    "DELETE FROM acme_orders WHERE ca_id = $1 AND domain_id = $2",
                    "DELETE FROM acme_accounts WHERE ca_id = $1 AND domain_id = $2",
                    "DELETE FROM acme_eab_keys WHERE ca_id = $1 AND domain_id = $2",
                    "DELETE FROM acme_settings WHERE ca_id = $1 AND domain_id = $2",
                ] {
                    tx.exec(child, &args).await?;
                }
                let removed = tx.exec(&sql, &args).await? == 1;
                if !removed {
                    return Ok(Finish::Rollback(false));
                }
                delete_tags(tx, TaggedResource::PcaCa, &id).await?;
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn insert_certificate_intent(
        &self,
        cert: &CertRecord,
        serials: &[SerialReservation],
        quota: Option<i64>,
    ) -> StoreResult<InsertOutcome> {
        let (domain, cert_id, issuer, now, serials) = (
            cert.domain_id.clone(),
            cert.certificate_id.to_string(),
            cert.issuer_id.to_string(),
            cert.create_time,
            serials.to_vec(),
        );
        let slot = counter_slot(&cert_id);
        // Fast first; exactly when the account is too near its quota for
        // that (`quota.rs`).
        for exact in [false, true] {
            let (domain, cert_id, issuer, serials) = (
                domain.clone(),
                cert_id.clone(),
                issuer.clone(),
                serials.clone(),
            );
            // Deferred: the completion of this issuance is durable and makes
            // this durable with it; a crash before then leaves nothing to
            // answer for.
            let outcome = self
                .write(Durability::Deferred, move |tx| {
                    Box::pin(async move {
                        for serial in &serials {
                            if !reserve_serial(tx, serial, &cert_id, &domain, now).await? {
                                return Ok(Finish::Rollback(Some(InsertOutcome::SerialTaken)));
                            }
                        }
                        let listed: Vec<&str> = serials.iter().map(|s| s.serial.as_str()).collect();
                        tx.exec(
                            "INSERT INTO issuance_intents (certificate_id, issuer_id, domain_id, serials, created_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                            &params![cert_id.as_str(), issuer.as_str(), domain.as_str(), listed.join(","), now],
                        )
                        .await?;
                        // Last: the quota slot is locked until this commits.
                        Ok(match take_certificate_quota(tx, &domain, slot, quota, exact).await? {
                            Taken::Yes => Finish::Commit(Some(InsertOutcome::Inserted)),
                            Taken::AtQuota => Finish::Rollback(Some(InsertOutcome::QuotaExceeded)),
                            Taken::Unsure => Finish::Rollback(None),
                        })
                    })
                })
                .await?;
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
        }
        // The exact pass is never unsure.
        Err(StoreError::Corrupt(
            "the certificate quota could not be taken".into(),
        ))
    }

    async fn complete_certificate(&self, cert: &CertRecord) -> StoreResult<bool> {
        let cert = cert.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // The intent is gone when reconciliation declared the
                // issuance failed (its serials FAILED, its quota returned).
                let pending = tx
                    .exec(
                        "DELETE FROM issuance_intents WHERE certificate_id = $1",
                        &params![cert.certificate_id.as_str()],
                    )
                    .await?;
                if pending != 1 {
                    return Ok(Finish::Rollback(false));
                }
                tx.exec(
                    &format!(
                        "INSERT INTO certificates ({CERT_COLUMNS}) VALUES ({})",
                        placeholders(32)
                    ),
                    &cert_args(&cert),
                )
                .await?;
                let slot = counter_slot(cert.certificate_id.as_str());
                count_certificates_by(tx, cert.domain_id.as_str(), slot, 1, 0, 0).await?;
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn fail_certificate(&self, cert: &CertRecord) -> StoreResult<()> {
        let cert = cert.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let pending = tx
                    .exec(
                        "DELETE FROM issuance_intents WHERE certificate_id = $1",
                        &params![cert.certificate_id.as_str()],
                    )
                    .await?;
                if pending == 1 {
                    let serials = intent_serials(&cert);
                    fail_serials(tx, cert.issuer_id.as_str(), &serials).await?;
                    release_certificate_quota(
                        tx,
                        cert.domain_id.as_str(),
                        counter_slot(cert.certificate_id.as_str()),
                        1,
                    )
                    .await?;
                }
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn fail_stale_intents(&self, before: i64) -> StoreResult<u64> {
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        "DELETE FROM issuance_intents WHERE created_at < $1 \
                         RETURNING certificate_id, issuer_id, domain_id, serials",
                        &params![before],
                    )
                    .await?;
                // Given back per slot, in slot order (`quota.rs`).
                let mut released = std::collections::BTreeMap::<(String, i64), i64>::new();
                for row in &rows {
                    let serials: Vec<String> = crate::queries::comma_list(&row.text("serials")?)
                        .map(str::to_owned)
                        .collect();
                    fail_serials(tx, &row.text("issuer_id")?, &serials).await?;
                    let slot = counter_slot(&row.text("certificate_id")?);
                    *released.entry((row.text("domain_id")?, slot)).or_default() += 1;
                }
                for ((domain, slot), n) in released {
                    release_certificate_quota(tx, &domain, slot, n).await?;
                }
                Ok(Finish::Commit(rows.len() as u64))
            })
        })
        .await
    }

    async fn certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
    ) -> StoreResult<Option<CertRecord>> {
        self.read_one(
            by_id::live_certificate(),
            args![cert_id.as_str(), domain.as_str()],
        )
        .await?
        .as_ref()
        .map(|row| cert_from_row(row, true))
        .transpose()
    }

    async fn certificate_by_serial(
        &self,
        domain: &DomainId,
        issuer: &CaId,
        serial: &str,
    ) -> StoreResult<Option<CertRecord>> {
        let found = self
            .read_one(
                "SELECT resource_id FROM serials WHERE issuer_id = $1 AND serial = $2",
                args![issuer.as_str(), serial],
            )
            .await?;
        let Some(id) = found
            .map(|row| row.text("resource_id"))
            .transpose()?
            .and_then(|id| CertId::parse(&id))
        else {
            return Ok(None);
        };
        self.certificate(domain, &id).await
    }

    async fn list_certificates(
        &self,
        domain: &DomainId,
        filter: &CertFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<(i64, Vec<CertRecord>)> {
        let mut c = Conditions::default();
        c.push("domain_id = ?", args![domain.as_str()]);
        c.push("state = 'ISSUED' AND deleted_at IS NULL", args![]);
        super::push_visibility(
            &mut c,
            &filter.visibility,
            "enterprise_project_id",
            "pca-cert",
            "certificates.certificate_id",
        );
        super::push_tag_filter(
            &mut c,
            "pca-cert",
            "certificates.certificate_id",
            &filter.tags,
        );
        if let Some(issuer) = &filter.issuer_id {
            c.push("issuer_id = ?", args![issuer.as_str()]);
        }
        if let Some(before) = filter.expires_before {
            c.push("not_after < ?", args![before]);
        }
        if let Some(key) = filter.key_algorithm {
            c.push(
                "key_algorithm = ?",
                args![crate::domain::algorithm::key_column(key)],
            );
        }
        let mut from = "certificates";
        if let Some(name) = &filter.name {
            from = self.push_name_filter(&mut c, domain, name).await?;
        }
        match filter.status {
            // Expiry as marked (0012_certificate_counts.sql), which `now`
            // has just brought up to date: read off the sort order's index.
            Some(CertStatus::Issued) => {
                c.push("revoked_at IS NULL AND expired_at IS NULL", args![]);
            }
            Some(CertStatus::Expired) => {
                c.push("revoked_at IS NULL AND expired_at IS NOT NULL", args![]);
            }
            Some(CertStatus::Revoked) => c.push("revoked_at IS NOT NULL", args![]),
            None => {}
        }
        if matches!(
            filter.status,
            Some(CertStatus::Issued | CertStatus::Expired)
        ) {
            self.mark_expired(domain, now).await?;
        }
        // Without conditions but the status, or but one tag, the total
        // comes off the counters; other filters count their matches.
        let plain = filter.visibility.is_everything()
            && filter.name.is_none()
            && filter.issuer_id.is_none()
            && filter.expires_before.is_none()
            && filter.key_algorithm.is_none();
        let counted = match (plain, filter.tags.is_empty(), filter.status) {
            (true, true, status) => Some(self.counted_certificates(domain, status).await?),
            (true, false, None) => self.counted_by_tag(domain, &filter.tags).await?,
            _ => None,
        };
        let total = match counted {
            Some(total) => total,
            None => self.count_where(from, &c).await?,
        };
        let column = match filter.sort_key {
            CertSortKey::CreateTime => "create_time",
            CertSortKey::CommonName => "common_name",
            CertSortKey::IssuerName => "issuer_name",
            CertSortKey::NotAfter => "not_after",
        };
        let dir = sort_dir(filter.sort_dir);
        let order = format!("{column} {dir}, certificate_id {dir}");
        // A page of one tag reads the tags in the list's order, rather than
        // every certificate newer than the tagged ones (search.rs).
        let by_tag = if plain && filter.status.is_none() {
            self.page_by_tag(domain, filter, page).await?
        } else {
            None
        };
        let rows = match by_tag {
            Some(rows) => rows,
            None => {
                self.page_where(CERT_LIST_COLUMNS, from, c, &order, page)
                    .await?
            }
        };
        Ok((
            total,
            rows.iter()
                .map(|r| cert_from_row(r, false))
                .collect::<StoreResult<_>>()?,
        ))
    }

    async fn count_certificates(&self, domain: &DomainId) -> StoreResult<i64> {
        self.read_one(quota::USED, args![domain.as_str()])
            .await?
            .map_or(Ok(0), |r| r.int("used"))
    }

    async fn import_certificates(
        &self,
        certs: &[ImportedCertificate],
        now: i64,
    ) -> StoreResult<()> {
        let certs = certs.to_vec();
        let issuers: Vec<CaId> = {
            let mut ids: Vec<CaId> = certs
                .iter()
                .filter(|c| c.record.revoked_at.is_some())
                .map(|c| c.record.issuer_id.clone())
                .collect();
            ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            ids.dedup();
            ids
        };
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // Counters first, as revocations take them (then the CA's
                // CRL counter): one lock order, no deadlock with a revoke.
                let expired_by_now =
                    |record: &CertRecord| record.revoked_at.is_none() && record.not_after <= now;
                let mut per_domain = std::collections::BTreeMap::<&str, i64>::new();
                let mut counts = std::collections::BTreeMap::<(&str, i64), (i64, i64, i64)>::new();
                for ImportedCertificate { record, .. } in &certs {
                    if record.deleted_at.is_none() {
                        *per_domain.entry(record.domain_id.as_str()).or_default() += 1;
                        let slot = counter_slot(record.certificate_id.as_str());
                        let counts = counts.entry((record.domain_id.as_str(), slot)).or_default();
                        counts.0 += 1;
                        counts.1 += i64::from(record.revoked_at.is_some());
                        counts.2 += i64::from(expired_by_now(record));
                    }
                }
                for ((domain, slot), (live, revoked, expired)) in counts {
                    count_certificates_by(tx, domain, slot, live, revoked, expired).await?;
                }
                for (domain, n) in per_domain {
                    quota::add_imported(tx, domain, n).await?;
                }
                for ImportedCertificate { record, tags } in &certs {
                    let id = record.certificate_id.as_str();
                    let reservations = std::iter::once((&record.serial_number, &record.tbs_digest))
                        .chain(record.enc_serial_number.iter().zip(record.enc_tbs_digest.iter()));
                    for (serial, digest) in reservations {
                        let reservation = SerialReservation {
                            issuer_id: record.issuer_id.clone(),
                            serial: serial.clone(),
                            tbs_digest: Some(digest.clone()),
                        };
                        if !reserve_serial(tx, &reservation, id, &record.domain_id, record.create_time)
                            .await?
                        {
                            return Err(StoreError::Conflict {
                                constraint: "serials_pkey".to_owned(),
                            });
                        }
                    }
                    tx.exec(
                        &format!(
                            "INSERT INTO certificates ({CERT_COLUMNS}) VALUES ({})",
                            placeholders(32)
                        ),
                        &cert_args(record),
                    )
                    .await?;
                    if expired_by_now(record) {
                        tx.exec(
                            "UPDATE certificates SET expired_at = not_after WHERE certificate_id = $1",
                            &params![id],
                        )
                        .await?;
                    }
                    if let Some(at) = record.revoked_at {
                        let reason = record.revocation_reason.unwrap_or_default();
                        record_revocation(
                            tx,
                            &Revoked {
                                issuer: record.issuer_id.clone(),
                                serials: intent_serials(record),
                                at,
                                reason,
                                not_after: record.not_after,
                            },
                        )
                        .await?;
                    }
                    // A deleted certificate has no tags (tag_counts counts
                    // live certificates' tags).
                    let tags = tags.iter().filter(|_| record.deleted_at.is_none());
                    for (key, value) in tags {
                        let domain = record.domain_id.as_str();
                        set_tag(tx, TaggedResource::PcaCertificate, id, domain, key, value)
                            .await?;
                    }
                }
                Ok(Finish::Commit(()))
            })
        })
        .await?;
        for issuer in issuers {
            let _ = self.0.events().send(StoreEvent::CaChanged(issuer));
        }
        Ok(())
    }

    async fn revoke_certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
        reason: RevocationReason,
        now: i64,
    ) -> StoreResult<bool> {
        let args = args![cert_id.as_str(), domain.as_str(), now, reason.column()];
        let (domain, slot) = (domain.to_string(), counter_slot(cert_id.as_str()));
        let issuer = self
            .write(Durability::Durable, move |tx| {
                Box::pin(async move {
                    let rows = tx.query(by_id::revoke_certificate(), &args).await?;
                    let Some(row) = rows.first() else {
                        return Ok(Finish::Commit(None));
                    };
                    let issuer =
                        CaId::parse(&row.text("issuer_id")?).ok_or_else(|| corrupt("issuer_id"))?;
                    // Only an unexpired, unmarked certificate is revoked: a
                    // mark made with a later clock (another server's) wins.
                    count_certificates_by(tx, &domain, slot, 0, 1, 0).await?;
                    let mut serials = vec![row.text("serial_number")?];
                    serials.extend(row.opt_text("enc_serial_number")?);
                    record_revocation(
                        tx,
                        &Revoked {
                            issuer: issuer.clone(),
                            serials,
                            at: now,
                            reason,
                            not_after: row.int("not_after")?,
                        },
                    )
                    .await?;
                    Ok(Finish::Commit(Some(issuer)))
                })
            })
            .await?;
        let revoked = issuer.is_some();
        if let Some(issuer) = issuer {
            let _ = self.0.events().send(StoreEvent::CaChanged(issuer));
        }
        Ok(revoked)
    }

    async fn delete_certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
        now: i64,
    ) -> StoreResult<bool> {
        let domain = domain.to_string();
        let id = cert_id.to_string();
        let args = args![cert_id.as_str(), domain.as_str(), now];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let rows = tx.query(by_id::delete_certificate(), &args).await?;
                let deleted = !rows.is_empty();
                if let Some(row) = rows.first() {
                    let revoked = i64::from(row.opt_int("revoked_at")?.is_some());
                    let expired = i64::from(row.opt_int("expired_at")?.is_some());
                    count_certificates_by(tx, &domain, counter_slot(&id), -1, -revoked, -expired)
                        .await?;
                    release_certificate_quota(tx, &domain, counter_slot(&id), 1).await?;
                    delete_tags(tx, TaggedResource::PcaCertificate, &id).await?;
                }
                Ok(Finish::Commit(deleted))
            })
        })
        .await
    }
}
