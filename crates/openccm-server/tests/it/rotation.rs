//! Master-key rotation while servers run: every kind of stored secret is
//! re-sealed under the new version (checked byte by byte in the store),
//! everything keeps working, issuance goes on meanwhile with nothing lost,
//! an interrupted rotation resumes, and a second server sharing PostgreSQL
//! takes the new version up by itself.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{
    admin, output_text as text, password_token, pg_database, signed, signed_to, Credentials, Server,
};

/// Where secrets are sealed: (table, id column, sealed column).
const SEALED: [(&str, &str, &str); 9] = [
    ("access_keys", "access_key", "sealed_secret"),
    ("cas", "ca_id", "sealed_key"),
    ("certificates", "certificate_id", "sealed_key"),
    ("certificates", "certificate_id", "enc_sealed_key"),
    ("scm_certificates", "certificate_id", "sealed_key"),
    ("scm_certificates", "certificate_id", "enc_sealed_key"),
    ("scm_csrs", "csr_id", "sealed_key"),
    (
        "notification_channels",
        "domain_id",
        "sealed_webhook_secret",
    ),
    ("acme_eab_keys", "key_id", "sealed_key"),
];

/// The key version in a sealed blob's header (`ok`, then 4 bytes BE).
fn version_of(blob: &[u8]) -> u32 {
    assert_eq!(&blob[..2], b"ok", "a sealed blob");
    u32::from_be_bytes(blob[2..6].try_into().unwrap())
}

/// The key version of every sealed blob in the SQLite store, per place.
fn sqlite_versions(db: &Path) -> Vec<(String, Vec<u32>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    SEALED
        .iter()
        .map(|(table, _, column)| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
                ))
                .unwrap();
            let versions = stmt
                .query_map([], |r| r.get::<_, Vec<u8>>(0))
                .unwrap()
                .map(|b| version_of(&b.unwrap()))
                .collect();
            (format!("{table}.{column}"), versions)
        })
        .collect()
}

