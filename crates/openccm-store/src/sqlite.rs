//! The embedded SQLite backend (rusqlite, bundled SQLite).
//!
//! - **Reads** run on a small pool of read-only connections, right where they
//!   are called: a lookup by key takes microseconds, less than a thread hop
//!   would. Scans (lists, counts) move to the blocking pool.
//! - **Writes** go through a *group commit*: one writer thread takes every
//!   write job waiting in its queue, runs each in its own savepoint of one
//!   transaction, and commits once — one fsync (`synchronous=FULL`, WAL) for
//!   the whole batch. A caller hears back only after that commit, so every
//!   acknowledged write is on disk, and concurrent writers share the fsync.
//!   Batches holding only deferred work commit with `synchronous=NORMAL`.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::db::{Backend, Durability, Erased, Finish, NameIndex, Row, Tx, Value, Weight, WriteFn};
use crate::queries::Sql;
use crate::{StoreError, StoreResult};

/// The SQLite store.
pub type SqliteStore = Sql<SqliteDb>;

/// The most jobs one commit takes.
const MAX_BATCH: usize = 256;
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 16;
/// How often the checkpointer copies committed WAL frames into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);
/// WAL frames at which the writer checkpoints itself (a backstop: the
/// checkpointer normally has copied them already, so this is cheap and lets
/// the WAL start over).
const WRITER_AUTOCHECKPOINT_FRAMES: i64 = 4000;

pub(crate) fn db_error(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(e, msg) = &err {
        if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        {
            return StoreError::Conflict {
                constraint: msg.clone().unwrap_or_else(|| "unique".to_owned()),
            };
        }
    }
    StoreError::Database(err.to_string())
}

struct WriteJob {
    run: WriteFn<Erased>,
    durability: Durability,
    reply: oneshot::Sender<StoreResult<Erased>>,
    /// When it was queued: its latency is counted to its reply.
    queued: std::time::Instant,
}

/// Read-only connections, checked out per read.
struct Readers {
    target: Target,
    idle: Mutex<Vec<Connection>>,
}

#[derive(Debug, Clone)]
enum Target {
    File(PathBuf),
    /// A shared-cache in-memory database (tests, `sqlite::memory:`).
    Memory(String),
}

impl Target {
    fn open(&self, read_only: bool) -> StoreResult<Connection> {
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        flags |= if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let conn = match self {
            Self::File(path) => Connection::open_with_flags(path, flags),
            Self::Memory(uri) => Connection::open_with_flags(uri, flags),
        }
        .map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(db_error)?;
        conn.set_prepared_statement_cache_capacity(128);
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_error)?;
        Ok(conn)
    }
}

impl Readers {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = match self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(conn) => conn,
            None => self.target.open(true)?,
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }
}

/// The SQLite backend.
pub struct SqliteDb {
    readers: Arc<Readers>,
    jobs: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Dropping it stops the checkpointer (a file database only).
    checkpointer: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
    /// CA changes, published after their commit (one server per database).
    events: tokio::sync::broadcast::Sender<crate::StoreEvent>,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("target", &self.readers.target)
            .finish_non_exhaustive()
    }
}

fn bind(stmt: &mut rusqlite::Statement<'_>, args: &[Value]) -> StoreResult<()> {
    for (i, arg) in args.iter().enumerate() {
        let name = format!("${}", i + 1);
        let Some(index) = stmt.parameter_index(&name).map_err(db_error)? else {
            continue;
        };
        match arg {
            Value::Int(v) => stmt.raw_bind_parameter(index, v),
            Value::Text(v) => stmt.raw_bind_parameter(index, v),
            Value::Blob(v) => stmt.raw_bind_parameter(index, v),
            Value::Bool(v) => stmt.raw_bind_parameter(index, v),
        }
        .map_err(db_error)?;
    }
    Ok(())
}

