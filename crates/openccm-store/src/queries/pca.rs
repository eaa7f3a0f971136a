//! PCA queries: CAs, certificates, serial reservations, quota counters.

use async_trait::async_trait;

use super::{corrupt, like_pattern, locks, placeholders, sort_dir, Conditions, Sql};
use crate::db::{args, params, Backend, Durability, Finish, Row, Tx, Value};
use crate::domain::algorithm;
use crate::ids::{CaId, CertId, DomainId};
use crate::records::{
    CaFilter, CaRecord, CaSortKey, CertFilter, CertRecord, CertSortKey, CrlSettings, InsertOutcome,
    NameFields, Page, UpdateOutcome,
};
use crate::{
    CaState, CaStatus, CaType, CertStatus, GenMode, PcaStore, RevocationReason, SerialReservation,
    StoreEvent, StoreResult,
};

fn domain_of(row: &Row) -> StoreResult<DomainId> {
    DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))
}

fn opt_ca_id(row: &Row, column: &str) -> StoreResult<Option<CaId>> {
    row.opt_text(column)?
        .map(|t| CaId::parse(&t).ok_or_else(|| corrupt(column)))
        .transpose()
}

pub(super) const CA_COLUMNS: &str = "ca_id, domain_id, ca_type, listed, status, issuer_id, issuer_name, path_length, \
    key_algorithm, signature_algorithm, key_usages, gen_mode, serial_number, common_name, country, state, \
    locality, organization, organizational_unit, subject, key_owner, sealed_key, public_key, certificate, chain, \
    not_before, not_after, create_time, delete_time, crl_enabled, crl_name, crl_bucket, crl_valid_days, \
    ocsp_enabled, enterprise_project_id, revoked_at, revocation_reason";

pub(super) fn ca_from_row(row: &Row) -> StoreResult<CaRecord> {
    let key_usages = row.text("key_usages")?;
    Ok(CaRecord {
        ca_id: CaId::parse(&row.text("ca_id")?).ok_or_else(|| corrupt("ca_id"))?,
        domain_id: domain_of(row)?,
        ca_type: CaType::from_column(&row.text("ca_type")?)?,
        listed: row.boolean("listed")?,
        status: CaState::from_column(&row.text("status")?)?,
        issuer_id: opt_ca_id(row, "issuer_id")?,
        issuer_name: row.opt_text("issuer_name")?,
        path_length: row.int("path_length")?,
        key_algorithm: algorithm::key_from_column(&row.text("key_algorithm")?)?,
        signature_algorithm: row
            .opt_text("signature_algorithm")?
            .map(|h| algorithm::hash_from_column(&h))
            .transpose()?,
        key_usages: key_usages
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        gen_mode: GenMode::from_column(&row.text("gen_mode")?)?,
        serial_number: row.opt_text("serial_number")?,
        name: NameFields {
            common_name: row.text("common_name")?,
            country: row.opt_text("country")?,
            state: row.opt_text("state")?,
            locality: row.opt_text("locality")?,
            organization: row.opt_text("organization")?,
            organizational_unit: row.opt_text("organizational_unit")?,
        },
        subject: row.blob("subject")?,
        key_owner: row.opt_text("key_owner")?,
        sealed_key: row.opt_blob("sealed_key")?,
        public_key: row.blob("public_key")?,
        certificate: row.opt_blob("certificate")?,
        chain: row.opt_text("chain")?,
        not_before: row.opt_int("not_before")?,
        not_after: row.opt_int("not_after")?,
        create_time: row.int("create_time")?,
        delete_time: row.opt_int("delete_time")?,
        crl: CrlSettings {
            enabled: row.boolean("crl_enabled")?,
            crl_name: row.opt_text("crl_name")?,
            bucket: row.opt_text("crl_bucket")?,
            valid_days: row.opt_int("crl_valid_days")?,
        },
        ocsp_enabled: row.boolean("ocsp_enabled")?,
        enterprise_project_id: row.text("enterprise_project_id")?,
        revoked_at: row.opt_int("revoked_at")?,
        revocation_reason: row
            .opt_text("revocation_reason")?
            .map(|r| RevocationReason::from_column(&r))
            .transpose()?,
    })
}

