//! The embedded SQLite backend.
//!
//! One writer connection and a pool of read-only connections on the same WAL
//! database: SQLite admits one writer at a time anyway, and funnelling writes
//! through one connection turns lock contention into an orderly queue instead
//! of `SQLITE_BUSY` errors. `synchronous=FULL` makes every commit durable
//! before it returns.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlitePool, Transaction};

use crate::{map_sqlx, StoreError, StoreResult};

type Db = sqlx::Sqlite;
type Backend = SqliteStore;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite:<path>`) and
    /// applies pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        let path = options.get_filename().to_owned();
        let in_memory = url.contains(":memory:") || path.as_os_str().is_empty();
        if !in_memory {
            create_private(&path)?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(map_sqlx)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        if in_memory {
            // Every connection to `:memory:` is its own database: share the one.
            return Ok(Self {
                reader: writer.clone(),
                writer,
            });
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options.read_only(true))
            .await
            .map_err(map_sqlx)?;
        Ok(Self { reader, writer })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Db>> {
        // IMMEDIATE takes the write lock up front, so a transaction that reads
        // before it writes cannot fail half-way with SQLITE_BUSY when another
        // process (an `openccm admin` command) holds the lock.
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)
    }

    /// Closes both pools, waiting for in-flight queries.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Creates the database file with mode 0600 if it does not exist, so that it
/// (and the `-wal`/`-shm` files SQLite derives from its mode) is private from
/// the first byte.
fn create_private(path: &std::path::Path) -> StoreResult<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Database(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

async fn lock_bootstrap(_tx: &mut Transaction<'static, Db>) -> StoreResult<()> {
    // BEGIN IMMEDIATE already excludes every other writer.
    Ok(())
}

async fn lock_domain(
    _tx: &mut Transaction<'static, Db>,
    _domain: &crate::DomainId,
) -> StoreResult<()> {
    // BEGIN IMMEDIATE already serialises writers.
    Ok(())
}

mod queries {
    include!("sql/common.rs");
}

mod pca_queries {
    include!("sql/pca.rs");
}
