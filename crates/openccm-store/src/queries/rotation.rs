//! Master-key rotation: the sealed secrets not yet under a key version, a
//! page at a time, and their replacement; and the record of rotations.
//!
//! A sealed blob starts with `ok` and the sealing key's version (4 bytes,
//! big-endian): `crates/openccm-custody/src/keyring.rs`. The version is
//! read in SQL (`substr(col, 3, 4)`, on BLOB and BYTEA alike), so a pass
//! reads only what it must re-seal; paging by id keeps each page an index
//! range.

use async_trait::async_trait;

use super::{comma_list, Sql};
use crate::db::{args, Backend, Durability, Finish, Value, Weight};
use crate::{KeyRotationStore, SealedColumn, SealedRow, StoreResult};

/// (table, id column, owner column, sealed column).
fn place(column: SealedColumn) -> (&'static str, &'static str, &'static str, &'static str) {
    match column {
        SealedColumn::AccessKeySecret => {
            ("access_keys", "access_key", "access_key", "sealed_secret")
        }
        SealedColumn::CaKey => ("cas", "ca_id", "key_owner", "sealed_key"),
        SealedColumn::CertificateKey => {
            ("certificates", "certificate_id", "key_owner", "sealed_key")
        }
        SealedColumn::CertificateEncKey => (
            "certificates",
            "certificate_id",
            "enc_key_owner",
            "enc_sealed_key",
        ),
        SealedColumn::SslCertificateKey => (
            "scm_certificates",
            "certificate_id",
            "key_owner",
            "sealed_key",
        ),
        SealedColumn::SslCertificateEncKey => (
            "scm_certificates",
            "certificate_id",
            "enc_key_owner",
            "enc_sealed_key",
        ),
        SealedColumn::SslCsrKey => ("scm_csrs", "csr_id", "key_owner", "sealed_key"),
        SealedColumn::WebhookSecret => (
            "notification_channels",
            "domain_id",
            "domain_id",
            "sealed_webhook_secret",
        ),
        SealedColumn::AcmeEabKey => ("acme_eab_keys", "key_id", "key_owner", "sealed_key"),
    }
}

#[async_trait]
impl<B: Backend> KeyRotationStore for Sql<B> {
    async fn sealed_not_under(
        &self,
        column: SealedColumn,
        version: u32,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<SealedRow>> {
        let (table, id, owner, sealed) = place(column);
        let rows = self
            .read(
                &format!(
                    "SELECT {id} AS id, {owner} AS owner, {sealed} AS sealed FROM {table} \
                     WHERE {id} > $1 AND {sealed} IS NOT NULL AND substr({sealed}, 3, 4) <> $2 \
                     ORDER BY {id} LIMIT $3"
                ),
                args![after, version.to_be_bytes().to_vec(), limit],
                Weight::Scan,
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SealedRow {
                    id: row.text("id")?,
                    owner: row.text("owner")?,
                    sealed: row.blob("sealed")?,
                })
            })
            .collect()
    }

    async fn replace_sealed(
        &self,
        column: SealedColumn,
        changes: Vec<(String, Vec<u8>, Vec<u8>)>,
    ) -> StoreResult<u64> {
        let (table, id, _, sealed) = place(column);
        let sql = format!("UPDATE {table} SET {sealed} = $1 WHERE {id} = $2 AND {sealed} = $3");
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let mut replaced = 0;
                for (row_id, old, new) in changes {
                    // Only if unchanged since it was read: a concurrent change
                    // (a deletion, a key re-sealed by another pass) wins, and
                    // the next pass reads the row again.
                    replaced += tx
                        .exec(
                            &sql,
                            &[Value::from(new), Value::from(row_id), Value::from(old)],
                        )
                        .await?;
                }
                Ok(Finish::Commit(replaced))
            })
        })
        .await
    }

    async fn unfinished_rotation(&self) -> StoreResult<Option<u32>> {
        self.read_one(
            "SELECT version FROM key_rotations WHERE finished_at IS NULL ORDER BY version DESC",
            args![],
        )
        .await?
        .map(|row| {
            u32::try_from(row.int("version")?)
                .map_err(|_| crate::StoreError::Corrupt("key_rotations.version".to_owned()))
        })
        .transpose()
    }

    async fn begin_rotation(&self, version: u32, now: i64) -> StoreResult<bool> {
        let args = args![i64::from(version), now];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let inserted = tx
                    .exec(
                        "INSERT INTO key_rotations (version, started_at) VALUES ($1, $2) \
                         ON CONFLICT (version) DO NOTHING",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(inserted == 1))
            })
        })
        .await
    }

    async fn rotations(&self) -> StoreResult<Vec<u32>> {
        self.read(
            "SELECT version FROM key_rotations ORDER BY version",
            args![],
            Weight::Point,
        )
        .await?
        .iter()
        .map(|row| {
            u32::try_from(row.int("version")?)
                .map_err(|_| crate::StoreError::Corrupt("key_rotations.version".to_owned()))
        })
        .collect()
    }

    async fn record_server_keys(
        &self,
        server_id: &str,
        host: &str,
        versions: &[u32],
        now: i64,
        forget_before: i64,
    ) -> StoreResult<()> {
        let listed = versions
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let args = args![server_id, host, listed, now];
        // No fsync needed: a lost check-in is made again in seconds.
        self.write(Durability::Deferred, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "INSERT INTO server_keys (server_id, host, versions, seen_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (server_id) \
                     DO UPDATE SET versions = $3, seen_at = $4",
                    &args,
                )
                .await?;
                tx.exec(
                    "DELETE FROM server_keys WHERE seen_at < $1",
                    &[Value::from(forget_before)],
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn servers_seen_since(&self, since: i64) -> StoreResult<Vec<(String, String, Vec<u32>)>> {
        self.read(
            "SELECT server_id, host, versions FROM server_keys WHERE seen_at >= $1 ORDER BY server_id",
            args![since],
            Weight::Point,
        )
        .await?
        .iter()
        .map(|row| {
            let versions = comma_list(&row.text("versions")?)
                .map(|v| {
                    v.parse::<u32>()
                        .map_err(|_| crate::StoreError::Corrupt("server_keys.versions".to_owned()))
                })
                .collect::<StoreResult<Vec<u32>>>()?;
            Ok((row.text("server_id")?, row.text("host")?, versions))
        })
        .collect()
    }

    async fn rotation_sealing(&self, version: u32, now: i64) -> StoreResult<()> {
        let args = args![now, i64::from(version)];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "UPDATE key_rotations SET sealing_at = $1 WHERE version = $2 AND sealing_at IS NULL",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn sealable_version(&self) -> StoreResult<Option<u32>> {
        let row = self
            .read_one(
                "SELECT MAX(k.version) AS version FROM key_checks k WHERE NOT EXISTS \
                 (SELECT 1 FROM key_rotations r WHERE r.version = k.version \
                 AND r.sealing_at IS NULL AND r.finished_at IS NULL)",
                args![],
            )
            .await?;
        row.map(|row| row.opt_int("version"))
            .transpose()
            .map(Option::flatten)?
            .map(|v| {
                u32::try_from(v)
                    .map_err(|_| crate::StoreError::Corrupt("key_checks.version".to_owned()))
            })
            .transpose()
    }

    async fn finish_rotation(&self, version: u32, now: i64) -> StoreResult<()> {
        let args = args![now, i64::from(version)];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "UPDATE key_rotations SET finished_at = $1 WHERE version = $2",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }
}
