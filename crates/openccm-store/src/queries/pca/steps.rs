//! Steps PCA writes share inside their transactions: serial reservations,
//! the certificate quota, revocations under their issuer.

use super::super::corrupt;
use super::rows::CA_NOT_GONE;
use crate::db::{params, Tx};
use crate::ids::{CaId, DomainId};
use crate::records::CertRecord;
use crate::{CaState, RevocationReason, SerialReservation, StoreResult};

pub(in crate::queries) fn status_list(expected: &[CaState]) -> String {
    expected
        .iter()
        .map(|s| format!("'{}'", s.column()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The serials an issuance intent reserved: the certificate's and, for an
/// SM2 dual certificate, the encryption certificate's.
pub(in crate::queries) fn intent_serials(cert: &CertRecord) -> Vec<String> {
    std::iter::once(cert.serial_number.clone())
        .chain(cert.enc_serial_number.clone())
        .collect()
}

/// Reserves a serial for `resource_id` (for good: a serial is never reused,
/// even when its issuance fails); `false` when it is taken.
pub(in crate::queries) async fn reserve_serial(
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
pub(in crate::queries) async fn fail_serials(
    tx: &mut dyn Tx,
    issuer_id: &str,
    serials: &[String],
) -> StoreResult<()> {
    for serial in serials {
        tx.exec(
            "UPDATE serials SET state = 'FAILED' WHERE issuer_id = $1 AND serial = $2",
            &params![issuer_id, serial.as_str()],
        )
        .await?;
    }
    Ok(())
}

pub(in crate::queries) async fn count_listed_cas(
    tx: &mut dyn Tx,
    domain: &DomainId,
    now: i64,
) -> StoreResult<i64> {
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
pub(in crate::queries) struct Revoked {
    pub(in crate::queries) issuer: CaId,
    pub(in crate::queries) serials: Vec<String>,
    pub(in crate::queries) at: i64,
    pub(in crate::queries) reason: RevocationReason,
    pub(in crate::queries) not_after: i64,
}

/// Records revoked serials under their issuer, numbering them from the CA's
/// counter row (whose update also serialises concurrent revocations of one
/// CA, across servers), and announces the change on commit.
pub(in crate::queries) async fn record_revocation(
    tx: &mut dyn Tx,
    revoked: &Revoked,
) -> StoreResult<()> {
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

/// How many slots an account's counters are spread over
/// (`0012_certificate_counts.sql`, `0016_quota_slots.sql`).
pub(in crate::queries) const COUNTER_SLOTS: u32 = 8;

/// The counter slot of a certificate: the value of the last hex digit of
/// its id, modulo [`COUNTER_SLOTS`]. Any slot would do for the sums;
/// spreading keeps concurrent issuances off one row.
pub(in crate::queries) fn counter_slot(cert_id: &str) -> i64 {
    let digit = cert_id
        .chars()
        .last()
        .and_then(|c| c.to_digit(16))
        .unwrap_or(0);
    i64::from(digit % COUNTER_SLOTS)
}

/// Changes an account's counts of live certificates and, among them, of
/// revoked and of (marked) expired ones.
pub(in crate::queries) async fn count_certificates_by(
    tx: &mut dyn Tx,
    domain: &str,
    slot: i64,
    live: i64,
    revoked: i64,
    expired: i64,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO certificate_counts (domain_id, slot, live, revoked, expired) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (domain_id, slot) DO UPDATE SET live = certificate_counts.live + $3, \
         revoked = certificate_counts.revoked + $4, expired = certificate_counts.expired + $5",
        &params![domain, slot, live, revoked, expired],
    )
    .await?;
    Ok(())
}

/// The live, unrevoked certificates of account `$1` whose notAfter has
/// passed by `$2` but which are not marked expired yet.
pub(in crate::queries) const UNMARKED_EXPIRED: &str = "domain_id = $1 AND state = 'ISSUED' \
    AND deleted_at IS NULL AND revoked_at IS NULL AND expired_at IS NULL AND not_after <= $2";
