//! The small executor interface both backends implement, so that every query
//! and row mapping is written once (`queries`) and run on SQLite (rusqlite)
//! or PostgreSQL (sqlx).
//!
//! SQL uses `$1, $2, …` placeholders, which both accept. Values are typed even
//! when null, because PostgreSQL types its parameters.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{StoreError, StoreResult};

/// A boxed future borrowing a transaction.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A bind parameter or a column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// BIGINT / INTEGER.
    Int(Option<i64>),
    /// TEXT.
    Text(Option<String>),
    /// BYTEA / BLOB.
    Blob(Option<Vec<u8>>),
    /// BOOLEAN (an INTEGER 0/1 in SQLite).
    Bool(Option<bool>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Self::Blob(Some(v.to_vec()))
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Blob(Some(v))
    }
}
impl From<Option<&[u8]>> for Value {
    fn from(v: Option<&[u8]>) -> Self {
        Self::Blob(v.map(<[u8]>::to_vec))
    }
}
impl From<Option<Vec<u8>>> for Value {
    fn from(v: Option<Vec<u8>>) -> Self {
        Self::Blob(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(Some(v))
    }
}

/// `args![a, b, …]`: bind parameters.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        vec![$($crate::db::Value::from($v)),*]
    };
}
pub(crate) use args;

/// `params![a, b, …]`: bind parameters as an array, for `&[Value]` arguments.
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        [$($crate::db::Value::from($v)),*]
    };
}
pub(crate) use params;

/// A result row: column names (shared by the rows of one result) and values.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

fn corrupt(column: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("column {column}: {what}"))
}

impl Row {
    /// A row of `values` named by `names`.
    pub fn new(names: Arc<[String]>, values: Vec<Value>) -> Self {
        Self { names, values }
    }

    fn value(&self, column: &str) -> StoreResult<&Value> {
        self.names
            .iter()
            .position(|n| n == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| corrupt(column, "missing"))
    }

    fn is_null(v: &Value) -> bool {
        matches!(
            v,
            Value::Int(None) | Value::Text(None) | Value::Blob(None) | Value::Bool(None)
        )
    }

    pub fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        match self.value(column)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(Some(b)) => Ok(Some(i64::from(*b))),
            v if Self::is_null(v) => Ok(None),
            _ => Err(corrupt(column, "not an integer")),
        }
    }

    pub fn int(&self, column: &str) -> StoreResult<i64> {
        self.opt_int(column)?.ok_or_else(|| corrupt(column, "null"))
    }

    pub fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        match self.value(column)? {
            Value::Text(v) => Ok(v.clone()),
            v if Self::is_null(v) => Ok(None),
            _ => Err(corrupt(column, "not text")),
        }
    }

    pub fn text(&self, column: &str) -> StoreResult<String> {
        self.opt_text(column)?
            .ok_or_else(|| corrupt(column, "null"))
    }

    pub fn opt_blob(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
        match self.value(column)? {
            Value::Blob(v) => Ok(v.clone()),
            v if Self::is_null(v) => Ok(None),
            _ => Err(corrupt(column, "not a blob")),
        }
    }

    pub fn blob(&self, column: &str) -> StoreResult<Vec<u8>> {
        self.opt_blob(column)?
            .ok_or_else(|| corrupt(column, "null"))
    }

    pub fn boolean(&self, column: &str) -> StoreResult<bool> {
        match self.value(column)? {
            Value::Bool(Some(b)) => Ok(*b),
            Value::Int(Some(0)) => Ok(false),
            Value::Int(Some(1)) => Ok(true),
            _ => Err(corrupt(column, "not a boolean")),
        }
    }
}

/// How a unit of write work ends.
pub enum Finish<T> {
    /// Keep what it wrote.
    Commit(T),
    /// Undo what it wrote (a refusal such as a quota or a taken serial),
    /// still answering `T`.
    Rollback(T),
}