fn run_query(conn: &Connection, sql: &str, args: &[Value]) -> StoreResult<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    bind(&mut stmt, args)?;
    let names: Arc<[String]> = stmt
        .column_names()
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let columns = names.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i).map_err(db_error)? {
                ValueRef::Null => Value::Text(None),
                ValueRef::Integer(v) => Value::Int(Some(v)),
                ValueRef::Real(v) => {
                    return Err(StoreError::Corrupt(format!(
                        "unexpected REAL {v} in column {i}"
                    )))
                }
                ValueRef::Text(t) => Value::Text(Some(
                    std::str::from_utf8(t)
                        .map_err(|_| StoreError::Corrupt("text is not UTF-8".to_owned()))?
                        .to_owned(),
                )),
                ValueRef::Blob(b) => Value::Blob(Some(b.to_vec())),
            });
        }
        out.push(Row::new(names.clone(), values));
    }
    Ok(out)
}

fn run_exec(conn: &Connection, sql: &str, args: &[Value]) -> StoreResult<u64> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    bind(&mut stmt, args)?;
    let changed = stmt.raw_execute().map_err(db_error)?;
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

/// The writer's transaction.
struct SqliteTx<'a> {
    conn: &'a mut Connection,
}

#[async_trait]
impl Tx for SqliteTx<'_> {
    async fn exec(&mut self, sql: &str, args: &[Value]) -> StoreResult<u64> {
        run_exec(self.conn, sql, args)
    }

    async fn query(&mut self, sql: &str, args: &[Value]) -> StoreResult<Vec<Row>> {
        run_query(self.conn, sql, args)
    }

    async fn lock(&mut self, _key: i32, _scope: &str) -> StoreResult<()> {
        // One writer: writes are serialised already.
        Ok(())
    }
}

/// Runs a future whose every await completes at once (the SQLite `Tx`
/// methods do their work synchronously) on the writer thread.
fn run_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

/// Applies pending migrations (`migrations/sqlite`, embedded) with sqlx's
/// runner, the one the PostgreSQL store uses, over a connection of its own.
/// Returns that connection: an in-memory database lives only while one is
/// open, so it is closed once the writer holds its own.
async fn migrate(target: &Target) -> StoreResult<sqlx_sqlite::SqliteConnection> {
    use sqlx::Connection as _;
    use sqlx_sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

    let migrator = sqlx::migrate!("./migrations/sqlite");
    let options = match target {
        Target::File(path) => {
            let (file, known) = (target.clone(), migrator.iter().cloned().collect::<Vec<_>>());
            tokio::task::spawn_blocking(move || adopt_schema_migrations(file.open(false)?, &known))
                .await
                .map_err(|e| StoreError::Migration(e.to_string()))??;
            SqliteConnectOptions::new().filename(path)
        }
        // The URI names the shared-cache database the other connections open.
        Target::Memory(uri) => SqliteConnectOptions::new().filename(uri).shared_cache(true),
    }
    .create_if_missing(true)
    .foreign_keys(true)
    .journal_mode(SqliteJournalMode::Wal)
    .synchronous(SqliteSynchronous::Full)
    .busy_timeout(Duration::from_secs(10));
    let mut conn = sqlx_sqlite::SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    migrator
        .run(&mut conn)
        .await
        .map_err(|e| crate::migration_failed(&e))?;
    Ok(conn)
}

/// A database written before the stores shared sqlx's runner records its
/// migrations in `schema_migrations` (version, name, SHA-256 of the SQL).
/// They move to sqlx's `_sqlx_migrations`, once, in one transaction, each
/// checked against the embedded file first: a database whose applied
/// migration differs from this version's, or that knows one this version
/// does not, is refused rather than adopted.
fn adopt_schema_migrations(
    mut conn: Connection,
    migrations: &[sqlx::migrate::Migration],
) -> StoreResult<()> {
    // Immediate: the check and the adoption are one write transaction, so
    // two servers opening the same old database adopt it once.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let table_exists = |name: &str| -> StoreResult<bool> {
        tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(db_error)
    };
    if !table_exists("schema_migrations")? || table_exists("_sqlx_migrations")? {
        return Ok(());
    }
    // The table as sqlx's SQLite runner creates it.
    tx.execute_batch(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
         checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )
    .map_err(db_error)?;
    let applied: Vec<(i64, Vec<u8>)> = {
        let mut statement = tx
            .prepare("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .map_err(db_error)?;
        let rows = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)?
    };
    for (version, checksum) in applied {
        let migration = migrations
            .iter()
            .find(|m| m.version == version)
            .ok_or_else(|| {
                StoreError::Migration(format!(
                    "this database has migration {version}, which this version does not know"
                ))
            })?;
        let file_checksum = {
            use sha2::Digest as _;
            sha2::Sha256::digest(migration.sql.as_bytes()).to_vec()
        };
        if file_checksum != checksum {
            return Err(StoreError::Migration(format!(
                "migration {version} ({}) differs from the one applied to this database",
                migration.description
            )));
        }
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, 0)",
            rusqlite::params![version, migration.description.as_ref(), migration.checksum.as_ref()],
        )
        .map_err(db_error)?;
    }
    tx.execute_batch("DROP TABLE schema_migrations")
        .map_err(db_error)?;
    tx.commit().map_err(db_error)
}

