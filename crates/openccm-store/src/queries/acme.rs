//! ACME on private CAs: settings per CA and external account binding keys.

use async_trait::async_trait;

use super::{corrupt, domain_id, user_id, Sql};
use crate::db::{args, Backend, Durability, Finish, Row, Weight};
use crate::domain::algorithm;
use crate::domain::{
    AcmeAccountStatus, AcmeAuthzStatus, AcmeChallenge, AcmeIdentifierKind, AcmeOrderStatus,
};
use crate::ids::{CaId, CertId, DomainId};
use crate::records::{
    AcmeAccount, AcmeAccountInsert, AcmeAuthz, AcmeIdentifier, AcmeOrder, AcmeSettings, EabKey,
};
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

const ACCOUNT_COLUMNS: &str =
    "account_id, ca_id, domain_id, status, jwk, thumbprint, contact, eab_key_id, created_at";

const ORDER_COLUMNS: &str = "order_id, account_id, ca_id, domain_id, status, identifiers, \
    not_before, not_after, expires_at, error, certificate_id, replaces, created_at, updated_at";

const AUTHZ_COLUMNS: &str = "authz_id, order_id, account_id, ca_id, domain_id, identifier_type, \
    identifier_value, wildcard, status, expires_at, token, challenges, attempted, processing, \
    validated_at, error, updated_at";

/// How often spent nonces past their expiry are swept, at most (ms).
const NONCE_SWEEP_EVERY_MS: i64 = 60_000;
/// How long past its expiry a spent nonce is kept (ms): a server whose
/// clock is behind still refuses it.
const NONCE_SWEEP_MARGIN_MS: i64 = 10 * 60_000;

/// A problem as stored: type, a line break, detail (a type holds none).
fn problem_column(problem: Option<&(String, String)>) -> Option<String> {
    problem.map(|(kind, detail)| format!("{kind}\n{detail}"))
}

fn problem_from_column(text: Option<String>) -> Option<(String, String)> {
    text.map(|t| match t.split_once('\n') {
        Some((kind, detail)) => (kind.to_owned(), detail.to_owned()),
        None => (t, String::new()),
    })
}

/// An identifier as stored in an order: `type:value`.
fn identifier_column(id: &AcmeIdentifier) -> String {
    format!("{}:{}", id.kind.as_str(), id.value)
}

fn identifier_from_column(text: &str) -> StoreResult<AcmeIdentifier> {
    let (kind, value) = text
        .split_once(':')
        .ok_or_else(|| corrupt("acme_orders.identifiers"))?;
    Ok(AcmeIdentifier {
        kind: AcmeIdentifierKind::from_column(kind)?,
        value: value.to_owned(),
    })
}

fn account_from_row(row: &Row) -> StoreResult<AcmeAccount> {
    Ok(AcmeAccount {
        account_id: row.text("account_id")?,
        ca_id: ca_id(row)?,
        domain_id: domain_id(row, "domain_id")?,
        status: AcmeAccountStatus::from_column(&row.text("status")?)?,
        jwk: row.text("jwk")?,
        thumbprint: row.text("thumbprint")?,
        contact: entries(&row.text("contact")?).map(str::to_owned).collect(),
        eab_key_id: row.opt_text("eab_key_id")?,
        created_at: row.int("created_at")?,
    })
}

