//! PostgreSQL over TLS: the store connects with `sslmode=require` and
//! `sslmode=verify-full` (rustls), every connection of it is encrypted, and
//! a server certificate from another CA is refused before anything starts.
//! `scripts/test` starts the test PostgreSQL with TLS and names its CA in
//! `OPENCCM_TEST_PG_CA`.

use std::process::Command;
use std::time::Duration;

use sqlx::Row as _;

use crate::harness::{pg_database, signed, Credentials, Server};

fn test_ca() -> String {
    std::env::var("OPENCCM_TEST_PG_CA").unwrap_or_else(|_| {
        panic!("OPENCCM_TEST_PG_CA is not set: run the suite with scripts/test, which starts PostgreSQL with TLS")
    })
}

/// `url` with `params`, reaching the server as `localhost` (the name its
/// certificate carries).
fn with_tls(url: &str, params: &str) -> String {
    format!("{}?{params}", url.replacen("127.0.0.1", "localhost", 1))
}

/// (connections of `database`, all of them encrypted).
async fn connections(database: &str) -> (i64, bool) {
    let admin = openccm_testkit::pg_admin_url();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    let row = sqlx::query(
        "SELECT count(*) AS n, coalesce(bool_and(s.ssl), false) AS encrypted \
         FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.datname = $1",
    )
    .bind(database)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    (row.get("n"), row.get("encrypted"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_speaks_tls_with_verify_full_and_require() {
    let ca = test_ca();
    // (mode, encrypted): disable shows the check can tell the difference.
    for (params, tls) in [
        (format!("sslmode=verify-full&sslrootcert={ca}"), true),
        ("sslmode=require".to_owned(), true),
        ("sslmode=disable".to_owned(), false),
    ] {
        let db = pg_database().await;
        let database = db.url.rsplit('/').next().unwrap().to_owned();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let url = with_tls(&db.url, &params);
        let server = Server::start(
            &["--data-dir", data.to_str().unwrap(), "--database-url", &url],
            dir.path(),
        );
        let creds = Credentials::read(&data);
        let client = reqwest::Client::new();
        let r = signed(
            &client,
            &server,
            &creds,
            "GET",
            "/v1/private-certificate-authorities",
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{params}");
        let (n, encrypted) = connections(&database).await;
        assert!(n >= 2, "the pool and the listener: {n} connections");
        assert_eq!(
            encrypted, tls,
            "{params}: every connection of the store is TLS or none"
        );
        assert_eq!(server.terminate(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_from_another_ca_is_refused() {
    let db = pg_database().await;
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Someone else",
            "-keyout",
        ])
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .unwrap();
    assert!(out.status.success());
    let url = with_tls(
        &db.url,
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    );
    let mut child = Command::new(crate::harness::binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "none",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .args(["--database-url", &url])
        .env_remove("OPENCCM_DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "openccm kept running"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(!status.success());
    assert!(log.to_lowercase().contains("certificate"), "{log}");
}
