//! A store written by an older version upgrades in place and serves: the
//! fixture in `tests/fixtures/upgrade-a563f8b` (an SQLite data directory and
//! a PostgreSQL dump, each with its master key and credentials) was made by
//! commit a563f8b; `tests/sdk/upgrade.py` checks it through the official
//! SDK after this version has opened (and migrated) it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{pg_database, Credentials, Server};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade-a563f8b")
}

/// Copies the fixture's `part` (`sqlite` or `postgres`) into a data
/// directory of its own, the key files private as the server requires
/// (git does not keep file modes).
fn data_dir_from(part: &str, dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    for name in ["master.key", "credentials.toml", "openccm.db"] {
        let from = fixture().join(part).join(name);
        if from.exists() {
            let to = data.join(name);
            std::fs::copy(&from, &to).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    data
}

fn check_upgraded(server: &Server, data: &Path) {
    let creds = Credentials::read(data);
    let out = crate::sdk::run_script("upgrade.py", server, &creds);
    assert!(out.contains("upgrade: ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_store_from_an_older_version_upgrades_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir_from("sqlite", dir.path());
    let server = Server::start(&["--data-dir", data.to_str().unwrap()], dir.path());
    check_upgraded(&server, &data);
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_store_from_an_older_version_upgrades_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir_from("postgres", dir.path());
    let db = pg_database().await;
    let restored = Command::new("psql")
        .args([
            "--quiet",
            "--no-psqlrc",
            "-v",
            "ON_ERROR_STOP=1",
            "--dbname",
        ])
        .arg(&db.url)
        .arg("--file")
        .arg(fixture().join("postgres/dump.sql"))
        .output()
        .expect("psql (installed with PostgreSQL by scripts/test)");
    assert!(
        restored.status.success(),
        "restoring the dump: {}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let server = Server::start(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--database-url",
            &db.url,
        ],
        dir.path(),
    );
    check_upgraded(&server, &data);
    assert_eq!(server.terminate(), 0);
}
