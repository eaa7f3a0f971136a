//! Every query and row mapping of the store, written once over the
//! [`Backend`] interface and shared by SQLite and PostgreSQL.
//!
//! - this module: [`Sql`], the metadata and IAM queries;
//! - [`pca`]: private CAs, certificates, serials, quota counters.
//! - [`scm`]: SSL certificates, CSRs, tags, notification settings.
//! - [`by_id`]: lookups by primary key that no statistics can turn into scans.
//! - [`revocation`]: revoked serials, CRL numbers and stored CRLs (CRLs, OCSP).
//! - `acme`: ACME settings per CA and external account binding keys.

mod acme;
mod admin;
mod audit;
pub(crate) mod by_id;
mod console;
mod notify;
mod pca;
mod report;
mod revocation;
mod rotation;
mod scm;

use async_trait::async_trait;

use crate::db::{args, params, Backend, BoxFuture, Durability, Finish, Row, Tx, Value, Weight};
use crate::ids::{AccessKeyId, DomainId, ProjectId, UserId};
use crate::records::{
    AccessKey, Account, BootstrapPlan, LockoutRule, LoginFailures, Project, SortDir, User,
};
use crate::{BeforeCommit, BootstrapOutcome, IamStore, MetaStore, StoreError, StoreResult};

/// A store: the shared queries over one backend.
#[derive(Debug)]
pub struct Sql<B: Backend>(pub(crate) B);

impl<B: Backend> Sql<B> {
    /// A read outside any transaction.
    pub(crate) async fn read(
        &self,
        sql: &str,
        args: Vec<Value>,
        weight: Weight,
    ) -> StoreResult<Vec<Row>> {
        self.0.read(sql, args, weight).await
    }

    /// The first row of a read, if any.
    pub(crate) async fn read_one(&self, sql: &str, args: Vec<Value>) -> StoreResult<Option<Row>> {
        Ok(self
            .0
            .read(sql, args, Weight::Point)
            .await?
            .into_iter()
            .next())
    }

    /// How many rows of `from` (a table, with its alias if `c` uses one) the
    /// conditions select.
    pub(crate) async fn count_where(&self, from: &str, c: &Conditions) -> StoreResult<i64> {
        self.read(
            &format!("SELECT COUNT(*) AS n FROM {from} {}", c.where_sql()),
            c.args.clone(),
            Weight::Scan,
        )
        .await?
        .first()
        .map_or(Ok(0), |r| r.int("n"))
    }

    /// One `page` of the rows of `from` that `c` selects, sorted by `order`
    /// (whose own placeholders, if any, are bound in `c` already).
    pub(crate) async fn page_where(
        &self,
        columns: &str,
        from: &str,
        mut c: Conditions,
        order: &str,
        page: crate::records::Page,
    ) -> StoreResult<Vec<Row>> {
        let where_sql = c.where_sql();
        let limit = c.next_placeholder();
        c.args.push(Value::from(page.limit));
        let offset = c.next_placeholder();
        c.args.push(Value::from(page.offset));
        self.read(
            &format!(
                "SELECT {columns} FROM {from} {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
            ),
            c.args,
            Weight::Scan,
        )
        .await
    }

    /// Runs `work` in a write transaction and answers once it is committed.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        durability: Durability,
        work: impl for<'c> FnOnce(&'c mut dyn Tx) -> BoxFuture<'c, StoreResult<Finish<T>>>
            + Send
            + 'static,
    ) -> StoreResult<T> {
        let erased = self
            .0
            .write_erased(
                durability,
                Box::new(move |tx| {
                    Box::pin(async move {
                        Ok(match work(tx).await? {
                            Finish::Commit(v) => Finish::Commit(Box::new(v) as crate::db::Erased),
                            Finish::Rollback(v) => {
                                Finish::Rollback(Box::new(v) as crate::db::Erased)
                            }
                        })
                    })
                }),
            )
            .await?;
        erased
            .downcast::<T>()
            .map(|v| *v)
            .map_err(|_| StoreError::Database("write work answered the wrong type".to_owned()))
    }

    /// Closes the connections, waiting for in-flight work.
    pub async fn close(&self) {
        self.0.close().await;
    }
}

/// Builds `WHERE` clauses with numbered placeholders.
#[derive(Default)]
pub(crate) struct Conditions {
    pub(crate) sql: Vec<String>,
    pub(crate) args: Vec<Value>,
}

