// Query code shared by both backends.
//
// This file is `include!`d as module `queries` of `sqlite.rs` and `postgres.rs`,
// each of which defines `Db` (the sqlx driver), `Backend` (the store type) with `reader()`,
// `writer()` and `begin_write()`, and `lock_bootstrap()`. Writing the queries
// once keeps the two implementations from drifting; the SQL uses `$n`
// placeholders, which both drivers accept. Dialect differences live in the
// including module.

use async_trait::async_trait;
use sqlx::Row as _;

use crate::ids::{AccessKeyId, DomainId, ProjectId, UserId};
use crate::records::{AccessKey, Account, BootstrapPlan, Project, User};
use super::{lock_bootstrap, Backend, Db};
use crate::{map_sqlx, BeforeCommit, BootstrapOutcome, IamStore, MetaStore, StoreError, StoreResult};

type DbRow = <Db as sqlx::Database>::Row;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn domain_id(row: &DbRow, column: &str) -> StoreResult<DomainId> {
    let text: String = row.try_get(column).map_err(map_sqlx)?;
    DomainId::parse(&text).ok_or_else(|| corrupt(column))
}

fn user_id(row: &DbRow, column: &str) -> StoreResult<UserId> {
    let text: String = row.try_get(column).map_err(map_sqlx)?;
    UserId::parse(&text).ok_or_else(|| corrupt(column))
}

fn account_from_row(row: &DbRow) -> StoreResult<Account> {
    Ok(Account {
        domain_id: domain_id(row, "domain_id")?,
        name: row.try_get("name").map_err(map_sqlx)?,
        enabled: row.try_get("enabled").map_err(map_sqlx)?,
        created_at: row.try_get("created_at").map_err(map_sqlx)?,
    })
}

fn user_from_row(row: &DbRow) -> StoreResult<User> {
    Ok(User {
        user_id: user_id(row, "user_id")?,
        domain_id: domain_id(row, "domain_id")?,
        name: row.try_get("name").map_err(map_sqlx)?,
        password_hash: row.try_get("password_hash").map_err(map_sqlx)?,
        is_root: row.try_get("is_root").map_err(map_sqlx)?,
        enabled: row.try_get("enabled").map_err(map_sqlx)?,
        credentials_version: row.try_get("credentials_version").map_err(map_sqlx)?,
        created_at: row.try_get("created_at").map_err(map_sqlx)?,
    })
}

fn access_key_from_row(row: &DbRow) -> StoreResult<AccessKey> {
    let ak: String = row.try_get("access_key").map_err(map_sqlx)?;
    Ok(AccessKey {
        access_key: AccessKeyId::parse(&ak).ok_or_else(|| corrupt("access_key"))?,
        user_id: user_id(row, "user_id")?,
        domain_id: domain_id(row, "domain_id")?,
        sealed_secret: row.try_get("sealed_secret").map_err(map_sqlx)?,
        enabled: row.try_get("enabled").map_err(map_sqlx)?,
        description: row.try_get("description").map_err(map_sqlx)?,
        created_at: row.try_get("created_at").map_err(map_sqlx)?,
    })
}

fn project_from_row(row: &DbRow) -> StoreResult<Project> {
    let id: String = row.try_get("project_id").map_err(map_sqlx)?;
    Ok(Project {
        project_id: ProjectId::parse(&id).ok_or_else(|| corrupt("project_id"))?,
        domain_id: domain_id(row, "domain_id")?,
        name: row.try_get("name").map_err(map_sqlx)?,
        created_at: row.try_get("created_at").map_err(map_sqlx)?,
    })
}

const USER_COLUMNS: &str = "user_id, domain_id, name, password_hash, is_root, enabled, \
                            credentials_version, created_at";

#[async_trait]
impl MetaStore for Backend {
    async fn key_checks(&self) -> StoreResult<Vec<(u32, Vec<u8>)>> {
        let rows = sqlx::query("SELECT version, check_value FROM key_checks ORDER BY version")
            .fetch_all(self.reader())
            .await
            .map_err(map_sqlx)?;
        rows.iter()
            .map(|row| {
                let version: i64 = row.try_get("version").map_err(map_sqlx)?;
                let version = u32::try_from(version).map_err(|_| corrupt("key_checks.version"))?;
                Ok((version, row.try_get("check_value").map_err(map_sqlx)?))
            })
            .collect()
    }

