//! The PostgreSQL backend, for several OpenCCM servers sharing one database.
//!
//! Migrations take PostgreSQL's advisory lock (sqlx does), so servers starting
//! together apply them once. Cross-process invariants (the single bootstrap
//! administrator, serial uniqueness) rest on unique constraints and, where a
//! read decides a write, transaction-scoped advisory locks.

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Transaction};

use crate::{map_sqlx, StoreError, StoreResult};

type Db = sqlx::Postgres;
type Backend = PgStore;

/// Advisory-lock key for the bootstrap (arbitrary, fixed: "OCCM" + 1).
const BOOTSTRAP_LOCK: i64 = 0x4f43_434d_0000_0001;

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://...`) and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect(url)
            .await
            .map_err(map_sqlx)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Self { pool })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Db>> {
        self.pool.begin().await.map_err(map_sqlx)
    }

    /// Closes the pool, waiting for in-flight queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn lock_bootstrap(tx: &mut Transaction<'static, Db>) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(BOOTSTRAP_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(map_sqlx)?;
    Ok(())
}

/// Serialises quota-checked inserts of one account across servers: the count
/// and the insert must not interleave with another server's.
async fn lock_domain(
    tx: &mut Transaction<'static, Db>,
    domain: &crate::DomainId,
) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(0x4f43_434d_i32)
        .bind(domain.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_sqlx)?;
    Ok(())
}

mod queries {
    include!("sql/common.rs");
}

mod pca_queries {
    include!("sql/pca.rs");
}