impl Conditions {
    /// Adds a clause whose `?` marks are bound to `args`, in order.
    pub(crate) fn push(&mut self, clause: &str, args: Vec<Value>) {
        let mut clause = clause.to_owned();
        for arg in args {
            self.args.push(arg);
            clause = clause.replacen('?', &format!("${}", self.args.len()), 1);
        }
        self.sql.push(clause);
    }

    pub(crate) fn next_placeholder(&self) -> String {
        format!("${}", self.args.len() + 1)
    }

    pub(crate) fn where_sql(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }
}

/// Whether a periodic sweep whose last run (per process) is kept in `last`
/// is due at `now`: `every` milliseconds after the last, or at once when the
/// clock stepped back. Of callers racing for one sweep, one wins.
pub(crate) fn sweep_due(last: &std::sync::atomic::AtomicI64, now: i64, every: i64) -> bool {
    use std::sync::atomic::Ordering;
    let previous = last.load(Ordering::Relaxed);
    (now - previous >= every || now < previous)
        && last
            .compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// `%text%` for LIKE, with the wildcards in `text` escaped.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

pub(crate) fn sort_dir(dir: SortDir) -> &'static str {
    match dir {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    }
}

pub(crate) fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds the tag conditions of `filter` on the resources of `resource_type`
/// whose id is the column `id_col` of the outer row.
pub(crate) fn push_tag_filter(
    c: &mut Conditions,
    resource_type: &str,
    id_col: &str,
    filter: &crate::TagFilter,
) {
    if filter.without_any_tag {
        c.sql.push(format!(
            "NOT EXISTS (SELECT 1 FROM tags t WHERE t.resource_type = '{resource_type}' AND t.resource_id = {id_col})"
        ));
        return;
    }
    for (key, values) in &filter.all {
        let clause = tag_exists(c, resource_type, id_col, key, values);
        c.sql.push(clause);
    }
    if !filter.any.is_empty() {
        let clauses: Vec<String> = filter
            .any
            .iter()
            .map(|(k, v)| tag_exists(c, resource_type, id_col, k, v))
            .collect();
        c.sql.push(format!("({})", clauses.join(" OR ")));
    }
    for (key, values) in &filter.none {
        let clause = tag_exists(c, resource_type, id_col, key, values);
        c.sql.push(format!("NOT {clause}"));
    }
    if !filter.not_all.is_empty() {
        let clauses: Vec<String> = filter
            .not_all
            .iter()
            .map(|(k, v)| format!("NOT {}", tag_exists(c, resource_type, id_col, k, v)))
            .collect();
        c.sql.push(format!("({})", clauses.join(" OR ")));
    }
}

/// Sets a resource's tag `key` to `value` (one value per key, the TMS
/// model), inside a write. A certificate's tag also carries the
/// certificate's creation time, the order a page of a tag filter is read in
/// (`migrations/*/0015_tag_order.sql`).
pub(crate) async fn set_tag(
    tx: &mut dyn Tx,
    resource: crate::TaggedResource,
    id: &str,
    domain: &str,
    key: &str,
    value: &str,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO tags (resource_type, resource_id, domain_id, tag_key, tag_value, resource_created) \
         VALUES ($1, $2, $3, $4, $5, \
                 (SELECT create_time FROM certificates WHERE certificate_id = $2 AND $1 = 'pca-cert')) \
         ON CONFLICT (resource_type, resource_id, tag_key) \
         DO UPDATE SET tag_value = $5, resource_created = excluded.resource_created",
        &params![resource.as_str(), id, domain, key, value],
    )
    .await?;
    Ok(())
}

/// Deletes every tag of a deleted resource, inside the write that deletes
/// it. It takes the resource's tag lock first, as tag additions do, so
/// that an addition checking the resource cannot commit a tag after this
/// (on PostgreSQL a concurrent insert is invisible to a DELETE); and it
/// deletes one key at a time in key order, so that the `tag_counts`
/// triggers take counter rows in the order every writer takes them
/// (`migrations/postgres/0013_search.sql`).
pub(crate) async fn delete_tags(
    tx: &mut dyn Tx,
    resource: crate::TaggedResource,
    id: &str,
) -> StoreResult<()> {
    tx.lock(locks::TAGS, &format!("{}:{id}", resource.as_str()))
        .await?;
    let keys = tx
        .query(
            "SELECT tag_key FROM tags WHERE resource_type = $1 AND resource_id = $2 ORDER BY tag_key",
            &params![resource.as_str(), id],
        )
        .await?;
    for key in keys {
        tx.exec(
            "DELETE FROM tags WHERE resource_type = $1 AND resource_id = $2 AND tag_key = $3",
            &params![resource.as_str(), id, key.text("tag_key")?.as_str()],
        )
        .await?;
    }
    Ok(())
}