/// The database file a `sqlite:` URL names (`sqlite:<path>`,
/// `sqlite://<path>`, with or without `?options`); `None` for an in-memory
/// database.
///
/// # Errors
/// `InvalidUrl` when `url` is not a `sqlite:` URL.
pub fn file_of(url: &str) -> StoreResult<Option<PathBuf>> {
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| StoreError::InvalidUrl("not a sqlite: URL".to_owned()))?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    Ok((!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path)))
}

/// Creates the database file with mode 0600 if it does not exist, so that it
/// (and the `-wal`/`-shm` files SQLite derives from its mode) is private from
/// the first byte.
fn create_private(path: &Path) -> StoreResult<()> {
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

impl Sql<SqliteDb> {
    /// Opens (creating if missing) the database at `url` (`sqlite:<path>`, or
    /// `sqlite::memory:`) and applies pending migrations.
    pub async fn open(url: &str, _max_connections: u32) -> StoreResult<Self> {
        let target = match file_of(url)? {
            None => {
                let bytes: [u8; 8] = rand::random();
                Target::Memory(format!(
                    "file:openccm-{:016x}?mode=memory&cache=shared",
                    u64::from_be_bytes(bytes)
                ))
            }
            Some(path) => {
                create_private(&path)?;
                Target::File(path)
            }
        };
        let migrations = migrate(&target).await?;
        let writer_target = target.clone();
        let (ready, started) = oneshot::channel();
        let (jobs, queue) = mpsc::channel::<WriteJob>();
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || {
                let conn = writer_target.open(false).and_then(|conn| {
                    configure_writer(&conn)?;
                    Ok(conn)
                });
                match conn {
                    Ok(conn) => {
                        let _ = ready.send(Ok(()));
                        group_commit(conn, &queue);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            })
            .map_err(|e| StoreError::Database(format!("cannot start the writer: {e}")))?;
        started
            .await
            .map_err(|_| StoreError::Database("the writer stopped".to_owned()))??;
        {
            use sqlx::Connection as _;
            // The writer holds the database open now (see `migrate`).
            let _ = migrations.close().await;
        }
        let checkpointer = match &target {
            Target::File(_) => Some(start_checkpointer(&target)?),
            Target::Memory(_) => None,
        };
        Ok(Sql(SqliteDb {
            readers: Arc::new(Readers {
                target,
                idle: Mutex::new(Vec::new()),
            }),
            jobs: Mutex::new(Some(jobs)),
            writer: Mutex::new(Some(writer)),
            checkpointer: Mutex::new(checkpointer),
            events: tokio::sync::broadcast::channel(crate::db::EVENT_BACKLOG).0,
        }))
    }
}

/// The writer connection's settings.
///
/// Each job runs in a savepoint, whose statement journal copies every page
/// the job changes (about ten pages an issuance). The bundled SQLite keeps
/// that journal in memory up to 1 MiB (`.cargo/config.toml`,
/// `SQLITE_STMTJRNL_SPILL`) and empties it at each `RELEASE`: with the
/// default 64 KiB, a batch's journal went to a file in the temp directory,
/// created and deleted each commit, at two `pwrite`s a page (three times
/// the WAL's writes, on the thread every write waits for). `temp_store`
/// stays a file: with it in memory no journal would ever spill, and one job
/// that changes many pages would hold them all in the heap.
fn configure_writer(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_error)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_error)?;
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_FRAMES)
        .map_err(db_error)
}

