//! Backups taken while the server issues, restored into a new place: every
//! certificate whose issuance had answered 200 before the backup began is
//! served and exports from the restored store. SQLite with `openccm admin
//! backup` and `restore`; PostgreSQL with `pg_dump` and `pg_restore`, as
//! docs/operations.md says.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{
    admin, output_text as text, pg_database, signed, signed_to, Credentials, Server,
};

async fn post(
    client: &reqwest::Client,
    server_url: &str,
    creds: &Credentials,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let r = signed_to(
        client,
        server_url,
        &creds.access_key,
        &creds.secret_key,
        "POST",
        path,
        Some(&body.to_string()),
    )
    .await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Issues EC256 certificates from 4 clients until `take_backup` returns,
/// with a root created first; returns the certificates that answered 200
/// before the backup began.
async fn issued_before_backup(
    server: &Server,
    creds: &Credentials,
    take_backup: impl FnOnce() + Send + 'static,
) -> Vec<String> {
    let client = reqwest::Client::new();
    let (status, ca) = post(
        &client,
        &server.base_url,
        creds,
        "/v1/private-certificate-authorities",
        &json!({
        "type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "validity": {"type": "YEAR", "value": 10},
        "distinguished_name": {"common_name": "Backup Root", "country": "CN", "state": "Guangdong",
            "locality": "Shenzhen", "organization": "Example", "organizational_unit": "IT"}}),
    )
    .await;
    assert_eq!(status, 200, "{ca}");
    let ca = ca["ca_id"].as_str().unwrap().to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let answered: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (client, url, creds) = (client.clone(), server.base_url.clone(), creds.clone());
        let (ca, stop, answered) = (ca.clone(), stop.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let (status, cert) = post(
                    &client,
                    &url,
                    &creds,
                    "/v1/private-certificates",
                    &json!({
                    "issuer_id": ca, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
                    "distinguished_name": {"common_name": "www.example.com"},
                    "validity": {"type": "DAY", "value": 30}}),
                )
                .await;
                assert_eq!(status, 200, "{cert}");
                let id = cert["certificate_id"].as_str().unwrap().to_owned();
                answered.lock().unwrap().push((id, Instant::now()));
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let began = Instant::now();
    tokio::task::spawn_blocking(take_backup).await.unwrap();
    // Issuance goes on after the backup too, and still succeeds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let answered = answered.lock().unwrap();
    let before: Vec<String> = answered
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        before.len() >= 10 && answered.len() > before.len(),
        "{} issued before the backup, {} in all: not under load",
        before.len(),
        answered.len()
    );
    before
}

/// Every certificate in `ids` is shown and exports from `server`.
async fn all_served(server: &Server, creds: &Credentials, ids: &[String]) {
    let client = reqwest::Client::new();
    for id in ids {
        let shown = signed(
            &client,
            server,
            creds,
            "GET",
            &format!("/v1/private-certificates/{id}"),
            None,
        )
        .await;
        assert_eq!(shown.status(), 200, "{id}");
        let (status, exported) = post(
            &client,
            &server.base_url,
            creds,
            &format!("/v1/private-certificates/{id}/export"),
            &json!({"is_compressed": "false", "type": "OTHER"}),
        )
        .await;
        assert_eq!(status, 200, "{id}: {exported}");
        assert!(exported["certificate"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(exported["private_key"]
            .as_str()
            .is_some_and(|key| key.contains("PRIVATE KEY")));
    }
}

#[tokio::test]
async fn a_sqlite_backup_under_load_restores_everything_issued_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let server = Server::start(&["--data-dir", live.to_str().unwrap()], dir.path());
    let creds = Credentials::read(&live);
    let file = dir.path().join("openccm.backup");
    let (live_arg, file_arg) = (
        live.to_str().unwrap().to_owned(),
        file.to_str().unwrap().to_owned(),
    );
    let taken = Arc::new(Mutex::new(None));
    let output = taken.clone();
    let before = issued_before_backup(&server, &creds, move || {
        *output.lock().unwrap() = Some(admin(&[
            "--data-dir",
            &live_arg,
            "backup",
            "--to",
            &file_arg,
        ]));
    })
    .await;
    let taken = taken.lock().unwrap().take().unwrap();
    assert!(taken.status.success(), "{}", text(&taken));
    let said = text(&taken);
    assert!(said.contains("sealed under master key version 1"), "{said}");
    // The master key is not in the backup.
    let key = std::fs::read(live.join("master.key")).unwrap();
    let backup = std::fs::read(&file).unwrap();
    assert!(!backup.windows(32).any(|w| key.windows(32).any(|k| k == w)));

    // A second backup to the same file, and a restore over the live store,
    // are refused.
    let again = admin(&[
        "--data-dir",
        live.to_str().unwrap(),
        "backup",
        "--to",
        file.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("refusing to overwrite"),
        "{}",
        text(&again)
    );
    let over = admin(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        live.to_str().unwrap(),
    ]);
    assert!(!over.status.success());
    assert!(text(&over).contains("a store exists"), "{}", text(&over));
    // A master key that is not the backup's is refused before anything is
    // written.
    let wrong = dir.path().join("wrong");
    std::fs::create_dir(&wrong).unwrap();
    openccm_custody::Keyring::load_or_create(&wrong.join("master.key")).unwrap();
    let refused = admin(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        wrong.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("does not open this backup"),
        "{}",
        text(&refused)
    );
    assert!(!wrong.join("openccm.db").exists());

    // Restored into a new directory without the key: it says which key to
    // put there; with the key in place a server starts on it.
    let restored = dir.path().join("restored");
    let done = admin(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("no master key at"), "{}", text(&done));
    std::fs::copy(live.join("master.key"), restored.join("master.key")).unwrap();
    let second = Server::start(&["--data-dir", restored.to_str().unwrap()], dir.path());
    all_served(&second, &creds, &before).await;
    assert_eq!(server.terminate(), 0);
    assert_eq!(second.terminate(), 0);
}

/// PostgreSQL: `pg_dump` of a database servers are issuing into, restored
/// with `pg_restore` into a new database that a server then serves.
#[tokio::test]
async fn a_pg_dump_under_load_restores_everything_issued_before_it() {
    let (db, restored_db) = (pg_database().await, pg_database().await);
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let server = Server::start(
        &[
            "--data-dir",
            live.to_str().unwrap(),
            "--database-url",
            &db.url,
        ],
        dir.path(),
    );
    let creds = Credentials::read(&live);
    let file = dir.path().join("openccm.dump");
    let (url, file_arg) = (db.url.clone(), file.to_str().unwrap().to_owned());
    let before = issued_before_backup(&server, &creds, move || {
        let dumped = Command::new("pg_dump")
            .args(["--format=custom", "--file", &file_arg, "--dbname", &url])
            .output()
            .expect("pg_dump");
        assert!(dumped.status.success(), "{}", text(&dumped));
    })
    .await;
    let restored = Command::new("pg_restore")
        .args([
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            &restored_db.url,
        ])
        .arg(&file)
        .output()
        .expect("pg_restore");
    assert!(restored.status.success(), "{}", text(&restored));
    let second = Server::start(
        &[
            "--data-dir",
            dir.path().join("second").to_str().unwrap(),
            "--database-url",
            &restored_db.url,
            "--master-key-file",
            live.join("master.key").to_str().unwrap(),
        ],
        dir.path(),
    );
    all_served(&second, &creds, &before).await;
    assert_eq!(server.terminate(), 0);
    assert_eq!(second.terminate(), 0);
}