/// `EXISTS` for one tag key (and, if any are given, one of its values) on
/// the resource whose id is the column `id_col` of the outer row.
pub(crate) fn tag_exists(
    c: &mut Conditions,
    resource_type: &str,
    id_col: &str,
    key: &str,
    values: &[String],
) -> String {
    let mut clause = format!(
        "EXISTS (SELECT 1 FROM tags t WHERE t.resource_type = '{resource_type}' AND t.resource_id = {id_col} \
         AND t.tag_key = {}",
        c.next_placeholder()
    );
    c.args.push(Value::from(key));
    if !values.is_empty() {
        let mut marks = Vec::new();
        for value in values {
            marks.push(c.next_placeholder());
            c.args.push(Value::from(value.as_str()));
        }
        clause = format!("{clause} AND t.tag_value IN ({})", marks.join(", "));
    }
    clause.push(')');
    clause
}

fn in_list(c: &mut Conditions, column: &str, values: &[String]) -> String {
    if values.is_empty() {
        return "1 = 0".to_owned();
    }
    let marks: Vec<String> = values
        .iter()
        .map(|v| {
            let mark = c.next_placeholder();
            c.args.push(Value::from(v.as_str()));
            mark
        })
        .collect();
    format!("{column} IN ({})", marks.join(", "))
}

/// Restricts rows to what `v` shows: the row's project is `project_col`, its
/// id (for tags of `resource_type`) `id_col`.
pub(crate) fn push_visibility(
    c: &mut Conditions,
    v: &crate::Visibility,
    project_col: &str,
    resource_type: &str,
    id_col: &str,
) {
    if v.is_everything() {
        return;
    }
    if v.is_empty() {
        c.sql.push("1 = 0".to_owned());
        return;
    }
    let scopes: Vec<String> = v
        .scopes
        .iter()
        .map(|scope| {
            let mut parts = Vec::new();
            if let Some(projects) = &scope.projects {
                parts.push(in_list(c, project_col, projects));
            }
            for (key, values) in &scope.tags {
                parts.push(tag_exists(c, resource_type, id_col, key, values));
            }
            if parts.is_empty() {
                "1 = 1".to_owned()
            } else {
                format!("({})", parts.join(" AND "))
            }
        })
        .collect();
    c.sql.push(format!("({})", scopes.join(" OR ")));
    if !v.excluded_projects.is_empty() {
        let clause = in_list(c, project_col, &v.excluded_projects);
        c.sql.push(format!("NOT {clause}"));
    }
    if let Some(only) = &v.only_projects {
        let clause = in_list(c, project_col, only);
        c.sql.push(clause);
    }
    for (key, values) in &v.excluded_tags {
        let clause = tag_exists(c, resource_type, id_col, key, values);
        c.sql.push(format!("NOT {clause}"));
    }
}

/// The entries of a comma-joined column (empty: none).
pub(crate) fn comma_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|s| !s.is_empty())
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn domain_id(row: &Row, column: &str) -> StoreResult<DomainId> {
    DomainId::parse(&row.text(column)?).ok_or_else(|| corrupt(column))
}

fn user_id(row: &Row, column: &str) -> StoreResult<UserId> {
    UserId::parse(&row.text(column)?).ok_or_else(|| corrupt(column))
}

