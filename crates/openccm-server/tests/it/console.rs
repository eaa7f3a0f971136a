//! The web console in a real browser: tests/console/console_test.py drives
//! Debian's Chromium (headless, through chromedriver and Selenium) against
//! a real `openccm serve` over TLS, and leaves a screenshot of every page in
//! `target/console-screenshots/`.

use std::path::Path;
use std::process::Command;

use crate::harness::{tls_files, Credentials, Server};

#[test]
fn the_console_runs_the_daily_work_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_files(dir.path());
    let data = dir.path().join("data");
    let server = Server::start(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(server.base_url.starts_with("https://"));
    let creds = Credentials::read(&data);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shots = root.join("target/console-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let python = std::env::var("OPENCCM_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("OPENCCM_TEST_PYTHON is not set: run the suite with scripts/test, which builds the virtualenv")
    });
    let out = Command::new(python)
        .arg(root.join("tests/console/console_test.py"))
        .env("OPENCCM_CONSOLE", &server.base_url)
        .env("OPENCCM_TLS_CERT", &cert)
        .env("OPENCCM_TLS_CA", &ca)
        .env("OPENCCM_COOKIE", "__Host-openccm_session")
        .env("OPENCCM_DOMAIN_NAME", &creds.domain_name)
        .env("OPENCCM_USER", &creds.user_name)
        .env("OPENCCM_PASSWORD", &creds.password)
        .env("OPENCCM_SCREENSHOTS", &shots)
        .env("OPENCCM_WORK", dir.path())
        .env("HOME", dir.path())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("console: ok"),
        "the browser test failed (screenshots in {}):\n{stdout}\n{}\nserver log:\n{}",
        shots.display(),
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert_eq!(server.terminate(), 0);
}