/// How soon a write must be on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk before the call returns (fsync).
    Durable,
    /// Visible at once and safe from a process crash, but may wait for the
    /// next durable commit to reach the disk. Used for issuance intents: the
    /// completion that follows is durable, and both logs are sequential, so a
    /// durable completion implies a durable intent.
    Deferred,
}

/// How expensive a read may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// A lookup by key: microseconds; runs where it is called.
    Point,
    /// A scan (lists, counts): off the async executor.
    Scan,
}

/// A transaction, as write work sees it.
#[async_trait]
pub trait Tx: Send {
    /// Runs a statement; returns the rows it changed.
    async fn exec(&mut self, sql: &str, args: &[Value]) -> StoreResult<u64>;
    /// Runs a query.
    async fn query(&mut self, sql: &str, args: &[Value]) -> StoreResult<Vec<Row>>;
    /// Serialises, until the end of the transaction, the writers that take the
    /// same `(key, scope)` lock — across servers on PostgreSQL; SQLite has one
    /// writer already.
    async fn lock(&mut self, key: i32, scope: &str) -> StoreResult<()>;
    /// Tells the other servers sharing the database, once this transaction
    /// commits, that `ca_id` changed (PostgreSQL `NOTIFY`). SQLite has no
    /// other servers: the backend's own feed tells this one.
    async fn notify_ca_changed(&mut self, _ca_id: &str) -> StoreResult<()> {
        Ok(())
    }
}

/// How many CA changes a slow subscriber may fall behind before it is told
/// to forget everything ([`crate::StoreEvent::Resync`]).
pub const EVENT_BACKLOG: usize = 4096;

/// Erased write results (the backends are not generic over them).
pub type Erased = Box<dyn std::any::Any + Send>;

/// A unit of write work.
pub type WriteFn<T> =
    Box<dyn for<'c> FnOnce(&'c mut dyn Tx) -> BoxFuture<'c, StoreResult<Finish<T>>> + Send>;

/// How a backend's store finds certificates by a substring of their common
/// name (`migrations/*/0014_name_tokens.sql`): the one query the two
/// databases answer with different structures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameIndex {
    /// SQLite: every suffix of each lowercased name, cut to
    /// [`NAME_SUFFIX_CHARS`] characters, hex-encoded, as the tokens of the
    /// FTS5 table `certificate_names`; a keyword is a prefix query.
    Suffixes,
    /// PostgreSQL: every substring of [`NAME_WINDOW_CHARS`] characters of
    /// each lowercased name, and the shorter ones at its end, as the
    /// lexemes of a GIN-indexed tsvector; a keyword is the AND of its
    /// windows, or a prefix query when it is shorter than one.
    Windows,
}

/// The characters of a name suffix that `certificate_names` keeps
/// (`migrations/sqlite/0014_name_tokens.sql`).
pub const NAME_SUFFIX_CHARS: usize = 16;

/// The characters of a name window (`migrations/postgres/0014_name_tokens.sql`).
pub const NAME_WINDOW_CHARS: usize = 8;

/// A database backend.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// See [`crate::MetaStore::writes_run_unpolled`].
    fn writes_run_unpolled(&self) -> bool {
        false
    }
    /// See [`NameIndex`].
    fn name_index(&self) -> NameIndex;
    /// Runs a read-only query outside any write transaction.
    async fn read(&self, sql: &str, args: Vec<Value>, weight: Weight) -> StoreResult<Vec<Row>>;
    /// Runs write work in a transaction and answers once it is committed.
    async fn write_erased(
        &self,
        durability: Durability,
        work: WriteFn<Erased>,
    ) -> StoreResult<Erased>;
    /// Closes the connections, waiting for in-flight work.
    async fn close(&self);
    /// The feed of CA changes: this server's, published after their commit,
    /// and (PostgreSQL) those of every other server sharing the database.
    fn events(&self) -> &tokio::sync::broadcast::Sender<crate::StoreEvent>;
}
