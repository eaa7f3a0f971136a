//! The Prometheus metrics listener: a scrape after real calls counts them
//! under their routes' templates, counts what the application did
//! (issuances, authentication failures, OCSP answers, the pools' and the
//! store's work, CRL ages, certificates about to expire), passes `promtool
//! check metrics`, and carries no id a client sent; a real Prometheus
//! scrapes it.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::harness::{
    password_token, post_json as call, signed, signed_with, Credentials, Killed, Server,
};

/// The value of the sample `name{labels}` in a text exposition, if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}

/// `promtool check metrics` accepts `text` with no finding at all (it
/// prints lint findings, such as a missing unit or a wrong suffix, and
/// still exits 0 for some).
fn promtool_accepts(text: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; scripts/test installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn a_scrape_counts_calls_by_route_and_passes_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap()], dir.path());
    let creds = Credentials::read(&data);
    let client = reqwest::Client::new();
    let missing = "01234567-89ab-7def-8123-456789abcdef";
    for _ in 0..3 {
        let listed = signed(
            &client,
            &server,
            &creds,
            "GET",
            "/v1/private-certificate-authorities",
            None,
        )
        .await;
        assert_eq!(listed.status(), 200);
    }
    let shown = signed(
        &client,
        &server,
        &creds,
        "GET",
        &format!("/v1/private-certificates/{missing}"),
        None,
    )
    .await;
    let shown_status = shown.status().as_u16();
    assert!(shown_status >= 400, "{shown_status}");
    let unknown = client
        .get(format!("{}/no/such/{missing}", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let url = server
        .metrics_url
        .clone()
        .expect("the server announced its metrics listener");
    let scrape = client.get(&url).send().await.unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = scrape.text().await.unwrap();

    let listed = r#"openccm_http_requests_total{method="GET",route="/v1/private-certificate-authorities",status="200"}"#;
    assert_eq!(sample(&text, listed), Some(3.0), "{text}");
    let shown = format!(
        r#"openccm_http_requests_total{{method="GET",route="/v1/private-certificates/{{certificate_id}}",status="{shown_status}"}}"#
    );
    assert_eq!(sample(&text, &shown), Some(1.0), "{text}");
    let timed = r#"openccm_http_request_duration_seconds_count{method="GET",route="/v1/private-certificate-authorities",status="200"}"#;
    assert_eq!(sample(&text, timed), Some(3.0), "{text}");
    let build = format!(
        r#"openccm_build_info{{version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&text, &build), Some(1.0), "{text}");
    assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|bytes| bytes > 0.0));
    // Neither the id in the known route nor the made-up path is a label.
    assert!(!text.contains(missing), "{text}");
    assert!(!text.contains("/no/such"), "{text}");

    promtool_accepts(&text);

    // The API's own listener has no metrics.
    let api = client
        .get(format!("{}/metrics", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
}

/// An address given with `--metrics-listen` must be free; the default one
/// may be taken (a second server on the host), and then the server starts
/// without metrics and says so.
#[test]
fn a_taken_metrics_address_stops_the_start_only_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let refused = Command::new(crate::harness::binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            &addr,
            "--data-dir",
        ])
        .arg(dir.path().join("a"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("cannot listen for metrics"), "{stderr}");

    // The default address, held here unless something else holds it already.
    let _default = std::net::TcpListener::bind("127.0.0.1:9464");
    let data = dir.path().join("b");
    let server =
        Server::start_with_own_metrics(&["--data-dir", data.to_str().unwrap()], dir.path());
    assert_eq!(server.metrics_url, None);
    // The log goes through a writer thread: it may trail the stdout line.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.log().contains("serving without metrics") {
        assert!(std::time::Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(server.terminate(), 0);
}

/// A real Prometheus server (Debian's, installed by scripts/test) scrapes
/// the listener: the target is up and OpenCCM's series are stored.
#[tokio::test]
async fn a_real_prometheus_scrapes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap()], dir.path());
    let target = server
        .metrics_url
        .as_deref()
        .and_then(|url| url.strip_prefix("http://"))
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .expect("a metrics listener")
        .to_owned();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: openccm\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let web = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let web_addr = web.local_addr().unwrap();
    drop(web);
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web_addr}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus (Debian package prometheus; scripts/test installs it)"),
    );
    let client = reqwest::Client::new();
    let query = |q: &'static str| {
        let client = client.clone();
        async move {
            let answer = client
                .get(format!("http://{web_addr}/api/v1/query"))
                .query(&[("query", q)])
                .send()
                .await
                .ok()?;
            let body: serde_json::Value = answer.json().await.ok()?;
            body["data"]["result"][0]["value"][1]
                .as_str()
                .map(str::to_owned)
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let up = query(r#"up{job="openccm"}"#).await;
        let build = query(r#"openccm_build_info{job="openccm"}"#).await;
        if up.as_deref() == Some("1") && build.as_deref() == Some("1") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus did not scrape OpenCCM (up {up:?}, build info {build:?}); its log:\n{}",
            std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// What `openssl ocsp` says of `cert.pem` issued by `ca.pem` in `dir`,
/// asked at `url` without a nonce (so the answer may be cached).
fn ocsp_status(dir: &std::path::Path, url: &str) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
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
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("cert.pem: "))
        .unwrap_or_else(|| panic!("no status in {text}"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn the_application_counts_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap()], dir.path());
    let creds = Credentials::read(&data);
    let client = reqwest::Client::new();

    // A publishing EC256 root answering OCSP.
    let (status, ca) = call(
        &client,
        &server,
        &creds,
        "/v1/private-certificate-authorities",
        &json!({
        "type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "validity": {"type": "YEAR", "value": 10},
        "distinguished_name": {"common_name": "Metrics Root", "country": "CN", "state": "Guangdong",
            "locality": "Shenzhen", "organization": "Example", "organizational_unit": "IT"},
        "crl_configuration": {"enabled": true, "obs_bucket_name": "b", "valid_days": 7}}),
    )
    .await;
    assert_eq!(status, 200, "{ca}");
    let ca = ca["ca_id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &client,
        &server,
        &creds,
        &format!("/v1/private-certificate-authorities/{ca}/ocsp/switch"),
        &json!({"ocsp_switch": true}),
    )
    .await;
    assert_eq!(status, 204);

    // Two certificates: one expiring within 7 days, one within 30; and a
    // refused issuance (a validity past the CA's).
    let mut certs = Vec::new();
    for days in [5, 20] {
        let (status, cert) = call(
            &client,
            &server,
            &creds,
            "/v1/private-certificates",
            &json!({
            "issuer_id": ca, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
            "distinguished_name": {"common_name": "www.example.com"},
            "validity": {"type": "DAY", "value": days}}),
        )
        .await;
        assert_eq!(status, 200, "{cert}");
        certs.push(cert["certificate_id"].as_str().unwrap().to_owned());
    }
    let (status, _) = call(
        &client,
        &server,
        &creds,
        "/v1/private-certificates",
        &json!({
        "issuer_id": ca, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "distinguished_name": {"common_name": "www.example.com"},
        "validity": {"type": "YEAR", "value": 20}}),
    )
    .await;
    assert_eq!(status, 400);

    // OCSP twice without a nonce: signed, then from the cache.
    let files = tempfile::tempdir().unwrap();
    let (_, pem) = call(
        &client,
        &server,
        &creds,
        &format!("/v1/private-certificate-authorities/{ca}/export"),
        &json!({}),
    )
    .await;
    std::fs::write(
        files.path().join("ca.pem"),
        pem["certificate"].as_str().unwrap(),
    )
    .unwrap();
    let (_, exported) = call(
        &client,
        &server,
        &creds,
        &format!("/v1/private-certificates/{}/export", certs[0]),
        &json!({"is_compressed": "false", "type": "OTHER"}),
    )
    .await;
    std::fs::write(
        files.path().join("cert.pem"),
        exported["certificate"].as_str().unwrap(),
    )
    .unwrap();
    let ocsp_url = format!("{}/pca/ocsp/{ca}", server.base_url);
    assert_eq!(ocsp_status(files.path(), &ocsp_url), "good");
    assert_eq!(ocsp_status(files.path(), &ocsp_url), "good");
    // The full CRL, served (and so its age known).
    let crl = client
        .get(format!("{}/pca/crl/{ca}/{ca}.crl", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(crl.status(), 200);

    // Refused authentications: a wrong secret, a forged token; and a token.
    let wrong = signed_with(
        &client,
        &server,
        &creds.access_key,
        "not-the-secret-key",
        "GET",
        "/v1/private-certificate-authorities",
        None,
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let forged = client
        .get(format!(
            "{}/v1/private-certificate-authorities",
            server.base_url
        ))
        .header("x-auth-token", "MIIforged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let anonymous = client
        .get(format!(
            "{}/v1/private-certificate-authorities",
            server.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    password_token(&client, &server, &creds).await;

    let text = client
        .get(server.metrics_url.clone().expect("a metrics listener"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    };
    let positive = |series: &str| {
        assert!(
            sample(&text, series).is_some_and(|v| v > 0.0),
            "{series} in\n{text}"
        );
    };
    expect(
        r#"openccm_certificate_issuances_total{algorithm="EC256",result="issued"}"#,
        2.0,
    );
    expect(
        r#"openccm_certificate_issuances_total{algorithm="EC256",result="refused"}"#,
        1.0,
    );
    expect(
        r#"openccm_authentication_failures_total{reason="bad_signature"}"#,
        1.0,
    );
    expect(
        r#"openccm_authentication_failures_total{reason="bad_token"}"#,
        1.0,
    );
    expect(
        r#"openccm_authentication_failures_total{reason="missing_credentials"}"#,
        1.0,
    );
    expect("openccm_tokens_issued_total", 1.0);
    expect(r#"openccm_ocsp_responses_total{answer="signed"}"#, 1.0);
    expect(r#"openccm_ocsp_responses_total{answer="cached"}"#, 1.0);
    // Key generations (the CA's and the certificates') and signatures went
    // through the pools, whose queues are empty now.
    positive(r#"openccm_crypto_queue_wait_seconds_count{pool="keygen"}"#);
    positive(r#"openccm_crypto_queue_wait_seconds_count{pool="sign"}"#);
    expect(r#"openccm_crypto_queue_depth{pool="sign"}"#, 0.0);
    expect(r#"openccm_crypto_queue_depth{pool="keygen"}"#, 0.0);
    positive("openccm_store_write_duration_seconds_count");
    positive("openccm_store_write_batch_size_count");
    let account = &creds.domain_id;
    for (kind, within, count) in [
        ("private", "7", 1.0),
        ("private", "30", 2.0),
        ("ca", "30", 0.0),
        ("ssl", "30", 0.0),
    ] {
        expect(
            &format!(
                r#"openccm_certificates_expiring{{account="{account}",kind="{kind}",within_days="{within}"}}"#
            ),
            count,
        );
    }
    let age = sample(
        &text,
        &format!(r#"openccm_crl_age_seconds{{ca_id="{ca}",kind="full"}}"#),
    )
    .unwrap_or_else(|| panic!("no CRL age in\n{text}"));
    assert!((0.0..120.0).contains(&age), "{age}");
    // No certificate id is a label.
    for cert in &certs {
        assert!(!text.contains(cert.as_str()), "{cert} in\n{text}");
    }
    promtool_accepts(&text);
}
