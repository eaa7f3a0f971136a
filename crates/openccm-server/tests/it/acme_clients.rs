//! Real ACME clients against a running server over TLS (issue 15): certbot
//! (standalone http-01, and a manual-hook dns-01 through a local DNS
//! server) and lego (http-01), each with an EAB key, obtaining, renewing
//! and revoking certificates that `openssl verify` accepts, that the PCA
//! API lists under the binding account, and whose revocation OCSP reports.
//! On the embedded store and on PostgreSQL.
//!
//! The DNS server is Debian's `pebble-challtestsrv`: it answers every A
//! query with 127.0.0.1 and serves the TXT records a hook sets through its
//! management API. Validation is allowed to loopback only.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{post_json, signed, tls_files, Credentials, Server};

/// The CAA issuer domain name the servers here answer to.
const CAA_IDENTITY: &str = "openccm.test";

/// A port free right now on loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `pebble-challtestsrv` as a DNS server only.
struct Dns {
    child: Child,
    port: u16,
    management: u16,
}

impl Dns {
    fn start() -> Self {
        let (port, management) = (free_port(), free_port());
        let mut child = Command::new("pebble-challtestsrv")
            .args([
                "-dns01",
                &format!("127.0.0.1:{port}"),
                "-management",
                &format!("127.0.0.1:{management}"),
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-defaultIPv6",
                "",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv (Debian package pebble)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", management)).is_ok() {
                return Self {
                    child,
                    port,
                    management,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("pebble-challtestsrv did not start");
    }
}

impl Dns {
    /// Publishes CAA `issue` records for `host`.
    fn add_caa(&self, host: &str, issuers: &[&str]) {
        let policies: Vec<Value> = issuers
            .iter()
            .map(|i| json!({"tag": "issue", "value": i}))
            .collect();
        let body = json!({"host": format!("{host}."), "policies": policies}).to_string();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.management)).unwrap();
        use std::io::{Read as _, Write as _};
        write!(
            stream,
            "POST /add-caa HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "{answer}"
        );
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    text(&out)
}

/// A server over TLS whose ACME validation reaches loopback only, on
/// `http01` and through `dns`, with an ACME-enabled root CA (OCSP on) and
/// an EAB key: `(server, credentials, ca_id, (key_id, hmac_key), ca_bundle)`.
async fn acme_server(
    dir: &Path,
    database_url: Option<&str>,
    dns: &Dns,
    (http01, tlsalpn01): (u16, u16),
    allowed: &[&str],
) -> (Server, Credentials, String, (String, String), PathBuf) {
    let (ca_bundle, cert, key) = tls_files(dir);
    let data = dir.join("data");
    let mut args = vec![
        "--data-dir".to_owned(),
        data.to_str().unwrap().to_owned(),
        "--tls-cert".to_owned(),
        cert.to_str().unwrap().to_owned(),
        "--tls-key".to_owned(),
        key.to_str().unwrap().to_owned(),
        "--acme-allow-address".to_owned(),
        "127.0.0.0/8".to_owned(),
        "--acme-http01-port".to_owned(),
        http01.to_string(),
        "--acme-tlsalpn01-port".to_owned(),
        tlsalpn01.to_string(),
        "--acme-caa-identity".to_owned(),
        CAA_IDENTITY.to_owned(),
        "--acme-dns-resolver".to_owned(),
        format!("127.0.0.1:{}", dns.port),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args, dir);
    let creds = Credentials::read(&data);
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&ca_bundle).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let (status, ca) = post_json(
        &client,
        &server,
        &creds,
        "/v1/private-certificate-authorities",
        &json!({"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
            "distinguished_name": {"common_name": "ACME Root", "country": "CN", "state": "GD",
            "locality": "SZ", "organization": "O", "organizational_unit": "U"},
            "validity": {"type": "YEAR", "value": 2}}),
    )
    .await;
    assert_eq!(status, 200, "{ca}");
    let ca = ca["ca_id"].as_str().unwrap().to_owned();
    let (status, _) = post_json(
        &client,
        &server,
        &creds,
        &format!("/v1/private-certificate-authorities/{ca}/ocsp/switch"),
        &json!({"ocsp_switch": true}),
    )
    .await;
    assert_eq!(status, 204);
    let r = signed(
        &client,
        &server,
        &creds,
        "PUT",
        &format!("/v1/private-certificate-authorities/{ca}/acme"),
        Some(&json!({"enabled": true, "allowed_identifiers": allowed}).to_string()),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (status, eab) = post_json(
        &client,
        &server,
        &creds,
        &format!("/v1/private-certificate-authorities/{ca}/acme/eab-keys"),
        &json!({"description": "test client"}),
    )
    .await;
    assert_eq!(status, 201, "{eab}");
    let eab = (
        eab["key_id"].as_str().unwrap().to_owned(),
        eab["hmac_key"].as_str().unwrap().to_owned(),
    );
    (server, creds, ca, eab, ca_bundle)
}

/// The PCA API's view of the certificate in `pem_file`: its record, found
/// by serial among the account's certificates.
async fn pca_view(
    server: &Server,
    creds: &Credentials,
    ca_bundle: &Path,
    pem_file: &Path,
) -> Value {
    let serial = openssl(
        pem_file.parent().unwrap(),
        &[
            "x509",
            "-in",
            pem_file.to_str().unwrap(),
            "-noout",
            "-serial",
        ],
    );
    let serial = serial
        .trim()
        .strip_prefix("serial=")
        .unwrap_or_else(|| panic!("{serial}"))
        .to_ascii_lowercase();
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(ca_bundle).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let r = signed(
        &client,
        server,
        creds,
        "GET",
        "/v1/private-certificates?limit=100",
        None,
    )
    .await;
    let list: Value = r.json().await.unwrap();
    list["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serial_number"].as_str() == Some(serial.as_str()))
        .unwrap_or_else(|| panic!("serial {serial} not listed: {list}"))
        .clone()
}

/// What `openssl ocsp` says of `cert` (issued by the root in `issuer`).
fn ocsp_status(dir: &Path, cert: &Path, issuer: &Path) -> String {
    let url = openssl(
        dir,
        &["x509", "-in", cert.to_str().unwrap(), "-noout", "-ocsp_uri"],
    );
    let (cert, issuer) = (cert.to_str().unwrap(), issuer.to_str().unwrap());
    let out = openssl(
        dir,
        &[
            "ocsp",
            "-issuer",
            issuer,
            "-cert",
            cert,
            "-url",
            url.trim(),
            "-CAfile",
            issuer,
            "-no_nonce",
        ],
    );
    assert!(out.contains("Response verify OK"), "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{cert}: ")))
        .unwrap_or_else(|| panic!("no status in {out}"))
        .trim()
        .to_owned()
}