async fn call(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string);
    let r = signed(client, server, creds, method, path, body.as_deref()).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn ok(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Value {
    let (status, answer) = call(client, server, creds, method, path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

fn root(alg: &str, hash: &str) -> Value {
    json!({"type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash,
        "validity": {"type": "YEAR", "value": 10},
        "distinguished_name": {"common_name": format!("{alg} Rotation Root"), "country": "CN",
            "state": "Guangdong", "locality": "Shenzhen", "organization": "Example",
            "organizational_unit": "IT"}})
}

fn generated(ca: &str, alg: &str, hash: &str) -> Value {
    json!({"issuer_id": ca, "key_algorithm": alg, "signature_algorithm": hash,
        "distinguished_name": {"common_name": "www.example.com"},
        "validity": {"type": "DAY", "value": 30}})
}

/// The private key a certificate's export carries (and, for SM2, the
/// encryption key's).
async fn exported_keys(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
    cert: &str,
) -> (String, Option<String>) {
    let e = ok(
        client,
        server,
        creds,
        "POST",
        &format!("/v1/private-certificates/{cert}/export"),
        Some(&json!({"is_compressed": "false", "type": "OTHER"})),
    )
    .await;
    (
        e["private_key"].as_str().unwrap().to_owned(),
        e["enc_private_key"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn a_rotation_under_load_reseals_every_secret_and_resumes_when_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let server = Server::start(&["--data-dir", &data_arg], dir.path());
    let creds = Credentials::read(&data);
    let client = reqwest::Client::new();

    // Secrets of every kind: the administrator's SK (bootstrap), CA keys,
    // generated keys (an SM2 one with its encryption key), an imported SSL
    // key, an SSL CSR's key; and a token.
    let ec_ca = ok(
        &client,
        &server,
        &creds,
        "POST",
        "/v1/private-certificate-authorities",
        Some(&root("EC256", "SHA256")),
    )
    .await["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sm2_ca = ok(
        &client,
        &server,
        &creds,
        "POST",
        "/v1/private-certificate-authorities",
        Some(&root("SM2", "SM3")),
    )
    .await["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ec_cert = ok(
        &client,
        &server,
        &creds,
        "POST",
        "/v1/private-certificates",
        Some(&generated(&ec_ca, "EC256", "SHA256")),
    )
    .await["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sm2_cert = ok(
        &client,
        &server,
        &creds,
        "POST",
        "/v1/private-certificates",
        Some(&generated(&sm2_ca, "SM2", "SM3")),
    )
    .await["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let files = tempfile::tempdir().unwrap();
    let made = Command::new("openssl")
        .current_dir(files.path())
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=ssl.example.com",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let ssl_key = std::fs::read_to_string(files.path().join("key.pem")).unwrap();
    let ssl_cert = ok(&client, &server, &creds, "POST", "/v3/scm/certificates/import", Some(&json!({
        "name": "imported", "certificate": std::fs::read_to_string(files.path().join("cert.pem")).unwrap(),
        "private_key": ssl_key}))).await["certificate_id"]
        .as_str().unwrap().to_owned();
    let csr = ok(
        &client,
        &server,
        &creds,
        "POST",
        "/v3/scm/csr",
        Some(&json!({"name": "web csr",
        "domain_name": "shop.example.com", "private_key_algo": "EC_P256", "usage": "ENTERPRISE",
        "company_country": "CN", "company_province": "Guangdong", "company_city": "Shenzhen",
        "company_name": "Example"})),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let csr_key_path = format!("/v3/scm/csr/{csr}/private-key");
    let csr_key = ok(&client, &server, &creds, "GET", &csr_key_path, None).await;
    let keys_before = (
        exported_keys(&client, &server, &creds, &ec_cert).await,
        exported_keys(&client, &server, &creds, &sm2_cert).await,
    );
    assert!(keys_before.1 .1.is_some(), "an SM2 encryption key");
    let old_token = password_token(&client, &server, &creds).await;
    // A webhook secret (expiry notices).
    let set = admin(&[
        "--data-dir",
        &data_arg,
        "notification",
        "set",
        "--account",
        &creds.domain_name,
        "--webhook-url",
        "https://hooks.example.com/ccm",
    ]);
    assert!(set.status.success(), "{}", text(&set));
    // An ACME external account binding key.
    let eab = admin(&[
        "--data-dir",
        &data_arg,
        "acme",
        "eab",
        "create",
        "--account",
        &creds.domain_name,
        "--ca-id",
        &ec_ca,
    ]);
    assert!(eab.status.success(), "{}", text(&eab));

    let db = data.join("openccm.db");
    for (place, versions) in sqlite_versions(&db) {
        if !place.starts_with("scm_certificates.enc") {
            assert!(!versions.is_empty(), "{place} holds a secret");
        }
        assert!(versions.iter().all(|v| *v == 1), "{place}: {versions:?}");
    }

    // Issuance goes on from three clients while the rotation runs.
    let stop = Arc::new(AtomicBool::new(false));
    let issued: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (client, url, creds) = (client.clone(), server.base_url.clone(), creds.clone());
        let (ca, stop, issued) = (ec_ca.clone(), stop.clone(), issued.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let r = signed_to(
                    &client,
                    &url,
                    &creds.access_key,
                    &creds.secret_key,
                    "POST",
                    "/v1/private-certificates",
                    Some(&generated(&ca, "EC256", "SHA256").to_string()),
                )
                .await;
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                assert_eq!(status, 200, "{body}");
                issued
                    .lock()
                    .unwrap()
                    .push(body["certificate_id"].as_str().unwrap().to_owned());
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rotated = {
        let data_arg = data_arg.clone();
        tokio::task::spawn_blocking(move || admin(&["--data-dir", &data_arg, "rotate-master-key"]))
            .await
            .unwrap()
    };
    assert!(rotated.status.success(), "{}", text(&rotated));
    assert!(
        text(&rotated).contains("every secret is sealed under master key version 2"),
        "{}",
        text(&rotated)
    );
    // The server took version 2 up: what it seals now is sealed under it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let issued = issued.lock().unwrap().clone();
    assert!(issued.len() > 10, "{} issued under load", issued.len());
    let key_file = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert!(
        key_file.lines().any(|l| l.starts_with("1:"))
            && key_file.lines().any(|l| l.starts_with("2:"))
    );
    for (place, versions) in sqlite_versions(&db) {
        assert!(versions.iter().all(|v| *v == 2), "{place}: {versions:?}");
    }
    let listed: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM certificates WHERE state = 'ISSUED'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        listed,
        i64::try_from(issued.len()).unwrap() + 2,
        "nothing issued is lost"
    );

    // Everything still works: the old token and a new one, the SK, every
    // key, the CAs.
    for token in [
        old_token.clone(),
        password_token(&client, &server, &creds).await,
    ] {
        let r = client
            .get(format!(
                "{}/v1/private-certificate-authorities",
                server.base_url
            ))
            .header("x-auth-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        exported_keys(&client, &server, &creds, &ec_cert).await,
        keys_before.0
    );
    assert_eq!(
        exported_keys(&client, &server, &creds, &sm2_cert).await,
        keys_before.1
    );
    let last = issued.last().unwrap();
    exported_keys(&client, &server, &creds, last).await;
    let ssl = ok(
        &client,
        &server,
        &creds,
        "POST",
        &format!("/v3/scm/certificates/{ssl_cert}/export"),
        Some(&json!({})),
    )
    .await;
    assert_eq!(ssl["private_key"].as_str().unwrap(), ssl_key);
    assert_eq!(
        ok(&client, &server, &creds, "GET", &csr_key_path, None).await,
        csr_key
    );
    for ca in [&ec_ca, &sm2_ca] {
        let alg = if ca == &sm2_ca {
            ("SM2", "SM3")
        } else {
            ("EC256", "SHA256")
        };
        ok(
            &client,
            &server,
            &creds,
            "POST",
            "/v1/private-certificates",
            Some(&generated(ca, alg.0, alg.1)),
        )
        .await;
    }

    // An interrupted rotation: recorded as begun (version 3), the key file
    // not yet written. Running the command again resumes it.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO key_rotations (version, started_at) VALUES (3, 0)",
            [],
        )
        .unwrap();
    let resumed = admin(&["--data-dir", &data_arg, "rotate-master-key"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert!(
        text(&resumed).contains("resuming the interrupted rotation to master key version 3"),
        "{}",
        text(&resumed)
    );
    for (place, versions) in sqlite_versions(&db) {
        assert!(versions.iter().all(|v| *v == 3), "{place}: {versions:?}");
    }
    assert_eq!(
        exported_keys(&client, &server, &creds, &sm2_cert).await,
        keys_before.1
    );
    // A restart opens everything under the rotated key file.
    assert_eq!(server.terminate(), 0);
    let again = Server::start(&["--data-dir", &data_arg], dir.path());
    assert_eq!(
        exported_keys(&client, &again, &creds, &ec_cert).await,
        keys_before.0
    );
    assert_eq!(again.terminate(), 0);
}

/// Two servers on PostgreSQL, each with its own copy of the key file. A
/// rotation re-seals nothing while a running server lacks the new version
/// (it would fail on every re-sealed secret); the documented way works:
/// `--prepare` adds the version to one file (nothing seals under it), the
/// file is copied, and the rotation (resumed) completes, the second server
/// taking the version up by itself.
#[tokio::test]
async fn servers_with_their_own_key_files_take_the_new_version_up_before_anything_is_resealed() {
    let db = pg_database().await;
    let dir = tempfile::tempdir().unwrap();
    let (key_a, key_b) = (dir.path().join("a.key"), dir.path().join("b.key"));
    let start = |name: &str, key: &Path| {
        Server::start(
            &[
                "--database-url",
                &db.url,
                "--master-key-file",
                key.to_str().unwrap(),
                "--data-dir",
                dir.path().join(name).to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let a = start("a", &key_a);
    let copy_key = || {
        std::fs::copy(&key_a, &key_b).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key_b, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    copy_key();
    let b = start("b", &key_b);
    let creds = Credentials::read(&dir.path().join("a"));
    let client = reqwest::Client::new();
    let ca = ok(
        &client,
        &a,
        &creds,
        "POST",
        "/v1/private-certificate-authorities",
        Some(&root("EC256", "SHA256")),
    )
    .await["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issue = |server: &Server| {
        let (client, creds, ca) = (client.clone(), creds.clone(), ca.clone());
        let url = server.base_url.clone();
        async move {
            let r = signed_to(
                &client,
                &url,
                &creds.access_key,
                &creds.secret_key,
                "POST",
                "/v1/private-certificates",
                Some(&generated(&ca, "EC256", "SHA256").to_string()),
            )
            .await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()["certificate_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let mut sealed_version = async |id: &str| -> u32 {
        let (sealed,): (Vec<u8>,) =
            sqlx::query_as("SELECT sealed_key FROM certificates WHERE certificate_id = $1")
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        version_of(&sealed)
    };
    let admin_dir = dir.path().join("admin");
    let admin_with = |args: &[&str]| {
        let mut all = vec![
            "--database-url",
            db.url.as_str(),
            "--master-key-file",
            key_a.to_str().unwrap(),
            "--data-dir",
            admin_dir.to_str().unwrap(),
            "rotate-master-key",
        ];
        all.extend_from_slice(args);
        admin(&all.iter().map(|s| &**s).collect::<Vec<_>>())
    };

    // Prepared: in A's file, not sealing anywhere (the store does not know it).
    let prepared = admin_with(&["--prepare"]);
    assert!(prepared.status.success(), "{}", text(&prepared));
    let before = issue(&a).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still_v1 = issue(&a).await;
    assert_eq!(sealed_version(&before).await, 1);
    assert_eq!(
        sealed_version(&still_v1).await,
        1,
        "a prepared version does not seal"
    );

    // B's file lacks version 2: the rotation waits for B, then refuses,
    // and nothing is re-sealed.
    let refused = admin_with(&["--wait-secs", "4"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("do not hold master key version 2"),
        "{}",
        text(&refused)
    );
    assert_eq!(sealed_version(&before).await, 1);
    assert_eq!(
        exported_keys(&client, &b, &creds, &before).await,
        exported_keys(&client, &a, &creds, &before).await
    );
    // A holds version 2 now, and still seals under 1: B could not open it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let meanwhile = issue(&a).await;
    assert_eq!(
        sealed_version(&meanwhile).await,
        1,
        "nothing seals under 2 before every server holds it"
    );
    exported_keys(&client, &b, &creds, &meanwhile).await;

    // The file copied, B takes version 2 up by itself, and the rotation,
    // run again, resumes and completes.
    copy_key();
    let rotated = admin_with(&[]);
    assert!(rotated.status.success(), "{}", text(&rotated));
    assert!(
        text(&rotated).contains("resuming the interrupted rotation to master key version 2"),
        "{}",
        text(&rotated)
    );
    assert!(
        b.log().contains("master key versions taken up"),
        "{}",
        b.log()
    );
    for id in [&before, &still_v1] {
        assert_eq!(sealed_version(id).await, 2, "{id}");
        // Re-sealed under version 2, which B opens.
        exported_keys(&client, &b, &creds, id).await;
    }
    let fresh = issue(&b).await;
    assert_eq!(sealed_version(&fresh).await, 2, "B seals under version 2");
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
}