fn order_from_row(row: &Row) -> StoreResult<AcmeOrder> {
    Ok(AcmeOrder {
        order_id: row.text("order_id")?,
        account_id: row.text("account_id")?,
        ca_id: ca_id(row)?,
        domain_id: domain_id(row, "domain_id")?,
        status: AcmeOrderStatus::from_column(&row.text("status")?)?,
        identifiers: entries(&row.text("identifiers")?)
            .map(identifier_from_column)
            .collect::<StoreResult<_>>()?,
        not_before: row.opt_int("not_before")?,
        not_after: row.opt_int("not_after")?,
        expires_at: row.int("expires_at")?,
        error: problem_from_column(row.opt_text("error")?),
        certificate_id: row
            .opt_text("certificate_id")?
            .map(|id| CertId::parse(&id).ok_or_else(|| corrupt("acme_orders.certificate_id")))
            .transpose()?,
        replaces: row.opt_text("replaces")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn authz_from_row(row: &Row) -> StoreResult<AcmeAuthz> {
    let challenge = |text: &str| {
        AcmeChallenge::parse(text).ok_or_else(|| corrupt("acme_authorizations.challenges"))
    };
    Ok(AcmeAuthz {
        authz_id: row.text("authz_id")?,
        order_id: row.text("order_id")?,
        account_id: row.text("account_id")?,
        ca_id: ca_id(row)?,
        domain_id: domain_id(row, "domain_id")?,
        identifier: AcmeIdentifier {
            kind: AcmeIdentifierKind::from_column(&row.text("identifier_type")?)?,
            value: row.text("identifier_value")?,
        },
        wildcard: row.boolean("wildcard")?,
        status: AcmeAuthzStatus::from_column(&row.text("status")?)?,
        expires_at: row.int("expires_at")?,
        token: row.text("token")?,
        challenges: entries(&row.text("challenges")?)
            .map(challenge)
            .collect::<StoreResult<_>>()?,
        attempted: row
            .opt_text("attempted")?
            .as_deref()
            .map(challenge)
            .transpose()?,
        processing: row.boolean("processing")?,
        validated_at: row.opt_int("validated_at")?,
        error: problem_from_column(row.opt_text("error")?),
        updated_at: row.int("updated_at")?,
    })
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
                // The account the key bound goes with it (docs/api/acme.md).
                tx.exec(
                    "UPDATE acme_accounts SET status = 'deactivated' \
                     WHERE eab_key_id = $1 AND ca_id = $2 AND domain_id = $3 AND status = 'valid'",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(Some(key)))
            })
        })
        .await
    }

    async fn eab_key(
        &self,
        domain: &DomainId,
        ca: &CaId,
        key_id: &str,
    ) -> StoreResult<Option<EabKey>> {
        self.read_one(
            &format!(
                "SELECT {EAB_COLUMNS} FROM acme_eab_keys \
                 WHERE key_id = $1 AND ca_id = $2 AND domain_id = $3"
            ),
            args![key_id, ca.as_str(), domain.as_str()],
        )
        .await?
        .map(|row| eab_from_row(&row))
        .transpose()
    }

    async fn spend_acme_nonce(&self, nonce: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
        let args = args![nonce, expires_at];
        // At most once a minute per process: the gate is shared by every
        // store in it (tests run several), so a quiet store may leave the
        // sweep to a busier one; spent nonces past the margin are refused
        // by their expiry anyway, the sweep only keeps the table small.
        let sweep = {
            static LAST: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
            super::sweep_due(&LAST, now, NONCE_SWEEP_EVERY_MS)
        };
        // A nonce is spent once; losing the record of it in a power cut
        // (not a crash) could let one captured request of the last moments
        // be replayed, which TLS already keeps from anyone but its client.
        self.write(Durability::Deferred, move |tx| {
            Box::pin(async move {
                if sweep {
                    // With a margin: another server's clock may run behind.
                    tx.exec(
                        "DELETE FROM acme_nonces WHERE expires_at < $1",
                        &[(now - NONCE_SWEEP_MARGIN_MS).into()],
                    )
                    .await?;
                }
                let fresh = tx
                    .exec(
                        "INSERT INTO acme_nonces (nonce, expires_at) VALUES ($1, $2) \
                         ON CONFLICT (nonce) DO NOTHING",
                        &args,
                    )
                    .await?
                    == 1;
                Ok(Finish::Commit(fresh))
            })
        })
        .await
    }

    async fn insert_acme_account(&self, a: &AcmeAccount) -> StoreResult<AcmeAccountInsert> {
        let args = args![
            a.account_id.as_str(),
            a.ca_id.as_str(),
            a.domain_id.as_str(),
            a.status.as_str(),
            a.jwk.as_str(),
            a.thumbprint.as_str(),
            lines(a.contact.iter().cloned()),
            a.eab_key_id.as_deref(),
            a.created_at
        ];
        let binds_eab = a.eab_key_id.is_some();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let taken = tx
                    .query(
                        &format!(
                            "SELECT {ACCOUNT_COLUMNS} FROM acme_accounts \
                             WHERE ca_id = $1 AND thumbprint = $2"
                        ),
                        &[args[1].clone(), args[5].clone()],
                    )
                    .await?;
                if let Some(row) = taken.first() {
                    return Ok(Finish::Rollback(AcmeAccountInsert::KeyTaken(
                        account_from_row(row)?,
                    )));
                }
                if binds_eab {
                    // Bind the key: it must be this CA's, in this account,
                    // and unbound.
                    let bound = tx
                        .exec(
                            "UPDATE acme_eab_keys SET bound_account = $1 \
                             WHERE key_id = $2 AND ca_id = $3 AND domain_id = $4 \
                             AND bound_account IS NULL",
                            &[
                                args[0].clone(),
                                args[7].clone(),
                                args[1].clone(),
                                args[2].clone(),
                            ],
                        )
                        .await?;
                    if bound != 1 {
                        return Ok(Finish::Rollback(AcmeAccountInsert::EabUnavailable));
                    }
                }
                let inserted = tx
                    .exec(
                        &format!(
                            "INSERT INTO acme_accounts ({ACCOUNT_COLUMNS}) \
                             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
                             WHERE EXISTS (SELECT 1 FROM cas WHERE ca_id = $2 AND domain_id = $3) \
                             ON CONFLICT DO NOTHING"
                        ),
                        &args,
                    )
                    .await?;
                if inserted != 1 {
                    // A concurrent insert of the same key (or a CA gone).
                    return Ok(Finish::Rollback(AcmeAccountInsert::EabUnavailable));
                }
                Ok(Finish::Commit(AcmeAccountInsert::Inserted))
            })
        })
        .await
    }

    async fn acme_account(&self, ca: &CaId, account_id: &str) -> StoreResult<Option<AcmeAccount>> {
        self.read_one(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM acme_accounts WHERE account_id = $1 AND ca_id = $2"
            ),
            args![account_id, ca.as_str()],
        )
        .await?
        .map(|row| account_from_row(&row))
        .transpose()
    }

    async fn acme_account_by_key(
        &self,
        ca: &CaId,
        thumbprint: &str,
    ) -> StoreResult<Option<AcmeAccount>> {
        self.read_one(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM acme_accounts WHERE ca_id = $1 AND thumbprint = $2"
            ),
            args![ca.as_str(), thumbprint],
        )
        .await?
        .map(|row| account_from_row(&row))
        .transpose()
    }

    async fn update_acme_account(
        &self,
        a: &AcmeAccount,
        expected_thumbprint: &str,
    ) -> StoreResult<Option<bool>> {
        let args = args![
            a.account_id.as_str(),
            a.ca_id.as_str(),
            a.status.as_str(),
            a.jwk.as_str(),
            a.thumbprint.as_str(),
            lines(a.contact.iter().cloned()),
            expected_thumbprint
        ];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let other = tx
                    .query(
                        "SELECT account_id FROM acme_accounts \
                         WHERE ca_id = $1 AND thumbprint = $2 AND account_id <> $3",
                        &[args[1].clone(), args[4].clone(), args[0].clone()],
                    )
                    .await?;
                if !other.is_empty() {
                    return Ok(Finish::Rollback(Some(false)));
                }
                let changed = tx
                    .exec(
                        "UPDATE acme_accounts SET status = $3, jwk = $4, thumbprint = $5, \
                         contact = $6 WHERE account_id = $1 AND ca_id = $2 AND status = 'valid' \
                         AND thumbprint = $7",
                        &args,
                    )
                    .await?;
                Ok(if changed == 1 {
                    Finish::Commit(Some(true))
                } else {
                    Finish::Rollback(None)
                })
            })
        })
        .await
    }

    async fn insert_acme_order(&self, o: &AcmeOrder, authzs: &[AcmeAuthz]) -> StoreResult<()> {
        let order = args![
            o.order_id.as_str(),
            o.account_id.as_str(),
            o.ca_id.as_str(),
            o.domain_id.as_str(),
            o.status.as_str(),
            lines(o.identifiers.iter().map(identifier_column)),
            o.not_before,
            o.not_after,
            o.expires_at,
            problem_column(o.error.as_ref()),
            o.certificate_id.as_ref().map(CertId::as_str),
            o.replaces.as_deref(),
            o.created_at,
            o.updated_at
        ];
        let authzs: Vec<_> = authzs.iter().map(authz_args).collect();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    &format!(
                        "INSERT INTO acme_orders ({ORDER_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                    ),
                    &order,
                )
                .await?;
                for authz in &authzs {
                    tx.exec(
                        &format!(
                            "INSERT INTO acme_authorizations ({AUTHZ_COLUMNS}) VALUES \
                             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
                        ),
                        authz,
                    )
                    .await?;
                }
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn acme_order(&self, ca: &CaId, order_id: &str) -> StoreResult<Option<AcmeOrder>> {
        self.read_one(
            &format!("SELECT {ORDER_COLUMNS} FROM acme_orders WHERE order_id = $1 AND ca_id = $2"),
            args![order_id, ca.as_str()],
        )
        .await?
        .map(|row| order_from_row(&row))
        .transpose()
    }

    async fn acme_order_authzs(&self, ca: &CaId, order_id: &str) -> StoreResult<Vec<AcmeAuthz>> {
        self.read(
            &format!(
                "SELECT {AUTHZ_COLUMNS} FROM acme_authorizations \
                 WHERE order_id = $1 AND ca_id = $2 ORDER BY authz_id"
            ),
            args![order_id, ca.as_str()],
            Weight::Point,
        )
        .await?
        .iter()
        .map(authz_from_row)
        .collect()
    }

    async fn acme_orders_of(
        &self,
        ca: &CaId,
        account_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        self.read(
            "SELECT order_id FROM acme_orders WHERE account_id = $1 AND ca_id = $2 \
             ORDER BY created_at DESC, order_id DESC LIMIT $3",
            args![account_id, ca.as_str(), limit],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(|row| row.text("order_id"))
        .collect()
    }

    async fn acme_order_of_certificate(
        &self,
        ca: &CaId,
        certificate: &CertId,
    ) -> StoreResult<Option<AcmeOrder>> {
        self.read_one(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM acme_orders WHERE certificate_id = $1 AND ca_id = $2"
            ),
            args![certificate.as_str(), ca.as_str()],
        )
        .await?
        .map(|row| order_from_row(&row))
        .transpose()
    }

    async fn update_acme_order(
        &self,
        o: &AcmeOrder,
        expected: AcmeOrderStatus,
    ) -> StoreResult<bool> {
        let args = args![
            o.order_id.as_str(),
            o.ca_id.as_str(),
            expected.as_str(),
            o.status.as_str(),
            problem_column(o.error.as_ref()),
            o.certificate_id.as_ref().map(CertId::as_str),
            o.updated_at
        ];
        // `processing` precedes the issuance, whose completion is a durable
        // commit after it (the logs are sequential): it need not wait for
        // the disk itself. Every other status is durable.
        let durability = if o.status == AcmeOrderStatus::Processing {
            Durability::Deferred
        } else {
            Durability::Durable
        };
        self.write(durability, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .exec(
                        "UPDATE acme_orders SET status = $4, error = $5, certificate_id = $6, \
                         updated_at = $7 WHERE order_id = $1 AND ca_id = $2 AND status = $3",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn acme_authz(&self, ca: &CaId, authz_id: &str) -> StoreResult<Option<AcmeAuthz>> {
        self.read_one(
            &format!(
                "SELECT {AUTHZ_COLUMNS} FROM acme_authorizations WHERE authz_id = $1 AND ca_id = $2"
            ),
            args![authz_id, ca.as_str()],
        )
        .await?
        .map(|row| authz_from_row(&row))
        .transpose()
    }

    async fn update_acme_authz(
        &self,
        a: &AcmeAuthz,
        expected: (AcmeAuthzStatus, bool),
    ) -> StoreResult<bool> {
        let args = args![
            a.authz_id.as_str(),
            a.ca_id.as_str(),
            expected.0.as_str(),
            expected.1,
            a.status.as_str(),
            a.attempted.map(AcmeChallenge::as_str),
            a.processing,
            a.validated_at,
            problem_column(a.error.as_ref()),
            a.updated_at
        ];
        // Marking a validation started need not wait for the disk: lost in
        // a power cut, the authorization is pending with nothing attempted
        // (a client polls it until its own timeout, then orders anew). Its
        // outcome is durable, and the logs are sequential: a durable outcome
        // implies a durable mark.
        let durability = if a.processing {
            Durability::Deferred
        } else {
            Durability::Durable
        };
        self.write(durability, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .exec(
                        "UPDATE acme_authorizations SET status = $5, attempted = $6, \
                         processing = $7, validated_at = $8, error = $9, updated_at = $10 \
                         WHERE authz_id = $1 AND ca_id = $2 AND status = $3 AND processing = $4",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }
}

fn authz_args(a: &AcmeAuthz) -> Vec<crate::db::Value> {
    args![
        a.authz_id.as_str(),
        a.order_id.as_str(),
        a.account_id.as_str(),
        a.ca_id.as_str(),
        a.domain_id.as_str(),
        a.identifier.kind.as_str(),
        a.identifier.value.as_str(),
        a.wildcard,
        a.status.as_str(),
        a.expires_at,
        a.token.as_str(),
        lines(a.challenges.iter().map(|c| c.as_str().to_owned())),
        a.attempted.map(AcmeChallenge::as_str),
        a.processing,
        a.validated_at,
        problem_column(a.error.as_ref()),
        a.updated_at
    ]
}