/// Every CA column in `CA_COLUMNS` order ($1..$37).
fn ca_args(ca: &CaRecord) -> Vec<Value> {
    args![
        ca.ca_id.as_str(),
        ca.domain_id.as_str(),
        ca.ca_type.column(),
        ca.listed,
        ca.status.column(),
        ca.issuer_id.as_ref().map(CaId::as_str),
        ca.issuer_name.as_deref(),
        ca.path_length,
        algorithm::key_column(ca.key_algorithm),
        ca.signature_algorithm.map(algorithm::hash_column),
        ca.key_usages.join(","),
        ca.gen_mode.column(),
        ca.serial_number.as_deref(),
        ca.name.common_name.as_str(),
        ca.name.country.as_deref(),
        ca.name.state.as_deref(),
        ca.name.locality.as_deref(),
        ca.name.organization.as_deref(),
        ca.name.organizational_unit.as_deref(),
        ca.subject.as_slice(),
        ca.key_owner.as_deref(),
        ca.sealed_key.as_deref(),
        ca.public_key.as_slice(),
        ca.certificate.as_deref(),
        ca.chain.as_deref(),
        ca.not_before,
        ca.not_after,
        ca.create_time,
        ca.delete_time,
        ca.crl.enabled,
        ca.crl.crl_name.as_deref(),
        ca.crl.bucket.as_deref(),
        ca.crl.valid_days,
        ca.ocsp_enabled,
        ca.enterprise_project_id.as_str(),
        ca.revoked_at,
        ca.revocation_reason.map(RevocationReason::column)
    ]
}

/// A CA is gone once its scheduled deletion time has passed.
pub(super) const CA_NOT_GONE: &str =
    "NOT (status = 'DELETED' AND delete_time IS NOT NULL AND delete_time <= ?)";

const CERT_COLUMNS: &str = "certificate_id, domain_id, issuer_id, issuer_name, state, key_algorithm, \
    signature_algorithm, gen_mode, serial_number, common_name, country, state_name, locality, organization, \
    organizational_unit, tbs_digest, certificate, key_owner, sealed_key, enc_serial_number, enc_tbs_digest, \
    enc_certificate, enc_key_owner, enc_sealed_key, csr_public_key, not_before, not_after, create_time, \
    deleted_at, revoked_at, revocation_reason, enterprise_project_id";

/// The list view: no DER, no keys.
const CERT_LIST_COLUMNS: &str = "certificate_id, domain_id, issuer_id, issuer_name, state, key_algorithm, \
    signature_algorithm, gen_mode, serial_number, common_name, country, state_name, locality, organization, \
    organizational_unit, enc_serial_number, not_before, not_after, create_time, deleted_at, revoked_at, \
    revocation_reason, enterprise_project_id";

fn cert_from_row(row: &Row, full: bool) -> StoreResult<CertRecord> {
    let blob = |column: &str| if full { row.opt_blob(column) } else { Ok(None) };
    let text = |column: &str| if full { row.opt_text(column) } else { Ok(None) };
    Ok(CertRecord {
        certificate_id: CertId::parse(&row.text("certificate_id")?)
            .ok_or_else(|| corrupt("certificate_id"))?,
        domain_id: domain_of(row)?,
        issuer_id: CaId::parse(&row.text("issuer_id")?).ok_or_else(|| corrupt("issuer_id"))?,
        issuer_name: row.text("issuer_name")?,
        key_algorithm: algorithm::key_from_column(&row.text("key_algorithm")?)?,
        signature_algorithm: algorithm::hash_from_column(&row.text("signature_algorithm")?)?,
        gen_mode: GenMode::from_column(&row.text("gen_mode")?)?,
        serial_number: row.text("serial_number")?,
        name: NameFields {
            common_name: row.text("common_name")?,
            country: row.opt_text("country")?,
            state: row.opt_text("state_name")?,
            locality: row.opt_text("locality")?,
            organization: row.opt_text("organization")?,
            organizational_unit: row.opt_text("organizational_unit")?,
        },
        tbs_digest: blob("tbs_digest")?.unwrap_or_default(),
        certificate: blob("certificate")?,
        key_owner: text("key_owner")?,
        sealed_key: blob("sealed_key")?,
        enc_serial_number: row.opt_text("enc_serial_number")?,
        enc_tbs_digest: blob("enc_tbs_digest")?,
        enc_certificate: blob("enc_certificate")?,
        enc_key_owner: text("enc_key_owner")?,
        enc_sealed_key: blob("enc_sealed_key")?,
        csr_public_key: blob("csr_public_key")?,
        not_before: row.int("not_before")?,
        not_after: row.int("not_after")?,
        create_time: row.int("create_time")?,
        deleted_at: row.opt_int("deleted_at")?,
        revoked_at: row.opt_int("revoked_at")?,
        revocation_reason: row
            .opt_text("revocation_reason")?
            .map(|r| RevocationReason::from_column(&r))
            .transpose()?,
        enterprise_project_id: row.text("enterprise_project_id")?,
    })
}