/// Starts the checkpointer: a thread with its own connection that copies
/// committed WAL frames into the database file every [`CHECKPOINT_EVERY`]
/// (PASSIVE: it never blocks the writer or readers). Without it the writer
/// copies them itself inside a commit, every thousand frames, and the request
/// whose commit that is waits for it.
fn start_checkpointer(
    target: &Target,
) -> StoreResult<(mpsc::Sender<()>, std::thread::JoinHandle<()>)> {
    let conn = target.open(false)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_error)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("sqlite-checkpoint".to_owned())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                // A failure (the disk, say) is the writer's to report: its
                // own commits fail the same way, and its auto-checkpoint
                // takes over.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })
        .map_err(|e| StoreError::Database(format!("cannot start the checkpointer: {e}")))?;
    Ok((stop, handle))
}

/// The writer thread: batches of queued jobs, one transaction and one commit each.
fn group_commit(mut conn: Connection, queue: &mpsc::Receiver<WriteJob>) {
    let mut synchronous_full = true;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        // Drained twice, with the processor given up in between: when the
        // machine is busy (issuances signing on every core), the jobs their
        // threads are about to queue join this commit instead of each paying
        // for one of their own (an SM2 issuance load commits half as often
        // and runs ~3 % faster: docs/benchmarks.md); when nothing else is
        // runnable, the yield returns at once and a lone write waits for
        // nothing. On a saturated machine the yield can hold this batch back
        // by up to a scheduler slice (1-3 ms), which writes under such load
        // (p50 over 5 ms at c=32) absorb.
        for round in 0..2 {
            if round == 1 {
                if batch.len() == MAX_BATCH {
                    break;
                }
                std::thread::yield_now();
            }
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        let durable = batch.iter().any(|j| j.durability == Durability::Durable);
        let queued: Vec<std::time::Instant> = batch.iter().map(|job| job.queued).collect();
        let mut replies = Vec::with_capacity(batch.len());
        let outcome = run_batch(
            &mut conn,
            batch,
            durable,
            &mut synchronous_full,
            &mut replies,
        );
        if let Some(metrics) = crate::metrics::get() {
            #[allow(clippy::cast_precision_loss)] // at most MAX_BATCH
            metrics.batch_size.observe(queued.len() as f64);
            for queued in &queued {
                metrics
                    .write_seconds
                    .observe(queued.elapsed().as_secs_f64());
            }
        }
        match outcome {
            Ok(()) => {
                for (reply, result) in replies {
                    let _ = reply.send(result);
                }
            }
            Err(err) => {
                let message = err.to_string();
                for (reply, _) in replies {
                    let _ = reply.send(Err(StoreError::Database(message.clone())));
                }
            }
        }
    }
}

type Reply = (oneshot::Sender<StoreResult<Erased>>, StoreResult<Erased>);

