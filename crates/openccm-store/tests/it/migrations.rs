//! Both stores run sqlx's migration runner. A SQLite database written
//! before that kept its own bookkeeping (`schema_migrations`); opening it
//! adopts those records once, after checking each against the embedded
//! migration. The database here is the upgrade fixture an older version
//! wrote (`crates/openccm-server/tests/fixtures/upgrade-a563f8b`).

use openccm_testkit::{Backend, TestDb};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../openccm-server/tests/fixtures/upgrade-a563f8b/sqlite/openccm.db"
);

/// A copy of the old database, changed by `sql` first.
async fn old_database(sql: &str) -> TestDb {
    let db = TestDb::new(Backend::Sqlite).await;
    let path = db.url.strip_prefix("sqlite:").unwrap().to_owned();
    std::fs::copy(FIXTURE, &path).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    db
}

fn count(path: &str, sql: &str) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn an_older_sqlite_database_has_its_migrations_adopted_once() {
    let db = old_database("SELECT 1").await;
    let path = db.url.strip_prefix("sqlite:").unwrap().to_owned();
    let applied_before = count(&path, "SELECT count(*) FROM schema_migrations");
    let store = db.open().await;
    store.close().await;
    drop(store);
    let tables =
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
    assert_eq!(count(&path, tables), 0);
    let sqlx_rows = "SELECT count(*) FROM _sqlx_migrations WHERE success";
    // The old ones adopted, and this version's newer ones applied.
    assert!(count(&path, sqlx_rows) > applied_before);
    // Opened again: nothing to adopt, nothing to apply.
    let again = count(&path, sqlx_rows);
    let store = db.open().await;
    store.close().await;
    assert_eq!(count(&path, sqlx_rows), again);
}

#[tokio::test]
async fn an_applied_migration_that_differs_is_refused() {
    let db = old_database("UPDATE schema_migrations SET checksum = x'00' WHERE version = 3").await;
    let refused = openccm_store::open(&db.url, 2).await.err().unwrap();
    assert!(
        refused.to_string().contains("migration 3 (usage) differs"),
        "{refused}"
    );
    let db = old_database(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', x'00', 0)",
    )
    .await;
    let refused = openccm_store::open(&db.url, 2).await.err().unwrap();
    assert!(refused.to_string().contains("migration 99"), "{refused}");
}

/// Two versions sharing one database: once a newer version has migrated
/// it, an older one refuses to open it, with an error that says so,
/// instead of writing to a schema it does not know.
async fn a_database_migrated_by_a_newer_version_is_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.open().await;
    store.close().await;
    drop(store);
    // What a newer version's extra migration leaves behind.
    crate::execute(
        &db,
        &["INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
           SELECT 9999, 'from the future', installed_on, success, checksum, execution_time \
           FROM _sqlx_migrations WHERE version = 1"],
    )
    .await;
    let refused = openccm_store::open(&db.url, 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("migrated by a newer OpenCCM (migration 9999"),
        "{refused}"
    );
}
openccm_testkit::both_backends!(a_database_migrated_by_a_newer_version_is_refused);
