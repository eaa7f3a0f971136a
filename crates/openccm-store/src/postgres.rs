//! The PostgreSQL backend (sqlx), for several OpenCCM servers sharing one
//! database.
//!
//! Migrations take PostgreSQL's advisory lock (sqlx does), so servers starting
//! together apply them once. Cross-process invariants rest on unique
//! constraints, atomic conditional updates and transaction-scoped advisory
//! locks ([`Tx::lock`]). Concurrent commits share WAL flushes (group commit).

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow};
use sqlx::{Column as _, PgConnection, PgPool, Postgres, Row as _, TypeInfo as _};

use crate::db::{Backend, Durability, Erased, Finish, NameIndex, Row, Tx, Value, Weight, WriteFn};
use crate::queries::Sql;
use crate::{map_sqlx, StoreError, StoreResult};

/// The PostgreSQL store.
pub type PgStore = Sql<PgDb>;

/// The PostgreSQL backend.
#[derive(Debug)]
pub struct PgDb {
    pool: PgPool,
    /// CA changes: this server's, published after their commit, and every
    /// server's, as `NOTIFY` delivers them.
    events: tokio::sync::broadcast::Sender<crate::StoreEvent>,
    /// The task that listens for the other servers' notifications.
    listener: tokio::task::JoinHandle<()>,
    /// Whether pooled connections are to be pinged before use.
    suspicion: Suspicion,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// The channel CA changes are announced on.
const CA_CHANGES: &str = "openccm_ca_changes";

/// Forwards `NOTIFY openccm_ca_changes` payloads (CA ids) into `events`, on
/// a connection of its own (a busy pool never delays it). Whatever changed
/// while nothing listened was not heard: `Resync` follows every (re)start of
/// listening — after sqlx's own reconnect (`Ok(None)`), and after a new
/// connection has issued its `LISTEN` when an error dropped the old one.
/// While the database is unreachable it retries every 100 ms.
async fn listen(
    url: String,
    events: tokio::sync::broadcast::Sender<crate::StoreEvent>,
    mut listening: Option<tokio::sync::oneshot::Sender<()>>,
) {
    loop {
        let mut listener = loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => match listener.listen(CA_CHANGES).await {
                    Ok(()) => break listener,
                    Err(err) => tracing::warn!(error = %err, "cannot listen for CA changes"),
                },
                Err(err) => tracing::warn!(error = %err, "cannot connect to listen for CA changes"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let _ = events.send(crate::StoreEvent::Resync);
        if let Some(listening) = listening.take() {
            let _ = listening.send(());
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(id) = crate::CaId::parse(notification.payload()) {
                        let _ = events.send(crate::StoreEvent::CaChanged(id));
                    }
                }
                // sqlx has reconnected and listens again.
                Ok(None) => {
                    tracing::warn!("reconnected the connection that listens for CA changes");
                    let _ = events.send(crate::StoreEvent::Resync);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "listening for CA changes failed; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bind<'q>(mut query: Query<'q>, args: &'q [Value]) -> Query<'q> {
    for arg in args {
        query = match arg {
            Value::Int(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Blob(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
        };
    }
    query
}

fn convert(rows: &[PgRow]) -> StoreResult<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let names: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let types: Vec<String> = first
        .columns()
        .iter()
        .map(|c| c.type_info().name().to_owned())
        .collect();
    rows.iter()
        .map(|row| {
            let values = types
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    Ok(match t.as_str() {
                        "INT8" => Value::Int(row.try_get::<Option<i64>, _>(i).map_err(map_sqlx)?),
                        "INT4" => Value::Int(
                            row.try_get::<Option<i32>, _>(i)
                                .map_err(map_sqlx)?
                                .map(i64::from),
                        ),
                        "INT2" => Value::Int(
                            row.try_get::<Option<i16>, _>(i)
                                .map_err(map_sqlx)?
                                .map(i64::from),
                        ),
                        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
                            Value::Text(row.try_get::<Option<String>, _>(i).map_err(map_sqlx)?)
                        }
                        "BYTEA" => {
                            Value::Blob(row.try_get::<Option<Vec<u8>>, _>(i).map_err(map_sqlx)?)
                        }
                        "BOOL" => Value::Bool(row.try_get::<Option<bool>, _>(i).map_err(map_sqlx)?),
                        "VOID" => Value::Text(None),
                        other => {
                            return Err(StoreError::Corrupt(format!(
                                "unexpected column type {other}"
                            )))
                        }
                    })
                })
                .collect::<StoreResult<Vec<Value>>>()?;
            Ok(Row::new(names.clone(), values))
        })
        .collect()
}

/// A transaction on one connection.
struct PgTx<'a> {
    conn: &'a mut PgConnection,
}

#[async_trait]
impl Tx for PgTx<'_> {
    async fn exec(&mut self, sql: &str, args: &[Value]) -> StoreResult<u64> {
        let result = bind(sqlx::query(sql), args)
            .execute(&mut *self.conn)
            .await
            .map_err(map_sqlx)?;
        Ok(result.rows_affected())
    }

    async fn query(&mut self, sql: &str, args: &[Value]) -> StoreResult<Vec<Row>> {
        let rows = bind(sqlx::query(sql), args)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(map_sqlx)?;
        convert(&rows)
    }

    async fn lock(&mut self, key: i32, scope: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(key)
            .bind(scope)
            .execute(&mut *self.conn)
            .await
            .map_err(map_sqlx)?;
        Ok(())
    }

    async fn notify_ca_changed(&mut self, ca_id: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CA_CHANGES)
            .bind(ca_id)
            .execute(&mut *self.conn)
            .await
            .map_err(map_sqlx)?;
        Ok(())
    }
}

