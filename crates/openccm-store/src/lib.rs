//! Storage.
//!
//! Owns the repository traits the application needs, the records they speak
//! in, newtype ids, and the two implementations: [`SqliteStore`] (the embedded
//! default) and [`PgStore`] (several servers sharing one database). Each
//! backend applies its own versioned migrations when it opens.
//!
//! `sqlx` types never leave this crate: database failures become [`StoreError`].
//!
//! Modules:
//! - `stores`: the traits, one per concern, and [`Store`], all of them.
//! - [`ids`]: newtype ids.
//! - [`records`]: the rows as the application sees them.
//! - `db`: the executor interface the backends implement.
//! - `queries`: every query and row mapping, written once.
//! - [`sqlite`] (rusqlite: inline reads, group-committing writer thread) and
//!   [`postgres`] (sqlx): the backends.
//! - [`backup`]: online backups of the SQLite store, and their restore.
//! - [`metrics`]: what the store measures, for Prometheus.

pub mod backup;
mod db;
pub mod domain;
pub mod ids;
pub mod metrics;
pub mod postgres;
mod queries;
pub mod records;
pub mod sqlite;
mod stores;

use std::sync::Arc;

pub use domain::{
    AcmeAccountStatus, AcmeAuthzStatus, AcmeChallenge, AcmeIdentifierKind, AcmeOrderStatus,
    CaState, CaStatus, CaType, CertStatus, CsrUsage, GenMode, RevocationReason,
};
pub use ids::{
    AccessKeyId, CaId, CertId, CsrId, DomainId, GroupId, PolicyId, ProjectId, ScmCertId, UserId,
};
pub use postgres::PgStore;
pub use queries::by_id::{planned_by_primary_key, Sample};
pub use queries::Sql;
pub use records::{
    AccessKey, Account, AcmeAccount, AcmeAccountInsert, AcmeAuthz, AcmeIdentifier, AcmeOrder,
    AcmeSettings, AuditChainer, AuditEvent, AuditHead, BootstrapPlan, CaFilter, CaRecord,
    CaSortKey, CertFilter, CertRecord, CertSortKey, ChainedAuditEvent, CrlCounters, CrlSettings,
    CsrFilter, CsrRecord, EabKey, ExpiringResource, Group, InsertOutcome, LockoutRule,
    LoginFailures, NameFields, NotificationChannels, OutboxEntry, Page, PolicyRecord, Principal,
    Project, RevocationEntry, ScmCertFilter, ScmCertRecord, ScmInsertOutcome, ScmSortKey, Scope,
    SerialStatus, SortDir, StoreEvent, StoredCrl, TagFilter, TagOutcome, TaggedResource,
    UpdateOutcome, User, Visibility,
};
pub use sqlite::SqliteStore;
pub use stores::*;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique constraint refused the write; the named constraint says which.
    #[error("conflict on {constraint}")]
    Conflict {
        /// The constraint (e.g. `users_domain_name_key`).
        constraint: String,
    },
    /// The database URL is not `sqlite:` or `postgres:`, or is malformed.
    #[error("invalid database url: {0}")]
    InvalidUrl(String),
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(String),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored row does not decode into a record (a bug or a tampered database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The caller's `before_commit` hook failed; nothing was written.
    #[error("aborted before commit: {0}")]
    Aborted(String),
}

/// The result type of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// What a bootstrap attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// This call created the bootstrap administrator.
    Created,
    /// An administrator existed already (possibly created by another server just now).
    AlreadyDone {
        /// Its account.
        domain_id: DomainId,
    },
}

/// A hook run inside the bootstrap transaction, after the rows are written and
/// before the commit. Used to persist the credentials file so that a committed
/// administrator never lacks one. An `Err` rolls everything back.
pub type BeforeCommit = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// Opens the store named by `url`: `sqlite:<path>` or `postgres://...`.
/// Anything else is an error, never a fallback. Applies pending migrations.
pub async fn open(url: &str, max_connections: u32) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, max_connections).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url, max_connections).await?))
    } else {
        Err(StoreError::InvalidUrl(
            "the scheme must be sqlite: or postgres://".to_owned(),
        ))
    }
}

/// A migration failure, worded for the operator: a database migrated by a
/// newer version (a migration this build does not know was applied) is
/// refused, never opened by the older code.
pub(crate) fn migration_failed(err: &sqlx::migrate::MigrateError) -> StoreError {
    match err {
        sqlx::migrate::MigrateError::VersionMissing(version) => StoreError::Migration(format!(
            "the database was migrated by a newer OpenCCM (migration {version}, which this \
             version does not have): run the newer version, or restore a backup taken before \
             the upgrade"
        )),
        other => StoreError::Migration(other.to_string()),
    }
}

pub(crate) fn map_sqlx(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
            constraint: db
                .constraint()
                .map_or_else(|| db.message().to_owned(), str::to_owned),
        },
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(err.to_string()),
        _ => StoreError::Database(err.to_string()),
    }
}