pub(crate) fn account_from_row(row: &Row) -> StoreResult<Account> {
    Ok(Account {
        domain_id: domain_id(row, "domain_id")?,
        name: row.text("name")?,
        enabled: row.boolean("enabled")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn user_from_row(row: &Row) -> StoreResult<User> {
    Ok(User {
        user_id: user_id(row, "user_id")?,
        domain_id: domain_id(row, "domain_id")?,
        name: row.text("name")?,
        password_hash: row.opt_text("password_hash")?,
        is_root: row.boolean("is_root")?,
        enabled: row.boolean("enabled")?,
        credentials_version: row.int("credentials_version")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn access_key_from_row(row: &Row) -> StoreResult<AccessKey> {
    Ok(AccessKey {
        access_key: AccessKeyId::parse(&row.text("access_key")?)
            .ok_or_else(|| corrupt("access_key"))?,
        user_id: user_id(row, "user_id")?,
        domain_id: domain_id(row, "domain_id")?,
        sealed_secret: row.blob("sealed_secret")?,
        enabled: row.boolean("enabled")?,
        description: row.text("description")?,
        created_at: row.int("created_at")?,
    })
}

fn project_from_row(row: &Row) -> StoreResult<Project> {
    Ok(Project {
        project_id: ProjectId::parse(&row.text("project_id")?)
            .ok_or_else(|| corrupt("project_id"))?,
        domain_id: domain_id(row, "domain_id")?,
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) const USER_COLUMNS: &str =
    "user_id, domain_id, name, password_hash, is_root, enabled, credentials_version, created_at";

/// Lock keys of [`Tx::lock`].
pub(crate) mod locks {
    /// The bootstrap.
    pub const BOOTSTRAP: i32 = 0x4f43_0001;
    /// Quota-checked inserts of one account.
    pub const DOMAIN: i32 = 0x4f43_0002;
    /// Certificate issuances of one account near its quota
    /// (`pca/quota.rs`).
    pub const CERTIFICATE_QUOTA: i32 = 0x4f43_0004;
    /// Tag writes on one resource (the per-resource tag limit).
    pub const TAGS: i32 = 0x4f43_0003;
}

#[async_trait]
impl<B: Backend> MetaStore for Sql<B> {
    fn writes_run_unpolled(&self) -> bool {
        self.0.writes_run_unpolled()
    }

    async fn key_checks(&self) -> StoreResult<Vec<(u32, Vec<u8>)>> {
        let rows = self
            .read(
                "SELECT version, check_value FROM key_checks ORDER BY version",
                args![],
                Weight::Point,
            )
            .await?;
        rows.iter()
            .map(|row| {
                let version = u32::try_from(row.int("version")?)
                    .map_err(|_| corrupt("key_checks.version"))?;
                Ok((version, row.blob("check_value")?))
            })
            .collect()
    }

    async fn add_key_check(
        &self,
        version: u32,
        check_value: &[u8],
        now_ms: i64,
    ) -> StoreResult<()> {
        let args = args![i64::from(version), check_value, now_ms];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "INSERT INTO key_checks (version, check_value, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (version) DO NOTHING",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn close(&self) {
        Sql::close(self).await;
    }
}

#[async_trait]
impl<B: Backend> IamStore for Sql<B> {
    async fn bootstrap(
        &self,
        plan: &BootstrapPlan,
        before_commit: BeforeCommit,
    ) -> StoreResult<BootstrapOutcome> {
        let plan = plan.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.lock(locks::BOOTSTRAP, "bootstrap").await?;
                if let Some(row) = tx.query("SELECT domain_id FROM bootstrap WHERE id = 1", &[]).await?.first() {
                    return Ok(Finish::Rollback(BootstrapOutcome::AlreadyDone {
                        domain_id: domain_id(row, "domain_id")?,
                    }));
                }
                let (a, u, k, p) = (&plan.account, &plan.user, &plan.access_key, &plan.project);
                tx.exec(
                    "INSERT INTO accounts (domain_id, name, enabled, created_at) VALUES ($1, $2, $3, $4)",
                    &params![a.domain_id.as_str(), a.name.as_str(), a.enabled, a.created_at],
                )
                .await?;
                tx.exec(
                    &format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                    &params![
                        u.user_id.as_str(),
                        u.domain_id.as_str(),
                        u.name.as_str(),
                        u.password_hash.as_deref(),
                        u.is_root,
                        u.enabled,
                        u.credentials_version,
                        u.created_at
                    ],
                )
                .await?;
                tx.exec(
                    "INSERT INTO access_keys (access_key, user_id, domain_id, sealed_secret, enabled, \
                     description, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &params![
                        k.access_key.as_str(),
                        k.user_id.as_str(),
                        k.domain_id.as_str(),
                        k.sealed_secret.as_slice(),
                        k.enabled,
                        k.description.as_str(),
                        k.created_at
                    ],
                )
                .await?;
                tx.exec(
                    "INSERT INTO projects (project_id, domain_id, name, created_at) VALUES ($1, $2, $3, $4)",
                    &params![p.project_id.as_str(), p.domain_id.as_str(), p.name.as_str(), p.created_at],
                )
                .await?;
                tx.exec(
                    "INSERT INTO bootstrap (id, domain_id, created_at) VALUES (1, $1, $2)",
                    &params![a.domain_id.as_str(), a.created_at],
                )
                .await?;
                // Written before the commit: an administrator never exists without it.
                before_commit().map_err(StoreError::Aborted)?;
                Ok(Finish::Commit(BootstrapOutcome::Created))
            })
        })
        .await
    }

    async fn account(&self, id: &DomainId) -> StoreResult<Option<Account>> {
        self.read_one(
            "SELECT domain_id, name, enabled, created_at FROM accounts WHERE domain_id = $1",
            args![id.as_str()],
        )
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>> {
        self.read_one(
            "SELECT domain_id, name, enabled, created_at FROM accounts WHERE name = $1",
            args![name],
        )
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        self.read_one(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = $1"),
            args![id.as_str()],
        )
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn user_by_name(&self, domain: &DomainId, name: &str) -> StoreResult<Option<User>> {
        self.read_one(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE domain_id = $1 AND name = $2"),
            args![domain.as_str(), name],
        )
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn access_key(&self, access_key: &AccessKeyId) -> StoreResult<Option<AccessKey>> {
        self.read_one(
            "SELECT access_key, user_id, domain_id, sealed_secret, enabled, description, created_at \
             FROM access_keys WHERE access_key = $1",
            args![access_key.as_str()],
        )
        .await?
        .as_ref()
        .map(access_key_from_row)
        .transpose()
    }

    async fn projects(&self, domain: &DomainId, name: Option<&str>) -> StoreResult<Vec<Project>> {
        let rows = match name {
            Some(name) => {
                self.read(
                    "SELECT project_id, domain_id, name, created_at FROM projects WHERE domain_id = $1 AND name = $2",
                    args![domain.as_str(), name],
                    Weight::Point,
                )
                .await?
            }
            None => {
                self.read(
                    "SELECT project_id, domain_id, name, created_at FROM projects WHERE domain_id = $1 ORDER BY name",
                    args![domain.as_str()],
                    Weight::Point,
                )
                .await?
            }
        };
        rows.iter().map(project_from_row).collect()
    }

    async fn login_failures(&self, subject: &str) -> StoreResult<Option<LoginFailures>> {
        self.read_one(
            "SELECT failures, locked_until FROM login_failures WHERE user_id = $1",
            args![subject],
        )
        .await?
        .map(|row| -> StoreResult<LoginFailures> {
            Ok(LoginFailures {
                failures: row.int("failures")?,
                locked_until: row.int("locked_until")?,
                newly_locked: false,
            })
        })
        .transpose()
    }

    async fn record_login_failure(
        &self,
        subject: &str,
        now: i64,
        rule: LockoutRule,
    ) -> StoreResult<LoginFailures> {
        let user = subject.to_owned();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // One statement, so that failures on two servers both count.
                let rows = tx
                    .query(
                        "INSERT INTO login_failures (user_id, failures, window_started_at, locked_until) \
                         VALUES ($1, 1, $2, 0) \
                         ON CONFLICT (user_id) DO UPDATE SET \
                           failures = CASE \
                             WHEN login_failures.locked_until > $2 THEN login_failures.failures \
                             WHEN login_failures.window_started_at <= $3 THEN 1 \
                             ELSE login_failures.failures + 1 END, \
                           window_started_at = CASE \
                             WHEN login_failures.locked_until > $2 THEN login_failures.window_started_at \
                             WHEN login_failures.window_started_at <= $3 THEN $2 \
                             ELSE login_failures.window_started_at END \
                         RETURNING failures, locked_until",
                        &params![user.as_str(), now, now - rule.window_ms],
                    )
                    .await?;
                let row = rows.first().ok_or_else(|| corrupt("login_failures"))?;
                let mut state = LoginFailures {
                    failures: row.int("failures")?,
                    locked_until: row.int("locked_until")?,
                    newly_locked: false,
                };
                if state.locked_until <= now && state.failures >= rule.max_failures {
                    let until = now + rule.lock_ms;
                    tx.exec(
                        "UPDATE login_failures SET failures = 0, locked_until = $2 WHERE user_id = $1",
                        &params![user.as_str(), until],
                    )
                    .await?;
                    state = LoginFailures {
                        failures: 0,
                        locked_until: until,
                        newly_locked: true,
                    };
                }
                Ok(Finish::Commit(state))
            })
        })
        .await
    }

    async fn clear_login_failures(&self, subject: &str) -> StoreResult<()> {
        let user = subject.to_owned();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "DELETE FROM login_failures WHERE user_id = $1",
                    &params![user.as_str()],
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicI64;

    use super::sweep_due;

    #[test]
    fn a_sweep_is_due_once_per_period_and_again_after_the_clock_steps_back() {
        let last = AtomicI64::new(0);
        assert!(sweep_due(&last, 10_000, 1_000));
        assert!(!sweep_due(&last, 10_999, 1_000));
        assert!(sweep_due(&last, 11_000, 1_000));
        assert!(!sweep_due(&last, 11_000, 1_000));
        // A clock stepped back would otherwise wait for its old time.
        assert!(sweep_due(&last, 5_000, 1_000));
        assert!(!sweep_due(&last, 5_500, 1_000));
    }
}