/// Runs a transaction-control statement from the statement cache: a batch
/// runs two per job and two more per commit, and compiling each anew
/// (`execute_batch`) cost the writer more than some of the jobs.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs a batch; `Err` means nothing of it was committed (every reply then
/// carries the error).
fn run_batch(
    conn: &mut Connection,
    batch: Vec<WriteJob>,
    durable: bool,
    synchronous_full: &mut bool,
    replies: &mut Vec<Reply>,
) -> StoreResult<()> {
    let mut failure = None;
    if durable != *synchronous_full {
        match conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" }) {
            Ok(()) => *synchronous_full = durable,
            Err(e) => failure = Some(db_error(e)),
        }
    }
    if failure.is_none() {
        if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
            failure = Some(db_error(e));
        }
    }
    for job in batch {
        if failure.is_some() {
            replies.push((
                job.reply,
                Err(StoreError::Database("batch failed".to_owned())),
            ));
            continue;
        }
        if let Err(e) = control(conn, "SAVEPOINT job") {
            failure = Some(db_error(e));
            replies.push((
                job.reply,
                Err(StoreError::Database("batch failed".to_owned())),
            ));
            continue;
        }
        let result = run_ready((job.run)(&mut SqliteTx { conn: &mut *conn }));
        let keep = matches!(result, Ok(Finish::Commit(_)));
        let closed = if keep {
            control(conn, "RELEASE job")
        } else {
            control(conn, "ROLLBACK TO job").and_then(|()| control(conn, "RELEASE job"))
        };
        if let Err(e) = closed {
            failure = Some(db_error(e));
        }
        replies.push((
            job.reply,
            result.map(|finish| match finish {
                Finish::Commit(v) | Finish::Rollback(v) => v,
            }),
        ));
    }
    if failure.is_none() {
        if let Err(e) = control(conn, "COMMIT") {
            failure = Some(db_error(e));
        }
    }
    match failure {
        None => Ok(()),
        Some(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

#[async_trait]
impl Backend for SqliteDb {
    /// The job is queued at the first poll; the writer thread commits it.
    fn writes_run_unpolled(&self) -> bool {
        true
    }

    fn name_index(&self) -> NameIndex {
        NameIndex::Suffixes
    }

    async fn read(&self, sql: &str, args: Vec<Value>, weight: Weight) -> StoreResult<Vec<Row>> {
        match weight {
            Weight::Point => self.readers.with(|conn| run_query(conn, sql, &args)),
            Weight::Scan => {
                let readers = self.readers.clone();
                let sql = sql.to_owned();
                tokio::task::spawn_blocking(move || {
                    readers.with(|conn| run_query(conn, &sql, &args))
                })
                .await
                .map_err(|e| StoreError::Database(e.to_string()))?
            }
        }
    }

    async fn write_erased(
        &self,
        durability: Durability,
        work: WriteFn<Erased>,
    ) -> StoreResult<Erased> {
        let (reply, answer) = oneshot::channel();
        let sent = self.jobs.lock().ok().and_then(|jobs| {
            jobs.as_ref().map(|jobs| {
                jobs.send(WriteJob {
                    run: work,
                    durability,
                    reply,
                    queued: std::time::Instant::now(),
                })
            })
        });
        match sent {
            Some(Ok(())) => {}
            _ => return Err(StoreError::Database("the store is closed".to_owned())),
        }
        answer
            .await
            .map_err(|_| StoreError::Database("the writer stopped".to_owned()))?
    }

    fn events(&self) -> &tokio::sync::broadcast::Sender<crate::StoreEvent> {
        &self.events
    }

    async fn close(&self) {
        // Dropping the sender ends the writer after the queued jobs.
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        let checkpointer = self.checkpointer.lock().ok().and_then(|mut c| c.take());
        if let Some((stop, handle)) = checkpointer {
            drop(stop);
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        if let Ok(mut idle) = self.readers.idle.lock() {
            idle.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(durability: Durability) -> WriteJob {
        let (reply, _answer) = oneshot::channel();
        WriteJob {
            run: Box::new(|_tx| Box::pin(async { Ok(Finish::Commit(Box::new(()) as Erased)) })),
            durability,
            reply,
            queued: std::time::Instant::now(),
        }
    }

    fn synchronous(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    }

    /// The bundled SQLite is the one `.cargo/config.toml` asks for
    /// (statement journals spill at 1 MiB, no memory statistics), and the
    /// writer's commits are durable.
    #[test]
    fn the_writer_runs_on_the_configured_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        configure_writer(&conn).unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for wanted in ["STMTJRNL_SPILL=1048576", "DEFAULT_MEMSTATUS=0"] {
            assert!(options.iter().any(|o| o == wanted), "{wanted}: {options:?}");
        }
        let pragma = |name: &str| -> String {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .map(|v| match v {
                rusqlite::types::Value::Integer(n) => n.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })
            .unwrap()
        };
        assert_eq!(pragma("synchronous"), "2", "FULL");
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("temp_store"), "0", "the default: spills to disk");
    }

    /// Durable batches must fsync (FULL = 2) however often the writer has
    /// switched; deferred-only batches may skip it (NORMAL = 1).
    #[test]
    fn each_batch_commits_with_the_synchronous_level_it_needs() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        let mut full = true;
        for round in 0..3 {
            for (durability, level) in [(Durability::Deferred, 1), (Durability::Durable, 2)] {
                let durable = durability == Durability::Durable;
                let mut replies = Vec::new();
                run_batch(
                    &mut conn,
                    vec![job(durability)],
                    durable,
                    &mut full,
                    &mut replies,
                )
                .unwrap();
                assert_eq!(
                    synchronous(&conn),
                    level,
                    "round {round}, durable {durable}"
                );
                assert!(replies.iter().all(|(_, r)| r.is_ok()));
            }
        }
    }
}
