//! Start, bootstrap, restart, shut down, share a PostgreSQL database, TLS.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;
use std::time::Duration;

use crate::harness::{self, password_token, pg_database, signed, Credentials, Server};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn help_says_what_each_command_does() {
    let out = Command::new(harness::binary())
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(text.contains("Cloud Certificate Manager"), "{text}");
    assert!(text.contains("serve"), "{text}");
    let out = Command::new(harness::binary())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--data-dir",
        "--database-url",
        "--tls-cert",
        "--tls-key",
        "OPENCCM_DATABASE_URL",
    ] {
        assert!(text.contains(flag), "serve --help lacks {flag}:\n{text}");
    }
}

#[test]
fn a_bad_configuration_is_refused_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(harness::binary())
        .args(["serve", "--database-url", "mysql://nope", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite: or postgres://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_bootstraps_and_a_restart_reuses_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let client = reqwest::Client::new();

    let mut first = Server::start(&["--data-dir", &data_arg], dir.path());
    let creds = Credentials::read(&data);
    assert_eq!(creds.domain_id.len(), 32);
    assert!(creds.domain_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(mode(&data.join("credentials.toml")), 0o600);
    assert_eq!(mode(&data.join("master.key")), 0o600);
    assert_eq!(mode(&data.join("openccm.db")), 0o600);
    assert_eq!(mode(&data), 0o700);
    let printed = first.stdout_text();
    assert!(
        printed.contains(&creds.secret_key),
        "the SK is printed once"
    );
    assert!(printed.contains(&creds.access_key));

    let token = password_token(&client, &first, &creds).await;
    let r = client
        .get(format!("{}/v3/auth/domains", first.base_url))
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = signed(&client, &first, &creds, "GET", "/v3/auth/domains", None).await;
    assert_eq!(r.status(), 200);
    // CRL URLs are built from the address the server really listens on.
    let root = r#"{"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256", "validity": {"type": "YEAR", "value": 1},
        "crl_configuration": {"enabled": true, "obs_bucket_name": "b", "valid_days": 7},
        "distinguished_name": {"common_name": "R", "country": "CN", "state": "s", "locality": "l", "organization": "o", "organizational_unit": "u"}}"#;
    let r = signed(
        &client,
        &first,
        &creds,
        "POST",
        "/v1/private-certificate-authorities",
        Some(root),
    )
    .await;
    assert_eq!(r.status(), 200);
    let ca_id = r.json::<serde_json::Value>().await.unwrap()["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = signed(
        &client,
        &first,
        &creds,
        "GET",
        &format!("/v1/private-certificate-authorities/{ca_id}"),
        None,
    )
    .await;
    let ca: serde_json::Value = r.json().await.unwrap();
    let crl_url = ca["crl_configuration"]["crl_dis_point"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        crl_url.starts_with(&format!("{}/pca/crl/", first.base_url)),
        "{crl_url} vs {}",
        first.base_url
    );
    assert_eq!(first.terminate(), 0, "SIGTERM is a clean stop");

    let credentials_before = std::fs::read(data.join("credentials.toml")).unwrap();
    let key_before = std::fs::read(data.join("master.key")).unwrap();
    let mut second = Server::start(&["--data-dir", &data_arg], dir.path());
    assert!(
        !second.stdout_text().contains(&creds.secret_key),
        "credentials are printed only once"
    );
    assert_eq!(
        std::fs::read(data.join("credentials.toml")).unwrap(),
        credentials_before
    );
    assert_eq!(std::fs::read(data.join("master.key")).unwrap(), key_before);
    // The old token and the old key pair still work: same master key, same data.
    let r = client
        .get(format!("{}/v3/auth/domains", second.base_url))
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = signed(&client, &second, &creds, "GET", "/v3/auth/domains", None).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["domains"][0]["id"], creds.domain_id);
    assert_eq!(second.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap()], dir.path());
    // Start a request and stop half-way through its body.
    let body = r#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "wrong", "domain": {"name": "admin"}}}}}}"#;
    let mut stream = std::net::TcpStream::connect(server.host()).unwrap();
    write!(
        stream,
        "POST /v3/auth/tokens HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.host(),
        body.len()
    )
    .unwrap();
    stream.write_all(&body.as_bytes()[..20]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id();
    assert!(Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(300));
    // The rest of the body still arrives and gets a complete answer.
    stream.write_all(&body.as_bytes()[20..]).unwrap();
    let mut response = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.contains("x-request-id"), "{response}");
    let mut server = server;
    assert_eq!(server.wait_exit(), 0);
    assert!(server.log().contains("stopped cleanly"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_postgres_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let url = db.url.clone();
    let key = dir.path().join("shared-master.key");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let args = |data: &std::path::Path| {
        vec![
            "--database-url".to_owned(),
            url.clone(),
            "--master-key-file".to_owned(),
            key.to_str().unwrap().to_owned(),
            "--data-dir".to_owned(),
            data.to_str().unwrap().to_owned(),
        ]
    };
    let a_args = args(&a_dir);
    let a = Server::start(
        &a_args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    let b_args = args(&b_dir);
    let b = Server::start(
        &b_args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    // Exactly one of them bootstrapped.
    assert!(a_dir.join("credentials.toml").exists());
    assert!(!b_dir.join("credentials.toml").exists());
    let creds = Credentials::read(&a_dir);
    let client = reqwest::Client::new();
    for server in [&a, &b] {
        let r = signed(&client, server, &creds, "GET", "/v3/auth/domains", None).await;
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["domains"][0]["id"], creds.domain_id);
    }
    // A token minted by one server is accepted by the other.
    let token = password_token(&client, &a, &creds).await;
    let r = client
        .get(format!("{}/v3/auth/domains", b.base_url))
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_starts_on_postgres_bootstrap_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let url = db.url.clone();
    let key = dir.path().join("shared-master.key");
    // Create the shared key first so both processes read the same one.
    {
        let first = Server::start(
            &[
                "--master-key-file",
                key.to_str().unwrap(),
                "--data-dir",
                dir.path().join("k").to_str().unwrap(),
            ],
            dir.path(),
        );
        drop(first);
    }
    let dirs: Vec<_> = (0..3).map(|i| dir.path().join(format!("s{i}"))).collect();
    let handles: Vec<_> = dirs
        .iter()
        .map(|d| {
            let (url, key, d, log) = (url.clone(), key.clone(), d.clone(), dir.path().to_owned());
            std::thread::spawn(move || {
                Server::start(
                    &[
                        "--database-url",
                        &url,
                        "--master-key-file",
                        key.to_str().unwrap(),
                        "--data-dir",
                        d.to_str().unwrap(),
                    ],
                    &log,
                )
            })
        })
        .collect();
    let servers: Vec<Server> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let bootstrapped = dirs
        .iter()
        .filter(|d| d.join("credentials.toml").exists())
        .count();
    assert_eq!(bootstrapped, 1);
    drop(servers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_master_key_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let url = db.url.clone();
    let first = Server::start(
        &[
            "--database-url",
            &url,
            "--data-dir",
            dir.path().join("a").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(first.terminate(), 0);
    // Another data directory means another, freshly generated master key.
    let out = Command::new(harness::binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "none",
            "--database-url",
            &url,
            "--data-dir",
        ])
        .arg(dir.path().join("b"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong key file"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_speaks_tls_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = crate::harness::tls_files(dir.path());
    let server = Server::start(
        &[
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(server.base_url.starts_with("https://"));
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/health", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Plain HTTP to the TLS port does not get an answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/health", server.host()))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    assert_eq!(server.terminate(), 0);
}

/// Issues certificates from several clients until the server is killed with
/// SIGKILL, restarts it, and checks the store: every acknowledged
/// certificate is there and whole, no listed certificate is half-issued, no
/// serial repeats, and (on the embedded store, where the restarted server is
/// the only writer) the quota counts exactly the certificates.
async fn a_kill_during_issuance_leaves_a_consistent_store(database_url: Option<String>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut args = vec!["--data-dir".to_owned(), data.to_str().unwrap().to_owned()];
    if let Some(url) = &database_url {
        args.extend(["--database-url".to_owned(), url.clone()]);
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = Server::start(&argv, dir.path());
    let creds = Credentials::read(&data);
    let client = reqwest::Client::new();
    let root = r#"{"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256", "validity": {"type": "YEAR", "value": 1},
        "distinguished_name": {"common_name": "Kill Root", "country": "CN", "state": "s", "locality": "l", "organization": "o", "organizational_unit": "u"}}"#;
    let r = signed(
        &client,
        &server,
        &creds,
        "POST",
        "/v1/private-certificate-authorities",
        Some(root),
    )
    .await;
    assert_eq!(r.status(), 200);
    let ca = r.json::<serde_json::Value>().await.unwrap()["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (base_url, host) = (server.base_url.clone(), server.host());
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (client, creds, acknowledged, stop, base_url, host, ca) = (
            client.clone(),
            creds.clone(),
            acknowledged.clone(),
            stop.clone(),
            base_url.clone(),
            host.clone(),
            ca.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let body = format!(r#"{{"issuer_id": "{ca}", "key_algorithm": "EC256",
                    "distinguished_name": {{"common_name": "k{i}-{n}.example.com"}}, "validity": {{"type": "DAY", "value": 1}}}}"#);
                let request = openccm_testkit::sign::SdkRequest::new("POST", "/v1/private-certificates", Some(&body)).host(&host);
                let mut builder = client.post(format!("{base_url}/v1/private-certificates")).body(body.clone());
                for (name, value) in request.signed_headers(&creds.access_key, &creds.secret_key, crate::harness::now_ms()) {
                    builder = builder.header(name, value);
                }
                match builder.send().await {
                    Ok(r) if r.status() == 200 => {
                        if let Ok(v) = r.json::<serde_json::Value>().await {
                            acknowledged.lock().unwrap().push(v["certificate_id"].as_str().unwrap().to_owned());
                        }
                    }
                    Ok(r) => panic!("issuance answered {}", r.status()),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.kill().unwrap(); // SIGKILL: no graceful anything
    server.child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "the kill came during issuance ({} issued)",
        acknowledged.len()
    );
    drop(server);

    let server = Server::start(&argv, dir.path());
    // Every page of the list (a fast machine issues more than one page).
    let mut listed: Vec<serde_json::Value> = Vec::new();
    loop {
        let r = signed(
            &client,
            &server,
            &creds,
            "GET",
            &format!(
                "/v1/private-certificates?limit=1000&offset={}",
                listed.len()
            ),
            None,
        )
        .await;
        assert_eq!(r.status(), 200);
        let list = r.json::<serde_json::Value>().await.unwrap();
        let page = list["certificates"].as_array().unwrap().clone();
        let total = list["total"].as_u64().unwrap() as usize;
        listed.extend(page.iter().cloned());
        if page.is_empty() || listed.len() >= total {
            assert_eq!(total, listed.len());
            break;
        }
    }
    let ids: std::collections::HashSet<String> = listed
        .iter()
        .map(|c| c["certificate_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &acknowledged {
        assert!(ids.contains(id), "acknowledged certificate {id} was lost");
    }
    let serials: std::collections::HashSet<String> = listed
        .iter()
        .map(|c| c["serial_number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(serials.len(), listed.len(), "a serial repeats");
    for c in &listed {
        assert_eq!(c["status"], "ISSUED");
        let id = c["certificate_id"].as_str().unwrap();
        let r = signed(
            &client,
            &server,
            &creds,
            "POST",
            &format!("/v1/private-certificates/{id}/export"),
            Some(r#"{"is_compressed": "false", "type": "OTHER"}"#),
        )
        .await;
        assert_eq!(r.status(), 200, "certificate {id} is whole");
        let e = r.json::<serde_json::Value>().await.unwrap();
        assert!(e["certificate"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(e["private_key"].as_str().unwrap().contains("PRIVATE KEY"));
    }
    if database_url.is_none() {
        let r = signed(
            &client,
            &server,
            &creds,
            "GET",
            "/v1/private-certificates/quotas",
            None,
        )
        .await;
        let quota = r.json::<serde_json::Value>().await.unwrap();
        assert_eq!(
            quota["quotas"]["resources"][0]["used"].as_u64().unwrap() as usize,
            listed.len(),
            "interrupted issuances gave their quota back"
        );
    }
    // And it goes on issuing.
    let body = format!(
        r#"{{"issuer_id": "{ca}", "key_algorithm": "EC256",
        "distinguished_name": {{"common_name": "after.example.com"}}, "validity": {{"type": "DAY", "value": 1}}}}"#
    );
    let r = signed(
        &client,
        &server,
        &creds,
        "POST",
        "/v1/private-certificates",
        Some(&body),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_issuance_leaves_a_consistent_sqlite_store() {
    a_kill_during_issuance_leaves_a_consistent_store(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_issuance_leaves_a_consistent_postgres_store() {
    let db = pg_database().await;
    a_kill_during_issuance_leaves_a_consistent_store(Some(db.url.clone())).await;
}
