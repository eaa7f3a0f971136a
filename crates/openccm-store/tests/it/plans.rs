//! Lookups by id are planned on the primary key on a freshly migrated
//! database, where PostgreSQL still takes every partial index for empty and
//! would otherwise pick one of them (`src/queries/by_id.rs`).

use openccm_store::Sample;
use openccm_testkit::Backend;

/// The index names a plan uses, in the order it names them.
fn indexes_named(plan: &str, marker: &str) -> Vec<String> {
    plan.split(marker)
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

async fn lookups_by_id_use_the_primary_key(backend: Backend) {
    let db = openccm_testkit::TestDb::new(backend).await;
    let _store = db.open().await; // migrates
    for (sql, table, samples) in openccm_store::planned_by_primary_key() {
        match backend {
            Backend::Postgres => {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                    .await
                    .unwrap();
                let explain = format!("EXPLAIN {sql}");
                let mut query = sqlx::query_scalar::<_, String>(&explain);
                for sample in samples {
                    query = match sample {
                        Sample::Text(text) => query.bind(text),
                        Sample::Int(n) => query.bind(n),
                    };
                }
                let plan = query.fetch_all(&mut conn).await.unwrap().join("\n");
                assert_eq!(
                    indexes_named(&plan, " using "),
                    vec![format!("{table}_pkey")],
                    "{sql}\n{plan}"
                );
            }
            Backend::Sqlite => {
                let conn =
                    rusqlite::Connection::open(db.url.strip_prefix("sqlite:").unwrap()).unwrap();
                let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                let unbound = vec![rusqlite::types::Null; statement.parameter_count()];
                let plan: Vec<String> = statement
                    .query_map(rusqlite::params_from_iter(unbound), |row| {
                        row.get::<_, String>(3)
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let plan = plan.join("\n");
                assert_eq!(
                    indexes_named(&plan, " USING INDEX "),
                    vec![format!("sqlite_autoindex_{table}_1")],
                    "{sql}\n{plan}"
                );
            }
        }
    }
}
openccm_testkit::both_backends!(lookups_by_id_use_the_primary_key);