fn cert_args(c: &CertRecord) -> Vec<Value> {
    args![
        c.certificate_id.as_str(),
        c.domain_id.as_str(),
        c.issuer_id.as_str(),
        c.issuer_name.as_str(),
        // A row is written ISSUED (its certificate may still be pending:
        // the serials table tracks the intent); failing it sets FAILED,
        // and only ISSUED rows are ever read back.
        "ISSUED",
        algorithm::key_column(c.key_algorithm),
        algorithm::hash_column(c.signature_algorithm),
        c.gen_mode.column(),
        c.serial_number.as_str(),
        c.name.common_name.as_str(),
        c.name.country.as_deref(),
        c.name.state.as_deref(),
        c.name.locality.as_deref(),
        c.name.organization.as_deref(),
        c.name.organizational_unit.as_deref(),
        c.tbs_digest.as_slice(),
        c.certificate.as_deref(),
        c.key_owner.as_deref(),
        c.sealed_key.as_deref(),
        c.enc_serial_number.as_deref(),
        c.enc_tbs_digest.as_deref(),
        c.enc_certificate.as_deref(),
        c.enc_key_owner.as_deref(),
        c.enc_sealed_key.as_deref(),
        c.csr_public_key.as_deref(),
        c.not_before,
        c.not_after,
        c.create_time,
        c.deleted_at,
        c.revoked_at,
        c.revocation_reason.map(RevocationReason::column),
        c.enterprise_project_id.as_str()
    ]
}

