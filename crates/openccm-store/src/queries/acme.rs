//! ACME on private CAs: settings per CA and external account binding keys.

use async_trait::async_trait;

use super::{corrupt, domain_id, user_id, Sql};
use crate::db::{args, Backend, Durability, Finish, Row, Weight};
use crate::domain::algorithm;
use crate::domain::AcmeChallenge;
use crate::ids::{CaId, DomainId};
use crate::records::{AcmeSettings, EabKey};
use crate::{AcmeStore, StoreResult};

const SETTINGS_COLUMNS: &str = "ca_id, domain_id, enabled, eab_required, allowed_identifiers, \
    challenges, max_validity_days, key_algorithms, updated_at";

const EAB_COLUMNS: &str = "key_id, ca_id, domain_id, created_by, description, key_owner, \
    sealed_key, created_at, bound_account";

/// A list as stored: one entry per line (entries hold no line breaks: the
/// application checks identifiers, and the other lists are typed).
fn lines(entries: impl Iterator<Item = String>) -> String {
    entries.collect::<Vec<_>>().join("\n")
}

fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|e| !e.is_empty())
}

fn ca_id(row: &Row) -> StoreResult<CaId> {
    CaId::parse(&row.text("ca_id")?).ok_or_else(|| corrupt("ca_id"))
}

fn settings_from_row(row: &Row) -> StoreResult<AcmeSettings> {
    Ok(AcmeSettings {
        ca_id: ca_id(row)?,
        domain_id: domain_id(row, "domain_id")?,
        enabled: row.boolean("enabled")?,
        eab_required: row.boolean("eab_required")?,
        allowed_identifiers: entries(&row.text("allowed_identifiers")?)
            .map(str::to_owned)
            .collect(),
        challenges: entries(&row.text("challenges")?)
            .map(|c| AcmeChallenge::parse(c).ok_or_else(|| corrupt("acme_settings.challenges")))
            .collect::<StoreResult<_>>()?,
        max_validity_days: row.int("max_validity_days")?,
        key_algorithms: entries(&row.text("key_algorithms")?)
            .map(algorithm::key_from_column)
            .collect::<StoreResult<_>>()?,
        updated_at: row.int("updated_at")?,
    })
}

fn eab_from_row(row: &Row) -> StoreResult<EabKey> {
    Ok(EabKey {
        key_id: row.text("key_id")?,
        ca_id: ca_id(row)?,
        domain_id: domain_id(row, "domain_id")?,
        created_by: user_id(row, "created_by")?,
        description: row.opt_text("description")?,
        key_owner: row.text("key_owner")?,
        sealed_key: row.blob("sealed_key")?,
        created_at: row.int("created_at")?,
        bound_account: row.opt_text("bound_account")?,
    })
}

#[async_trait]
impl<B: Backend> AcmeStore for Sql<B> {
    async fn acme_settings(
        &self,
        domain: &DomainId,
        ca: &CaId,
    ) -> StoreResult<Option<AcmeSettings>> {
        self.read_one(
            &format!(
                "SELECT {SETTINGS_COLUMNS} FROM acme_settings WHERE ca_id = $1 AND domain_id = $2"
            ),
            args![ca.as_str(), domain.as_str()],
        )
        .await?
        .map(|row| settings_from_row(&row))
        .transpose()
    }

    async fn put_acme_settings(&self, s: &AcmeSettings) -> StoreResult<bool> {
        let args = args![
            s.ca_id.as_str(),
            s.domain_id.as_str(),
            s.enabled,
            s.eab_required,
            lines(s.allowed_identifiers.iter().cloned()),
            lines(s.challenges.iter().map(|c| c.as_str().to_owned())),
            s.max_validity_days,
            lines(
                s.key_algorithms
                    .iter()
                    .map(|k| algorithm::key_column(*k).to_owned())
            ),
            s.updated_at
        ];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // Only for a CA of the same account.
                let changed = tx
                    .exec(
                        &format!(
                            "INSERT INTO acme_settings ({SETTINGS_COLUMNS}) \
                             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
                             WHERE EXISTS (SELECT 1 FROM cas WHERE ca_id = $1 AND domain_id = $2) \
                             ON CONFLICT (ca_id) DO UPDATE SET enabled = $3, eab_required = $4, \
                             allowed_identifiers = $5, challenges = $6, max_validity_days = $7, \
                             key_algorithms = $8, updated_at = $9 \
                             WHERE acme_settings.domain_id = $2"
                        ),
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn insert_eab_key(&self, key: &EabKey) -> StoreResult<bool> {
        let args = args![
            key.key_id.as_str(),
            key.ca_id.as_str(),
            key.domain_id.as_str(),
            key.created_by.as_str(),
            key.description.as_deref(),
            key.key_owner.as_str(),
            key.sealed_key.clone(),
            key.created_at,
            key.bound_account.as_deref()
        ];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // Only for a CA of the same account.
                let inserted = tx
                    .exec(
                        &format!(
                            "INSERT INTO acme_eab_keys ({EAB_COLUMNS}) \
                             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
                             WHERE EXISTS (SELECT 1 FROM cas WHERE ca_id = $2 AND domain_id = $3)"
                        ),
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(inserted == 1))
            })
        })
        .await
    }

    async fn eab_keys(&self, domain: &DomainId, ca: &CaId) -> StoreResult<Vec<EabKey>> {
        self.read(
            &format!(
                "SELECT {EAB_COLUMNS} FROM acme_eab_keys WHERE ca_id = $1 AND domain_id = $2 \
                 ORDER BY created_at, key_id"
            ),
            args![ca.as_str(), domain.as_str()],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(eab_from_row)
        .collect()
    }

    async fn delete_eab_key(
        &self,
        domain: &DomainId,
        ca: &CaId,
        key_id: &str,
    ) -> StoreResult<Option<EabKey>> {
        let args = args![key_id, ca.as_str(), domain.as_str()];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let found = tx
                    .query(
                        &format!(
                            "SELECT {EAB_COLUMNS} FROM acme_eab_keys \
                             WHERE key_id = $1 AND ca_id = $2 AND domain_id = $3"
                        ),
                        &args,
                    )
                    .await?;
                let Some(row) = found.first() else {
                    return Ok(Finish::Commit(None));
                };
                let key = eab_from_row(row)?;
                tx.exec(
                    "DELETE FROM acme_eab_keys WHERE key_id = $1 AND ca_id = $2 AND domain_id = $3",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(Some(key)))
            })
        })
        .await
    }
}
