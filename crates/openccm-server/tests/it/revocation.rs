//! A revoke seen from outside within a second: `openssl ocsp -url` and the
//! CRLs served by real processes, on SQLite and on two servers sharing
//! PostgreSQL; `openccm admin crl check`; `--crl-publish-dir`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{self, pg_database, signed, Credentials, Server};

const FAMILIES: [(&str, &str); 3] = [("EC256", "SHA256"), ("RSA2048", "SHA256"), ("SM2", "SM3")];

async fn call(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
    path: &str,
    body: Value,
) -> Value {
    let r = signed(client, server, creds, "POST", path, Some(&body.to_string())).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert!(status == 200 || status == 204, "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What `openssl ocsp -url` says of `cert.pem`, asked without a nonce so
/// that the server may answer from its cache (SM2: the status only;
/// OpenSSL 3.0's command line verifies SM2 with an empty user id, and the
/// HTTP suite checks SM2 signatures with RustCrypto's `sm2`).
fn ocsp_says(dir: &Path, url: &str, alg: &str) -> String {
    let mut args = vec![
        "ocsp",
        "-issuer",
        "ca.pem",
        "-cert",
        "cert.pem",
        "-url",
        url,
        "-CAfile",
        "ca.pem",
        "-no_nonce",
    ];
    if alg == "SM2" {
        args.push("-noverify");
    }
    let text = openssl(dir, &args);
    if alg != "SM2" {
        assert!(text.contains("Response verify OK"), "{text}");
    }
    text.lines()
        .find_map(|l| l.strip_prefix("cert.pem: "))
        .unwrap_or_else(|| panic!("no status in {text}"))
        .trim()
        .to_owned()
}

/// The serials a CRL served at `url` lists (lower-case hex).
pub(crate) async fn crl_serials(client: &reqwest::Client, url: &str) -> Vec<String> {
    let r = client.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let der = r.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.crl"), &der).unwrap();
    openssl(
        dir.path(),
        &["crl", "-inform", "DER", "-in", "c.crl", "-noout", "-text"],
    )
    .lines()
    .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
    .map(str::to_lowercase)
    .collect()
}

/// On `issuer` (whose URLs the certificates carry): a publishing root of
/// each family and a certificate; then the certificate is revoked and every
/// server in `servers` must answer `revoked` over OCSP and list it on its
/// CRLs within a second of the revoke's answer.
async fn revoke_is_seen_everywhere_within_a_second(
    issuer: &Server,
    servers: &[&Server],
    creds: &Credentials,
) {
    let client = reqwest::Client::new();
    for (alg, hash) in FAMILIES {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = call(&client, issuer, creds, "/v1/private-certificate-authorities", json!({
            "type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash, "validity": {"type": "YEAR", "value": 10},
            "distinguished_name": {"common_name": format!("{alg} Root"), "country": "CN", "state": "Guangdong",
                "locality": "Shenzhen", "organization": "Example", "organizational_unit": "IT"},
            "crl_configuration": {"enabled": true, "obs_bucket_name": "b", "valid_days": 7}})).await["ca_id"]
            .as_str()
            .unwrap()
            .to_owned();
        call(
            &client,
            issuer,
            creds,
            &format!("/v1/private-certificate-authorities/{ca}/ocsp/switch"),
            json!({"ocsp_switch": true}),
        )
        .await;
        let pem = call(
            &client,
            issuer,
            creds,
            &format!("/v1/private-certificate-authorities/{ca}/export"),
            json!({}),
        )
        .await;
        std::fs::write(d.join("ca.pem"), pem["certificate"].as_str().unwrap()).unwrap();
        let cert = call(&client, issuer, creds, "/v1/private-certificates", json!({
            "issuer_id": ca, "key_algorithm": alg, "signature_algorithm": hash,
            "distinguished_name": {"common_name": "www.example.com"}, "validity": {"type": "DAY", "value": 30}}))
            .await["certificate_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let exported = call(
            &client,
            issuer,
            creds,
            &format!("/v1/private-certificates/{cert}/export"),
            json!({"is_compressed": "false", "type": "OTHER"}),
        )
        .await;
        std::fs::write(
            d.join("cert.pem"),
            exported["certificate"].as_str().unwrap(),
        )
        .unwrap();
        let serial = openssl(d, &["x509", "-in", "cert.pem", "-noout", "-serial"])
            .trim()
            .trim_start_matches("serial=")
            .to_lowercase();
        // The URL the certificate carries answers (the issuing server's).
        let aia = openssl(d, &["x509", "-in", "cert.pem", "-noout", "-ocsp_uri"])
            .trim()
            .to_owned();
        assert_eq!(aia, format!("{}/pca/ocsp/{ca}", issuer.base_url));
        let crl_path = format!("/pca/crl/{ca}/{ca}.crl");
        let delta_path = format!("/pca/crl/{ca}/{ca}-delta.crl");
        // Every server has it good and cached before the revoke.
        for server in servers {
            assert_eq!(
                ocsp_says(d, &format!("{}/pca/ocsp/{ca}", server.base_url), alg),
                "good"
            );
            assert!(
                crl_serials(&client, &format!("{}{delta_path}", server.base_url))
                    .await
                    .is_empty()
            );
        }

        let r = signed(
            &client,
            issuer,
            creds,
            "POST",
            &format!("/v1/private-certificates/{cert}/revoke"),
            Some(r#"{"reason": "KEY_COMPROMISE"}"#),
        )
        .await;
        assert_eq!(r.status(), 204);
        let answered = Instant::now();
        for server in servers {
            loop {
                let status = ocsp_says(d, &format!("{}/pca/ocsp/{ca}", server.base_url), alg);
                let mut listed =
                    crl_serials(&client, &format!("{}{crl_path}", server.base_url)).await;
                listed.extend(
                    crl_serials(&client, &format!("{}{delta_path}", server.base_url)).await,
                );
                if status == "revoked" && listed.contains(&serial) {
                    break;
                }
                assert!(
                    answered.elapsed() < Duration::from_secs(1),
                    "{alg}: {} still says {status}, CRLs {listed:?}, {:?} after the revoke",
                    server.base_url,
                    answered.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        if alg != "SM2" {
            // A relying party with the full CRL and its delta rejects it.
            let mut pems = String::new();
            for path in [&crl_path, &delta_path] {
                let der = client
                    .get(format!("{}{path}", servers[servers.len() - 1].base_url))
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                std::fs::write(d.join("c.crl"), &der).unwrap();
                pems.push_str(&openssl(d, &["crl", "-inform", "DER", "-in", "c.crl"]));
            }
            std::fs::write(d.join("crls.pem"), pems).unwrap();
            let text = openssl(
                d,
                &[
                    "verify",
                    "-crl_check",
                    "-extended_crl",
                    "-use_deltas",
                    "-CAfile",
                    "ca.pem",
                    "-CRLfile",
                    "crls.pem",
                    "cert.pem",
                ],
            );
            assert!(text.contains("certificate revoked"), "{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_on_sqlite_is_seen_by_openssl_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let publish = dir.path().join("published");
    let start = || {
        Server::start(
            &[
                "--data-dir",
                data.to_str().unwrap(),
                "--crl-publish-dir",
                publish.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let server = start();
    let creds = Credentials::read(&data);
    revoke_is_seen_everywhere_within_a_second(&server, &[&server], &creds).await;

    // The publish directory follows within the job's second: every CA's
    // full and delta CRL, as served.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let files = walk(&publish);
        let mut same = files.len() == 6;
        for file in &files {
            let path = file
                .strip_prefix(&publish)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let served = reqwest::get(format!("{}/pca/crl/{path}", server.base_url))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            same &= std::fs::read(file).unwrap() == served.to_vec();
        }
        if same {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the published CRLs differ from the served ones: {files:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // CRL numbers survive a restart: the next CRL's is higher.
    let numbers = |text: String| -> Vec<u64> {
        let mut lines = text.lines();
        let mut out = Vec::new();
        while let Some(line) = lines.next() {
            if line.contains("X509v3 CRL Number") {
                out.push(lines.next().unwrap().trim().parse().unwrap());
            }
        }
        out
    };
    let crl_number = |server: &Server, file: &Path| {
        let path = file
            .strip_prefix(&publish)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let url = format!("{}/pca/crl/{path}", server.base_url);
        async move {
            let der = reqwest::get(url).await.unwrap().bytes().await.unwrap();
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("c.crl"), &der).unwrap();
            numbers(openssl(
                dir.path(),
                &["crl", "-inform", "DER", "-in", "c.crl", "-noout", "-text"],
            ))[0]
        }
    };
    let delta = walk(&publish)
        .into_iter()
        .find(|f| f.to_str().unwrap().ends_with("-delta.crl"))
        .unwrap();
    let before = crl_number(&server, &delta).await;
    assert_eq!(server.terminate(), 0);
    let server = start();
    let after = crl_number(&server, &delta).await;
    assert!(
        after > before,
        "CRL number {after} after a restart, {before} before"
    );

    // The self-check, while the server runs.
    let out = Command::new(harness::binary())
        .args([
            "admin",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            &server.host(),
            "crl",
            "check",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.lines().filter(|l| l.contains(": ok, ")).count(),
        3,
        "{text}"
    );
    assert_eq!(server.terminate(), 0);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "crl") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_postgres_see_each_others_revokes_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let (a, b, creds) = crate::harness::two_servers(dir.path(), &db);
    // A revokes; B (and A) answer.
    revoke_is_seen_everywhere_within_a_second(&a, &[&b, &a], &creds).await;
    // And the other way round.
    revoke_is_seen_everywhere_within_a_second(&b, &[&a], &creds).await;
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
}
