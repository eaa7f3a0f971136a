//! PCA rows ↔ records: the columns, and each record's arguments.

use openccm_pki::profile::KeyUsageSet;

use super::super::corrupt;
use crate::db::{args, Row, Value};
use crate::domain::algorithm;
use crate::ids::{CaId, CertId, DomainId};
use crate::records::{CaRecord, CertRecord, CrlSettings, NameFields};
use crate::{CaState, CaType, GenMode, RevocationReason, StoreResult};

pub(in crate::queries) fn domain_of(row: &Row) -> StoreResult<DomainId> {
    DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))
}

pub(in crate::queries) fn opt_ca_id(row: &Row, column: &str) -> StoreResult<Option<CaId>> {
    row.opt_text(column)?
        .map(|t| CaId::parse(&t).ok_or_else(|| corrupt(column)))
        .transpose()
}

pub(in crate::queries) const CA_COLUMNS: &str = "ca_id, domain_id, ca_type, listed, status, issuer_id, issuer_name, path_length, \
    key_algorithm, signature_algorithm, key_usages, gen_mode, serial_number, common_name, country, state, \
    locality, organization, organizational_unit, subject, key_owner, sealed_key, public_key, certificate, chain, \
    not_before, not_after, create_time, delete_time, crl_enabled, crl_name, crl_bucket, crl_valid_days, \
    ocsp_enabled, enterprise_project_id, revoked_at, revocation_reason";

pub(in crate::queries) fn ca_from_row(row: &Row) -> StoreResult<CaRecord> {
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
        // Their RFC 5280 names, comma-joined.
        key_usages: KeyUsageSet::parse(
            &super::super::comma_list(&key_usages)
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
        .map_err(|_| corrupt("key_usages"))?,
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
pub(in crate::queries) fn ca_args(ca: &CaRecord) -> Vec<Value> {
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
        ca.key_usages.names().join(","),
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
pub(in crate::queries) const CA_NOT_GONE: &str =
    "NOT (status = 'DELETED' AND delete_time IS NOT NULL AND delete_time <= ?)";

pub(in crate::queries) const CERT_COLUMNS: &str = "certificate_id, domain_id, issuer_id, issuer_name, state, key_algorithm, \
    signature_algorithm, gen_mode, serial_number, common_name, country, state_name, locality, organization, \
    organizational_unit, tbs_digest, certificate, key_owner, sealed_key, enc_serial_number, enc_tbs_digest, \
    enc_certificate, enc_key_owner, enc_sealed_key, csr_public_key, not_before, not_after, create_time, \
    deleted_at, revoked_at, revocation_reason, enterprise_project_id";

/// The list view: no DER, no keys.
pub(in crate::queries) const CERT_LIST_COLUMNS: &str = "certificate_id, domain_id, issuer_id, issuer_name, state, key_algorithm, \
    signature_algorithm, gen_mode, serial_number, common_name, country, state_name, locality, organization, \
    organizational_unit, enc_serial_number, not_before, not_after, create_time, deleted_at, revoked_at, \
    revocation_reason, enterprise_project_id";

pub(in crate::queries) fn cert_from_row(row: &Row, full: bool) -> StoreResult<CertRecord> {
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

pub(in crate::queries) fn cert_args(c: &CertRecord) -> Vec<Value> {
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
