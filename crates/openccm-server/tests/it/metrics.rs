//! The Prometheus metrics listener: a scrape after real calls counts them
//! under their routes' templates, passes `promtool check metrics`, and
//! carries no id a client sent; a real Prometheus scrapes it.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::harness::{signed, Credentials, Server};

/// The value of the sample `name{labels}` in a text exposition, if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
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
    assert!(
        server.log().contains("serving without metrics"),
        "{}",
        server.log()
    );
    assert_eq!(server.terminate(), 0);
}

/// Kills a child process when dropped, test failure or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