fn certbot(dir: &Path, directory: &str, ca_bundle: &Path, args: &[&str]) -> Output {
    Command::new("certbot")
        .env("REQUESTS_CA_BUNDLE", ca_bundle)
        .args([
            "--non-interactive",
            "--config-dir",
            dir.join("conf").to_str().unwrap(),
            "--work-dir",
            dir.join("work").to_str().unwrap(),
            "--logs-dir",
            dir.join("logs").to_str().unwrap(),
            "--server",
            directory,
        ])
        .args(args)
        .output()
        .expect("certbot (Debian package certbot)")
}

async fn certbot_obtains_renews_and_revokes(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dns = Dns::start();
    let http01 = free_port();
    let (server, creds, ca, (kid, hmac), ca_bundle) = acme_server(
        d,
        database_url.as_deref(),
        &dns,
        (http01, free_port()),
        &["*.acme.test"],
    )
    .await;
    let directory = format!("{}/acme/{ca}/directory", server.base_url);
    let port = http01.to_string();
    // CAA: the zone lets this server issue (found by climbing from each
    // name); one name below it lets only another CA.
    dns.add_caa("acme.test", &[CAA_IDENTITY]);
    dns.add_caa("blocked.acme.test", &["other-ca.test"]);
    let run = |args: &[&str]| {
        let out = certbot(d, &directory, &ca_bundle, args);
        (out.status.success(), text(&out))
    };

    let (ok, out) = run(&[
        "register",
        "--agree-tos",
        "-m",
        "ops@example.test",
        "--eab-kid",
        &kid,
        "--eab-hmac-key",
        &hmac,
    ]);
    assert!(ok, "register: {out}");

    // http-01, certbot's own standalone responder.
    let standalone = [
        "--standalone",
        "--http-01-address",
        "127.0.0.1",
        "--http-01-port",
        &port,
    ];
    let mut args = vec!["certonly", "--cert-name", "web", "-d", "www.acme.test"];
    args.extend(standalone);
    let (ok, out) = run(&args);
    assert!(ok, "certonly: {out}");
    let live = d.join("conf/live/web");
    let verified = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            live.join("chain.pem").to_str().unwrap(),
            live.join("cert.pem").to_str().unwrap(),
        ],
    );
    assert!(verified.trim().ends_with(": OK"), "{verified}");
    let first = pca_view(&server, &creds, &ca_bundle, &live.join("cert.pem")).await;
    assert_eq!(first["gen_mode"], "CSR");
    assert_eq!(first["issuer_id"], ca.as_str());
    assert_eq!(first["distinguished_name"]["common_name"], "www.acme.test");

    // Renewal: a new certificate.
    let (ok, out) = run(&[
        "renew",
        "--force-renewal",
        "--no-random-sleep-on-renew",
        "--cert-name",
        "web",
    ]);
    assert!(ok, "renew: {out}");
    let renewed = pca_view(&server, &creds, &ca_bundle, &live.join("cert.pem")).await;
    assert_ne!(renewed["serial_number"], first["serial_number"]);

    // dns-01 through a hook that sets the TXT record in the DNS server: a
    // wildcard.
    let hook = d.join("hook.py");
    std::fs::write(
        &hook,
        format!(
            "import json, os, urllib.request\n\
             body = json.dumps({{'host': '_acme-challenge.' + os.environ['CERTBOT_DOMAIN'] + '.', 'value': os.environ['CERTBOT_VALIDATION']}}).encode()\n\
             urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:{}/set-txt', data=body))\n",
            dns.management
        ),
    )
    .unwrap();
    let hook_cmd = format!("python3 {}", hook.display());
    let (ok, out) = run(&[
        "certonly",
        "--cert-name",
        "wild",
        "--manual",
        "--preferred-challenges",
        "dns",
        "--manual-auth-hook",
        &hook_cmd,
        "-d",
        "*.acme.test",
    ]);
    assert!(ok, "dns-01: {out}");
    let wild = d.join("conf/live/wild");
    let sans = openssl(
        d,
        &[
            "x509",
            "-in",
            wild.join("cert.pem").to_str().unwrap(),
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    );
    assert!(sans.contains("DNS:*.acme.test"), "{sans}");

    // A name outside the CA's policy: refused with rejectedIdentifier.
    let mut args = vec!["certonly", "--cert-name", "other", "-d", "www.other.test"];
    args.extend(standalone);
    let (ok, out) = run(&args);
    assert!(!ok, "{out}");
    // certbot 2.1 on Python 3.11 stumbles over its own error while reporting
    // it (josepy's immutable Error), so the problem is read from its log.
    let log = std::fs::read_to_string(d.join("logs/letsencrypt.log")).unwrap();
    assert!(
        log.contains(r#""type":"urn:ietf:params:acme:error:rejectedIdentifier""#),
        "{out}"
    );

    // A name whose CAA records name another CA: refused with caa.
    let mut args = vec![
        "certonly",
        "--cert-name",
        "blocked",
        "-d",
        "blocked.acme.test",
    ];
    args.extend(standalone);
    let (ok, out) = run(&args);
    assert!(!ok, "{out}");
    let log = std::fs::read_to_string(d.join("logs/letsencrypt.log")).unwrap();
    assert!(log.contains("urn:ietf:params:acme:error:caa"), "{out}");

    // Revocation: the PCA API and OCSP see it.
    let cert = live.join("cert.pem");
    assert_eq!(ocsp_status(d, &cert, &live.join("chain.pem")), "good");
    let (ok, out) = run(&[
        "revoke",
        "--cert-path",
        cert.to_str().unwrap(),
        "--reason",
        "keycompromise",
        "--no-delete-after-revoke",
    ]);
    assert!(ok, "revoke: {out}");
    assert_eq!(ocsp_status(d, &cert, &live.join("chain.pem")), "revoked");
    let revoked = pca_view(&server, &creds, &ca_bundle, &cert).await;
    assert_eq!(revoked["status"], "REVOKED");
}

async fn lego_obtains_renews_and_revokes(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dns = Dns::start();
    let (http01, tlsalpn01) = (free_port(), free_port());
    let (server, creds, ca, (kid, hmac), ca_bundle) = acme_server(
        d,
        database_url.as_deref(),
        &dns,
        (http01, tlsalpn01),
        &["*.lego.test"],
    )
    .await;
    let directory = format!("{}/acme/{ca}/directory", server.base_url);
    let http = ["--http", "--http.port", &format!("127.0.0.1:{http01}")].map(str::to_owned);
    let tls = ["--tls", "--tls.port", &format!("127.0.0.1:{tlsalpn01}")].map(str::to_owned);
    let lego = |domain: &str, challenge: &[String], args: &[&str]| {
        let out = Command::new("lego")
            .env("LEGO_CA_CERTIFICATES", &ca_bundle)
            .args([
                "--server",
                &directory,
                "--accept-tos",
                "--email",
                "ops@example.test",
                "--eab",
                "--kid",
                &kid,
                "--hmac",
                &hmac,
                "--domains",
                domain,
                "--path",
                d.join("lego").to_str().unwrap(),
            ])
            .args(challenge)
            .args(args)
            .output()
            .expect("lego (Debian package lego)");
        (out.status.success(), text(&out))
    };
    let (ok, out) = lego("www.lego.test", &http, &["run"]);
    assert!(ok, "run: {out}");
    let certs = d.join("lego/certificates");
    let (cert, issuer) = (
        certs.join("www.lego.test.crt"),
        certs.join("www.lego.test.issuer.crt"),
    );
    let verified = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            issuer.to_str().unwrap(),
            cert.to_str().unwrap(),
        ],
    );
    assert!(verified.trim().ends_with(": OK"), "{verified}");
    let first = pca_view(&server, &creds, &ca_bundle, &cert).await;
    assert_eq!(first["gen_mode"], "CSR");

    // Renewal (certificates live 90 days: "within 100 days" is now).
    let (ok, out) = lego(
        "www.lego.test",
        &http,
        &["renew", "--days", "100", "--no-random-sleep"],
    );
    assert!(ok, "renew: {out}");
    let renewed = pca_view(&server, &creds, &ca_bundle, &cert).await;
    assert_ne!(renewed["serial_number"], first["serial_number"]);

    assert_eq!(ocsp_status(d, &cert, &issuer), "good");
    let (ok, out) = lego("www.lego.test", &http, &["revoke", "--keep"]);
    assert!(ok, "revoke: {out}");
    assert_eq!(ocsp_status(d, &cert, &issuer), "revoked");

    // tls-alpn-01, lego's own responder.
    let (ok, out) = lego("alpn.lego.test", &tls, &["run"]);
    assert!(ok, "tls-alpn-01: {out}");
    let alpn = certs.join("alpn.lego.test.crt");
    let verified = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            issuer.to_str().unwrap(),
            alpn.to_str().unwrap(),
        ],
    );
    assert!(verified.trim().ends_with(": OK"), "{verified}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certbot_on_sqlite() {
    certbot_obtains_renews_and_revokes(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certbot_on_postgres() {
    let db = crate::harness::pg_database().await;
    certbot_obtains_renews_and_revokes(Some(db.url.clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lego_on_sqlite() {
    lego_obtains_renews_and_revokes(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lego_on_postgres() {
    let db = crate::harness::pg_database().await;
    lego_obtains_renews_and_revokes(Some(db.url.clone())).await;
}