fn status_list(expected: &[CaState]) -> String {
    expected
        .iter()
        .map(|s| format!("'{}'", s.column()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The serials an issuance intent reserved: the certificate's and, for an
/// SM2 dual certificate, the encryption certificate's.
fn intent_serials(cert: &CertRecord) -> Vec<String> {
    std::iter::once(cert.serial_number.clone())
        .chain(cert.enc_serial_number.clone())
        .collect()
}

/// Reserves a serial for `resource_id` (for good: a serial is never reused,
/// even when its issuance fails); `false` when it is taken.
async fn reserve_serial(
    tx: &mut dyn Tx,
    serial: &SerialReservation,
    resource_id: &str,
    domain: &DomainId,
    now: i64,
) -> StoreResult<bool> {
    let changed = tx
        .exec(
            "INSERT INTO serials (issuer_id, serial, resource_id, created_at, state, domain_id, tbs_digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (issuer_id, serial) DO NOTHING",
            &params![
                serial.issuer_id.as_str(),
                serial.serial.as_str(),
                resource_id,
                now,
                "RESERVED",
                domain.as_str(),
                serial.tbs_digest.as_deref()
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// Marks the serials of an issuance that never completed `FAILED` (by
/// primary key: the serials table grows with every certificate).
async fn fail_serials(tx: &mut dyn Tx, issuer_id: &str, serials: &[String]) -> StoreResult<()> {
    for serial in serials {
        tx.exec(
            "UPDATE serials SET state = 'FAILED' WHERE issuer_id = $1 AND serial = $2",
            &params![issuer_id, serial.as_str()],
        )
        .await?;
    }
    Ok(())
}

/// Counts one more certificate for `domain` unless it holds `quota` already;
/// false (nothing changed) at the quota. The conditional update is atomic, so
/// concurrent servers cannot overshoot together.
async fn take_certificate_quota(
    tx: &mut dyn Tx,
    domain: &DomainId,
    quota: Option<i64>,
) -> StoreResult<bool> {
    tx.exec(
        "INSERT INTO usage (domain_id, resource, used) VALUES ($1, 'certificate', 0) \
         ON CONFLICT (domain_id, resource) DO NOTHING",
        &params![domain.as_str()],
    )
    .await?;
    let changed = tx
        .exec(
            "UPDATE usage SET used = used + 1 WHERE domain_id = $1 AND resource = 'certificate' AND used < $2",
            &params![domain.as_str(), quota.unwrap_or(i64::MAX)],
        )
        .await?;
    Ok(changed == 1)
}

/// Gives back `n` certificates of `domain`'s quota.
async fn release_certificate_quota(tx: &mut dyn Tx, domain: &str, n: i64) -> StoreResult<()> {
    tx.exec(
        "UPDATE usage SET used = used - $2 WHERE domain_id = $1 AND resource = 'certificate'",
        &params![domain, n],
    )
    .await?;
    Ok(())
}

async fn count_listed_cas(tx: &mut dyn Tx, domain: &DomainId, now: i64) -> StoreResult<i64> {
    let rows = tx
        .query(
            &format!(
                "SELECT COUNT(*) AS n FROM cas WHERE domain_id = $1 AND listed = $2 AND {}",
                CA_NOT_GONE.replace('?', "$3")
            ),
            &params![domain.as_str(), true, now],
        )
        .await?;
    rows.first().map_or(Ok(0), |r| r.int("n"))
}

/// A revocation to record: serials of one issuing CA.
struct Revoked {
    issuer: CaId,
    serials: Vec<String>,
    at: i64,
    reason: RevocationReason,
    not_after: i64,
}

/// Records revoked serials under their issuer, numbering them from the CA's
/// counter row (whose update also serialises concurrent revocations of one
/// CA, across servers), and announces the change on commit.
async fn record_revocation(tx: &mut dyn Tx, revoked: &Revoked) -> StoreResult<()> {
    let n = i64::try_from(revoked.serials.len()).unwrap_or(i64::MAX);
    let rows = tx
        .query(
            "INSERT INTO crl_counters (ca_id, revocation_seq, crl_number) VALUES ($1, $2, 0) \
             ON CONFLICT (ca_id) DO UPDATE SET revocation_seq = crl_counters.revocation_seq + $2 \
             RETURNING revocation_seq",
            &params![revoked.issuer.as_str(), n],
        )
        .await?;
    let last = rows.first().map_or_else(
        || Err(corrupt("revocation_seq")),
        |r| r.int("revocation_seq"),
    )?;
    for (seq, serial) in (last - n + 1..).zip(&revoked.serials) {
        tx.exec(
            "INSERT INTO revocations (issuer_id, serial, seq, revoked_at, reason, not_after) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (issuer_id, serial) DO NOTHING",
            &params![
                revoked.issuer.as_str(),
                serial.as_str(),
                seq,
                revoked.at,
                revoked.reason.column(),
                revoked.not_after
            ],
        )
        .await?;
    }
    tx.notify_ca_changed(revoked.issuer.as_str()).await
}

impl<B: Backend> Sql<B> {
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
        let assignments: Vec<String> = CA_COLUMNS
            .split(", ")
            .enumerate()
            .map(|(i, column)| format!("{} = ${}", column.trim(), i + 1))
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
                let removed = tx.exec(&sql, &args).await? == 1;
                if removed {
                    tx.exec(
                        "DELETE FROM tags WHERE resource_type = 'pca-ca' AND resource_id = $1",
                        &params![id.as_str()],
                    )
                    .await?;
                }
                Ok(Finish::Commit(removed))
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
        // Deferred: the completion of this issuance is durable and makes this
        // durable with it; a crash before then leaves nothing to answer for.
        self.write(Durability::Deferred, move |tx| {
            Box::pin(async move {
                if !take_certificate_quota(tx, &domain, quota).await? {
                    return Ok(Finish::Rollback(InsertOutcome::QuotaExceeded));
                }
                for serial in &serials {
                    if !reserve_serial(tx, serial, &cert_id, &domain, now).await? {
                        return Ok(Finish::Rollback(InsertOutcome::SerialTaken));
                    }
                }
                let listed: Vec<&str> = serials.iter().map(|s| s.serial.as_str()).collect();
                tx.exec(
                    "INSERT INTO issuance_intents (certificate_id, issuer_id, domain_id, serials, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &params![cert_id.as_str(), issuer.as_str(), domain.as_str(), listed.join(","), now],
                )
                .await?;
                Ok(Finish::Commit(InsertOutcome::Inserted))
            })
        })
        .await
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
                    release_certificate_quota(tx, cert.domain_id.as_str(), 1).await?;
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
                         RETURNING issuer_id, domain_id, serials",
                        &params![before],
                    )
                    .await?;
                for row in &rows {
                    let serials: Vec<String> = row
                        .text("serials")?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    fail_serials(tx, &row.text("issuer_id")?, &serials).await?;
                    release_certificate_quota(tx, &row.text("domain_id")?, 1).await?;
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
        let sql = format!(
            "SELECT {CERT_COLUMNS} FROM certificates WHERE certificate_id = $1 AND domain_id = $2 \
             AND state = 'ISSUED' AND deleted_at IS NULL"
        );
        self.read_one(&sql, args![cert_id.as_str(), domain.as_str()])
            .await?
            .as_ref()
            .map(|row| cert_from_row(row, true))
            .transpose()
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
        if let Some(name) = &filter.name {
            c.push(
                "LOWER(common_name) LIKE ? ESCAPE '\\'",
                args![like_pattern(name)],
            );
        }
        match filter.status {
            Some(CertStatus::Issued) => {
                c.push("revoked_at IS NULL AND not_after > ?", args![now]);
            }
            Some(CertStatus::Expired) => {
                c.push("revoked_at IS NULL AND not_after <= ?", args![now]);
            }
            Some(CertStatus::Revoked) => c.push("revoked_at IS NOT NULL", args![]),
            None => {}
        }
        let total = self.count_where("certificates", &c).await?;
        let column = match filter.sort_key {
            CertSortKey::CreateTime => "create_time",
            CertSortKey::CommonName => "common_name",
            CertSortKey::IssuerName => "issuer_name",
            CertSortKey::NotAfter => "not_after",
        };
        let dir = sort_dir(filter.sort_dir);
        let order = format!("{column} {dir}, certificate_id {dir}");
        let rows = self
            .page_where(CERT_LIST_COLUMNS, "certificates", c, &order, page)
            .await?;
        Ok((
            total,
            rows.iter()
                .map(|r| cert_from_row(r, false))
                .collect::<StoreResult<_>>()?,
        ))
    }

    async fn count_certificates(&self, domain: &DomainId) -> StoreResult<i64> {
        self.read_one(
            "SELECT used FROM usage WHERE domain_id = $1 AND resource = 'certificate'",
            args![domain.as_str()],
        )
        .await?
        .map_or(Ok(0), |r| r.int("used"))
    }

    async fn revoke_certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
        reason: RevocationReason,
        now: i64,
    ) -> StoreResult<bool> {
        let args = args![cert_id.as_str(), domain.as_str(), now, reason.column()];
        let issuer = self
            .write(Durability::Durable, move |tx| {
                Box::pin(async move {
                    let rows = tx
                        .query(
                            "UPDATE certificates SET revoked_at = $3, revocation_reason = $4 WHERE certificate_id = $1 \
                             AND domain_id = $2 AND state = 'ISSUED' AND deleted_at IS NULL AND revoked_at IS NULL \
                             AND not_after > $3 RETURNING issuer_id, serial_number, enc_serial_number, not_after",
                            &args,
                        )
                        .await?;
                    let Some(row) = rows.first() else {
                        return Ok(Finish::Commit(None));
                    };
                    let issuer = CaId::parse(&row.text("issuer_id")?).ok_or_else(|| corrupt("issuer_id"))?;
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
                let deleted = tx
                    .exec(
                        "UPDATE certificates SET deleted_at = $3 WHERE certificate_id = $1 AND domain_id = $2 \
                         AND state = 'ISSUED' AND deleted_at IS NULL",
                        &args,
                    )
                    .await?
                    == 1;
                if deleted {
                    release_certificate_quota(tx, &domain, 1).await?;
                    tx.exec(
                        "DELETE FROM tags WHERE resource_type = 'pca-cert' AND resource_id = $1",
                        &params![id.as_str()],
                    )
                    .await?;
                }
                Ok(Finish::Commit(deleted))
            })
        })
        .await
    }
}