/// A pooled connection idle longer than this is pinged before it is used.
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// After a connection is found lost, every connection handed out for this
/// long is pinged first: the others of the pool died with it.
const SUSPECT_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// A read, or the BEGIN of a write, that failed on a lost connection is
/// tried this many times more (nothing of it took effect).
const RETRIES_ON_LOST_CONNECTION: usize = 2;

/// Until when pooled connections are suspect (see [`SUSPECT_FOR`]).
#[derive(Debug, Clone)]
struct Suspicion {
    base: std::time::Instant,
    /// Milliseconds after `base`.
    until: Arc<std::sync::atomic::AtomicU64>,
}

impl Suspicion {
    fn new() -> Self {
        Self {
            base: std::time::Instant::now(),
            until: Arc::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn raise(&self) {
        let until = self
            .now_ms()
            .saturating_add(u64::try_from(SUSPECT_FOR.as_millis()).unwrap_or(u64::MAX));
        self.until
            .fetch_max(until, std::sync::atomic::Ordering::Relaxed);
    }

    fn raised(&self) -> bool {
        self.now_ms() < self.until.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Whether `err` says the connection is gone (the server restarted, failed
/// over or dropped it), not that the statement failed: a connection
/// exception (SQLSTATE class 08, but for 08P01, a protocol violation that a
/// statement can cause every time), an operator intervention such as a
/// shutdown (57P01–57P03), or the socket itself.
fn connection_lost(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            (code.starts_with("08") && code != "08P01") || code.starts_with("57P")
        }),
        _ => false,
    }
}

impl Sql<PgDb> {
    /// Connects to `url` (`postgres://...`) and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let suspicion = Suspicion::new();
        let suspect = suspicion.clone();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            // sqlx pings every connection it hands out: a round trip before
            // each transaction and read, 7 % of the server's CPU under c=32
            // issuance. A connection used within the last second is alive
            // as far as a ping could tell; one idle longer (a lull, perhaps
            // a database restart) is still checked first, and so is every
            // one for a while after one was found lost. A connection that
            // fails its ping is closed, and another one taken.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let ping = suspect.raised() || meta.idle_for > PING_IF_IDLE_FOR;
                Box::pin(async move {
                    if ping {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await
            .map_err(map_sqlx)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| crate::migration_failed(&e))?;
        let events = tokio::sync::broadcast::channel(crate::db::EVENT_BACKLOG).0;
        // The store is handed out once it hears the other servers' changes
        // (or, with a database that accepts no listener, after ten seconds).
        let (listening, heard) = tokio::sync::oneshot::channel();
        let listener = tokio::spawn(listen(url.to_owned(), events.clone(), Some(listening)));
        if tokio::time::timeout(std::time::Duration::from_secs(10), heard)
            .await
            .is_err()
        {
            tracing::warn!("not yet listening for CA changes; starting anyway");
        }
        Ok(Sql(PgDb {
            pool,
            events,
            listener,
            suspicion,
        }))
    }
}

#[async_trait]
impl Backend for PgDb {
    fn name_index(&self) -> NameIndex {
        NameIndex::Windows
    }

    async fn read(&self, sql: &str, args: Vec<Value>, _weight: Weight) -> StoreResult<Vec<Row>> {
        let mut tries = 0;
        loop {
            match bind(sqlx::query(sql), &args).fetch_all(&self.pool).await {
                Ok(rows) => return convert(&rows),
                Err(err) if tries < RETRIES_ON_LOST_CONNECTION && connection_lost(&err) => {
                    tries += 1;
                    self.lost_connection(&err);
                }
                Err(err) => return Err(map_sqlx(err)),
            }
        }
    }

    async fn write_erased(
        &self,
        durability: Durability,
        work: WriteFn<Erased>,
    ) -> StoreResult<Erased> {
        let started = std::time::Instant::now();
        let result = self.transaction(durability, work).await;
        if let Some(metrics) = crate::metrics::get() {
            if result.is_ok() {
                metrics.batch_size.observe(1.0);
            }
            metrics
                .write_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        result
    }

    fn events(&self) -> &tokio::sync::broadcast::Sender<crate::StoreEvent> {
        &self.events
    }

    async fn close(&self) {
        self.listener.abort();
        self.pool.close().await;
    }
}

impl PgDb {
    /// Marks the pool's connections suspect after `err` showed one lost.
    fn lost_connection(&self, err: &sqlx::Error) {
        tracing::warn!(error = %err, "a database connection was lost; checking the others before use");
        self.suspicion.raise();
    }

    /// Runs `work` in a transaction of its own.
    async fn transaction(
        &self,
        durability: Durability,
        work: WriteFn<Erased>,
    ) -> StoreResult<Erased> {
        let mut tries = 0;
        let mut tx = loop {
            match self.pool.begin().await {
                Ok(tx) => break tx,
                // BEGIN did not reach a live server: nothing began.
                Err(err) if tries < RETRIES_ON_LOST_CONNECTION && connection_lost(&err) => {
                    tries += 1;
                    self.lost_connection(&err);
                }
                Err(err) => return Err(map_sqlx(err)),
            }
        };
        if durability == Durability::Deferred {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await
                .map_err(map_sqlx)?;
        }
        let finish = work(&mut PgTx { conn: &mut tx }).await?;
        match finish {
            Finish::Commit(v) => {
                tx.commit().await.map_err(map_sqlx)?;
                Ok(v)
            }
            Finish::Rollback(v) => {
                tx.rollback().await.map_err(map_sqlx)?;
                Ok(v)
            }
        }
    }
}
