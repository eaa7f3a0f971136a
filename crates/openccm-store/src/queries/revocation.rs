//! Revocation queries: what CRLs and the OCSP responder read.

use async_trait::async_trait;

use super::{corrupt, Sql};
use crate::db::{args, params, Backend, Durability, Finish, Row, Weight};
use crate::ids::CaId;
use crate::records::{CaRecord, CrlCounters, RevocationEntry, SerialStatus, StoredCrl};
use crate::{RevocationStore, StoreEvent, StoreResult};

fn stored_crl(row: &Row) -> StoreResult<StoredCrl> {
    Ok(StoredCrl {
        crl_number: row.int("crl_number")?,
        revocation_seq: row.int("revocation_seq")?,
        this_update: row.int("this_update")?,
        next_update: row.int("next_update")?,
        der: row.opt_blob("der")?.unwrap_or_default(),
        freshest_url: row.opt_text("freshest_url")?,
    })
}

#[async_trait]
impl<B: Backend> RevocationStore for Sql<B> {
    async fn serial_status(&self, issuer: &CaId, serial: &str) -> StoreResult<SerialStatus> {
        let Some(row) = self
            .read_one(
                "SELECT s.state, r.revoked_at, r.reason FROM serials s LEFT JOIN revocations r \
                 ON r.issuer_id = s.issuer_id AND r.serial = s.serial \
                 WHERE s.issuer_id = $1 AND s.serial = $2",
                args![issuer.as_str(), serial],
            )
            .await?
        else {
            return Ok(SerialStatus::Unknown);
        };
        Ok(
            match (row.opt_int("revoked_at")?, row.opt_text("reason")?) {
                (Some(revoked_at), Some(reason)) => SerialStatus::Revoked {
                    revoked_at,
                    reason: crate::RevocationReason::from_column(&reason)?,
                },
                // A failed issuance signed nothing that left the service.
                _ if row.text("state")? == "FAILED" => SerialStatus::Unknown,
                _ => SerialStatus::Good,
            },
        )
    }

    async fn crl_counters(&self, ca: &CaId) -> StoreResult<CrlCounters> {
        Ok(self
            .read_one(
                "SELECT crl_number, revocation_seq FROM crl_counters WHERE ca_id = $1",
                args![ca.as_str()],
            )
            .await?
            .map(|row| -> StoreResult<CrlCounters> {
                Ok(CrlCounters {
                    crl_number: row.int("crl_number")?,
                    revocation_seq: row.int("revocation_seq")?,
                })
            })
            .transpose()?
            .unwrap_or_default())
    }

