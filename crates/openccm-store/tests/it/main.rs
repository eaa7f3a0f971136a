//! The store conformance suite: every test runs on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::pedantic
)]

mod counts;
mod iam;
mod intents;
mod migrations;
mod names;
mod plans;
mod revocation;
mod scm;
mod tags;

/// Takes a database back to before migration `version`: runs `undo`, then
/// forgets the migration (both stores keep sqlx's `_sqlx_migrations`), so
/// the next open applies it again to what an older version wrote.
pub(crate) async fn undo_migration(db: &openccm_testkit::TestDb, version: i64, undo: &[&str]) {
    let forget = format!("DELETE FROM _sqlx_migrations WHERE version = {version}");
    let statements: Vec<&str> = undo.iter().copied().chain([forget.as_str()]).collect();
    execute(db, &statements).await;
}

/// Runs `statements` on the database behind the store's back.
pub(crate) async fn execute(db: &openccm_testkit::TestDb, statements: &[&str]) {
    match db.backend {
        openccm_testkit::Backend::Sqlite => {
            let conn = rusqlite::Connection::open(db.url.strip_prefix("sqlite:").unwrap()).unwrap();
            for sql in statements {
                conn.execute_batch(sql).unwrap();
            }
        }
        openccm_testkit::Backend::Postgres => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            for sql in statements {
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
        }
    }
}