    async fn add_key_check(&self, version: u32, check_value: &[u8], now_ms: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO key_checks (version, check_value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(i64::from(version))
        .bind(check_value)
        .bind(now_ms)
        .execute(self.writer())
        .await
        .map_err(map_sqlx)?;
        Ok(())
    }

    async fn close(&self) {
        Backend::close(self).await;
    }
}

#[async_trait]
impl IamStore for Backend {
    async fn bootstrap(
        &self,
        plan: &BootstrapPlan,
        before_commit: BeforeCommit<'_>,
    ) -> StoreResult<BootstrapOutcome> {
        let mut tx = self.begin_write().await?;
        lock_bootstrap(&mut tx).await?;
        let existing = sqlx::query("SELECT domain_id FROM bootstrap WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        if let Some(row) = existing {
            return Ok(BootstrapOutcome::AlreadyDone {
                domain_id: domain_id(&row, "domain_id")?,
            });
        }
        let a = &plan.account;
        sqlx::query("INSERT INTO accounts (domain_id, name, enabled, created_at) VALUES ($1, $2, $3, $4)")
            .bind(a.domain_id.as_str())
            .bind(&a.name)
            .bind(a.enabled)
            .bind(a.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        let u = &plan.user;
        sqlx::query(
            "INSERT INTO users (user_id, domain_id, name, password_hash, is_root, enabled, \
             credentials_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(u.user_id.as_str())
        .bind(u.domain_id.as_str())
        .bind(&u.name)
        .bind(u.password_hash.as_deref())
        .bind(u.is_root)
        .bind(u.enabled)
        .bind(u.credentials_version)
        .bind(u.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        let k = &plan.access_key;
        sqlx::query(
            "INSERT INTO access_keys (access_key, user_id, domain_id, sealed_secret, enabled, \
             description, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(k.access_key.as_str())
        .bind(k.user_id.as_str())
        .bind(k.domain_id.as_str())
        .bind(k.sealed_secret.as_slice())
        .bind(k.enabled)
        .bind(&k.description)
        .bind(k.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        let p = &plan.project;
        sqlx::query("INSERT INTO projects (project_id, domain_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(p.project_id.as_str())
            .bind(p.domain_id.as_str())
            .bind(&p.name)
            .bind(p.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        sqlx::query("INSERT INTO bootstrap (id, domain_id, created_at) VALUES (1, $1, $2)")
            .bind(a.domain_id.as_str())
            .bind(a.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        before_commit().map_err(StoreError::Aborted)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(BootstrapOutcome::Created)
    }

    async fn account(&self, id: &DomainId) -> StoreResult<Option<Account>> {
        sqlx::query("SELECT domain_id, name, enabled, created_at FROM accounts WHERE domain_id = $1")
            .bind(id.as_str())
            .fetch_optional(self.reader())
            .await
            .map_err(map_sqlx)?
            .as_ref()
            .map(account_from_row)
            .transpose()
    }

    async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>> {
        sqlx::query("SELECT domain_id, name, enabled, created_at FROM accounts WHERE name = $1")
            .bind(name)
            .fetch_optional(self.reader())
            .await
            .map_err(map_sqlx)?
            .as_ref()
            .map(account_from_row)
            .transpose()
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.reader())
            .await
            .map_err(map_sqlx)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn user_by_name(&self, domain: &DomainId, name: &str) -> StoreResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE domain_id = $1 AND name = $2"
        ))
        .bind(domain.as_str())
        .bind(name)
        .fetch_optional(self.reader())
        .await
        .map_err(map_sqlx)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn access_key(&self, access_key: &AccessKeyId) -> StoreResult<Option<AccessKey>> {
        sqlx::query(
            "SELECT access_key, user_id, domain_id, sealed_secret, enabled, description, created_at \
             FROM access_keys WHERE access_key = $1",
        )
        .bind(access_key.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(map_sqlx)?
        .as_ref()
        .map(access_key_from_row)
        .transpose()
    }

    async fn projects(&self, domain: &DomainId, name: Option<&str>) -> StoreResult<Vec<Project>> {
        let rows = sqlx::query(
            "SELECT project_id, domain_id, name, created_at FROM projects \
             WHERE domain_id = $1 AND ($2 IS NULL OR name = $2) ORDER BY name",
        )
        .bind(domain.as_str())
        .bind(name)
        .fetch_all(self.reader())
        .await
        .map_err(map_sqlx)?;
        rows.iter().map(project_from_row).collect()
    }
}