    async fn next_crl_number(&self, ca: &CaId) -> StoreResult<CrlCounters> {
        let id = ca.to_string();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // The row lock this update takes orders it after every
                // revocation of the CA that committed before, and before
                // every later one: the seq read here covers exactly the
                // revocations committed so far.
                let rows = tx
                    .query(
                        "INSERT INTO crl_counters (ca_id, revocation_seq, crl_number) VALUES ($1, 0, 1) \
                         ON CONFLICT (ca_id) DO UPDATE SET crl_number = crl_counters.crl_number + 1 \
                         RETURNING crl_number, revocation_seq",
                        &params![id.as_str()],
                    )
                    .await?;
                let row = rows.first().ok_or_else(|| corrupt("crl_counters"))?;
                Ok(Finish::Commit(CrlCounters {
                    crl_number: row.int("crl_number")?,
                    revocation_seq: row.int("revocation_seq")?,
                }))
            })
        })
        .await
    }

    async fn revocations(
        &self,
        issuer: &CaId,
        after_seq: i64,
        up_to_seq: i64,
        unexpired_at: i64,
        limit: i64,
    ) -> StoreResult<Vec<RevocationEntry>> {
        self.read(
            "SELECT serial, seq, revoked_at, reason, not_after FROM revocations \
             WHERE issuer_id = $1 AND seq > $2 AND seq <= $3 AND not_after >= $4 \
             ORDER BY seq LIMIT $5",
            args![issuer.as_str(), after_seq, up_to_seq, unexpired_at, limit],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(|row| {
            Ok(RevocationEntry {
                serial: row.text("serial")?,
                seq: row.int("seq")?,
                revoked_at: row.int("revoked_at")?,
                reason: crate::RevocationReason::from_column(&row.text("reason")?)?,
                not_after: row.int("not_after")?,
            })
        })
        .collect()
    }

    async fn count_revocations(
        &self,
        issuer: &CaId,
        after_seq: i64,
        up_to_seq: i64,
    ) -> StoreResult<i64> {
        self.read(
            "SELECT COUNT(*) AS n FROM revocations WHERE issuer_id = $1 AND seq > $2 AND seq <= $3",
            args![issuer.as_str(), after_seq, up_to_seq],
            Weight::Scan,
        )
        .await?
        .first()
        .map_or(Ok(0), |r| r.int("n"))
    }

    async fn revoked_in_records(&self, issuer: &CaId) -> StoreResult<Vec<(String, i64)>> {
        self.read(
            "SELECT serial_number AS serial, not_after FROM certificates \
             WHERE issuer_id = $1 AND state = 'ISSUED' AND revoked_at IS NOT NULL \
             UNION ALL SELECT enc_serial_number, not_after FROM certificates \
             WHERE issuer_id = $1 AND state = 'ISSUED' AND revoked_at IS NOT NULL AND enc_serial_number IS NOT NULL \
             UNION ALL SELECT serial_number, not_after FROM cas \
             WHERE issuer_id = $1 AND ca_id <> $1 AND revoked_at IS NOT NULL AND serial_number IS NOT NULL \
             AND not_after IS NOT NULL AND chain IS NULL",
            args![issuer.as_str()],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(|row| Ok((row.text("serial")?, row.int("not_after")?)))
        .collect()
    }

    async fn full_crl(&self, ca: &CaId, with_der: bool) -> StoreResult<Option<StoredCrl>> {
        let der = if with_der { "der" } else { "NULL AS der" };
        self.read_one(
            &format!(
                "SELECT crl_number, revocation_seq, this_update, next_update, freshest_url, {der} FROM crls WHERE ca_id = $1"
            ),
            args![ca.as_str()],
        )
        .await?
        .as_ref()
        .map(stored_crl)
        .transpose()
    }

    async fn save_full_crl(&self, ca: &CaId, crl: StoredCrl) -> StoreResult<(bool, StoredCrl)> {
        let mut crl = crl;
        // The DER moves into the statement and back: a large CRL is not copied.
        let der = std::mem::take(&mut crl.der);
        let args = args![
            ca.as_str(),
            crl.crl_number,
            crl.revocation_seq,
            crl.this_update,
            crl.next_update,
            der,
            crl.freshest_url.as_deref()
        ];
        let (stored, der) = self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .exec(
                        "INSERT INTO crls (ca_id, crl_number, revocation_seq, this_update, next_update, der, freshest_url) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ca_id) DO UPDATE SET \
                         crl_number = $2, revocation_seq = $3, this_update = $4, next_update = $5, der = $6, \
                         freshest_url = $7 WHERE crls.crl_number < $2",
                        &args,
                    )
                    .await?;
                let der = match args.into_iter().nth(5) {
                    Some(crate::db::Value::Blob(Some(der))) => der,
                    _ => Vec::new(),
                };
                Ok(Finish::Commit((changed == 1, der)))
            })
        })
        .await?;
        crl.der = der;
        Ok((stored, crl))
    }

    async fn issuing_ca(&self, ca: &CaId, now: i64) -> StoreResult<Option<CaRecord>> {
        self.read_one(
            &format!(
                "SELECT {} FROM cas WHERE ca_id = $1 AND {}",
                super::pca::CA_COLUMNS,
                super::pca::CA_NOT_GONE.replace('?', "$2")
            ),
            args![ca.as_str(), now],
        )
        .await?
        .as_ref()
        .map(super::pca::ca_from_row)
        .transpose()
    }

    async fn crl_issuing_cas(&self, now: i64) -> StoreResult<Vec<CaRecord>> {
        self.read(
            &format!(
                "SELECT {} FROM cas WHERE crl_enabled = $1 AND certificate IS NOT NULL \
                 AND sealed_key IS NOT NULL AND {} ORDER BY ca_id",
                super::pca::CA_COLUMNS,
                super::pca::CA_NOT_GONE.replace('?', "$2")
            ),
            args![true, now],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(super::pca::ca_from_row)
        .collect()
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<StoreEvent> {
        self.0.events().subscribe()
    }
}
