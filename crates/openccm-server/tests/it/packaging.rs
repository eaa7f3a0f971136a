//! What ships for operators (`packaging/`) is checked by the tools that
//! read it: the systemd unit by `systemd-analyze verify`, the alert rules by
//! `promtool check rules`, and the example configuration by a server that
//! starts with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::Server;

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging")
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `systemd-analyze verify` reports unknown keys and bad values as warnings
/// and still exits 0: the unit passes only with nothing said at all. The
/// binary it names is this build's (verify checks that it is executable).
#[test]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(packaging().join("openccm.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/openccm serve"));
    assert!(unit.contains("User=openccm"), "runs as its own user");
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path().join("openccm.service");
    std::fs::write(
        &here,
        unit.replace("/usr/local/bin/openccm", crate::harness::binary()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&here)
        .output()
        .expect("systemd-analyze (Debian package systemd; scripts/test installs it)");
    assert!(
        out.status.success() && said(&out).trim().is_empty(),
        "{}",
        said(&out)
    );
}

#[test]
fn the_alert_rules_pass_promtool() {
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(packaging().join("alerts.yml"))
        .output()
        .expect("promtool (Debian package prometheus; scripts/test installs it)");
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("SUCCESS"), "{}", said(&out));
}

/// The example configuration is read whole (unknown keys are refused) by a
/// server that starts with it; the flags only move what this machine
/// cannot have (the data directory, ports, the TLS files).
#[test]
fn a_server_starts_with_the_example_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
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
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", said(&made));
    let config = packaging().join("openccm.toml");
    let data = dir.path().join("data");
    let server = Server::start(
        &[
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        server.base_url.starts_with("https://"),
        "{}",
        server.base_url
    );
    // log_format = "json": every log line is a JSON object. (The log goes
    // through a writer thread and may trail the stdout line.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.log().contains("\"listening\"") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = server.log();
    assert!(
        !log.is_empty() && log.lines().all(|line| line.starts_with('{')),
        "{log}"
    );
    assert_eq!(server.terminate(), 0);
}
