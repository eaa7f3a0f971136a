//! The official Python SDK against a real `openccm` process
//! (tests/sdk/*.py, run with the virtualenv `scripts/test` builds).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{password_token, pg_database, signed_with, Credentials, Server};

fn python() -> String {
    std::env::var("OPENCCM_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("OPENCCM_TEST_PYTHON is not set: run the suite with scripts/test, which builds the SDK virtualenv")
    })
}

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk")
}

/// Runs `script` against `server` as the bootstrap administrator.
pub fn run_script(script: &str, server: &Server, creds: &Credentials) -> String {
    run_script_with(script, server, creds, &[])
}

/// Runs `script` with extra environment variables.
fn run_script_with(
    script: &str,
    server: &Server,
    creds: &Credentials,
    extra: &[(&str, &str)],
) -> String {
    let out = Command::new(python())
        .envs(extra.iter().copied())
        .current_dir(sdk_dir())
        .arg(script)
        .env("OPENCCM_ENDPOINT", &server.base_url)
        .env("OPENCCM_AK", &creds.access_key)
        .env("OPENCCM_SK", &creds.secret_key)
        .env("OPENCCM_DOMAIN_ID", &creds.domain_id)
        .env("OPENCCM_DOMAIN_NAME", &creds.domain_name)
        .env("OPENCCM_USER", &creds.user_name)
        .env("OPENCCM_PASSWORD", &creds.password)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    stdout
}

fn start(dir: &Path, database_url: Option<&str>) -> (Server, Credentials) {
    let data = dir.join("data");
    let mut args = vec![
        "--data-dir".to_owned(),
        data.to_str().unwrap().to_owned(),
        "--log".to_owned(),
        "debug".to_owned(),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    let server = Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>(), dir);
    let creds = Credentials::read(&data);
    (server, creds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_authenticates_and_runs_a_pca_lifecycle_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (server, creds) = start(dir.path(), None);
    assert!(run_script("foundation.py", &server, &creds).contains("foundation: ok"));
    assert!(run_script("pca_lifecycle.py", &server, &creds).contains("pca lifecycle: ok"));
    assert!(run_script("pca_revocation.py", &server, &creds).contains("pca revocation: ok"));
    assert!(run_script("sts.py", &server, &creds).contains("sts: ok"));
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_round_trips_every_algorithm_through_scm_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (server, creds) = start(dir.path(), None);
    assert!(run_script("scm_lifecycle.py", &server, &creds).contains("scm lifecycle: ok"));
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_round_trips_every_algorithm_through_scm_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let url = db.url.clone();
    let (server, creds) = start(dir.path(), Some(&url));
    assert!(run_script("scm_lifecycle.py", &server, &creds).contains("scm lifecycle: ok"));
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_authenticates_and_runs_a_pca_lifecycle_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let url = db.url.clone();
    let (server, creds) = start(dir.path(), Some(&url));
    assert!(run_script("foundation.py", &server, &creds).contains("foundation: ok"));
    assert!(run_script("pca_lifecycle.py", &server, &creds).contains("pca lifecycle: ok"));
    assert!(run_script("pca_revocation.py", &server, &creds).contains("pca revocation: ok"));
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_revoke_on_one_postgres_server_is_seen_on_the_other_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let (a, b, creds) = crate::harness::two_servers(dir.path(), &db);
    let out = run_script_with(
        "pca_revocation.py",
        &a,
        &creds,
        &[("OPENCCM_OBSERVER_ENDPOINT", &b.base_url)],
    );
    assert!(out.contains("pca revocation: ok"), "{out}");
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
}

/// Runs `openccm admin` on the server's data directory; returns stdout.
fn admin(data: &Path, args: &[&str]) -> String {
    let out = Command::new(crate::harness::binary())
        .arg("admin")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run openccm admin");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "openccm admin {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(label))
        .and_then(|l| l.split(':').nth(1))
        .map(|v| v.split_whitespace().next().unwrap_or(""))
        .unwrap_or_else(|| panic!("no {label} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_works_as_an_iam_user_with_exactly_its_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (server, creds) = start(dir.path(), None);
    let data = dir.path().join("data");
    let project = "0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab";
    // The account administrator sets the user up with the CLI.
    let account = &creds.domain_name;
    admin(
        &data,
        &[
            "user",
            "create",
            "--account",
            account,
            "--name",
            "viewer",
            "--no-password",
        ],
    );
    let key = admin(
        &data,
        &["key", "create", "--account", account, "--user", "viewer"],
    );
    let (ak, sk) = (
        field(&key, "access key (AK)"),
        field(&key, "secret key (SK)"),
    );
    let document = dir.path().join("policy.json");
    std::fs::write(
        &document,
        format!(
            r#"{{"Version": "5.0", "Statement": [{{"Effect": "Allow", "Action": ["scm:cert:get"],
                "Condition": {{"StringEquals": {{"g:EnterpriseProjectId": ["{project}"], "g:ResourceTag/env": ["prod"]}}}}}}]}}"#
        ),
    )
    .unwrap();
    admin(
        &data,
        &[
            "policy",
            "create",
            "--account",
            account,
            "--name",
            "show-prod-in-x",
            "--document",
            document.to_str().unwrap(),
        ],
    );
    admin(
        &data,
        &[
            "policy",
            "attach",
            "--account",
            account,
            "--name",
            "show-prod-in-x",
            "--user",
            "viewer",
        ],
    );
    let listed = admin(
        &data,
        &["key", "list", "--account", account, "--user", "viewer"],
    );
    assert!(
        listed.contains(ak) && !listed.contains(sk),
        "keys are listed without secrets"
    );
    let out = run_script_with(
        "iam_narrow.py",
        &server,
        &creds,
        &[
            ("OPENCCM_USER_AK", ak),
            ("OPENCCM_USER_SK", sk),
            ("OPENCCM_PROJECT", project),
        ],
    );
    assert!(out.contains("iam narrow policy: ok"), "{out}");

    // A second account from the CLI is a separate tenant.
    let other = admin(&data, &["account", "create", "--name", "tenant-b"]);
    assert!(field(&other, "account (domain) id").len() == 32);
    let accounts = admin(&data, &["account", "list"]);
    assert!(accounts.contains("tenant-b") && accounts.contains(account.as_str()));
    // Rotation: a new key, the old one disabled.
    let rotated = admin(
        &data,
        &["key", "rotate", "--account", account, "--access-key", ak],
    );
    let new_ak = field(&rotated, "new access key (AK)");
    let listed = admin(
        &data,
        &["key", "list", "--account", account, "--user", "viewer"],
    );
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(ak) && l.contains("inactive")),
        "{listed}"
    );
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(new_ak) && l.contains(" active")),
        "{listed}"
    );
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issued_certificates_pass_pkilint_openssl_and_keytool() {
    let dir = tempfile::tempdir().unwrap();
    let (server, creds) = start(dir.path(), None);
    let out = run_script("pca_external.py", &server, &creds);
    assert!(out.contains("pca external checks: ok"), "{out}");
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (server, creds) = start(dir.path(), None);
    run_script("foundation.py", &server, &creds);
    let client = reqwest::Client::new();
    let token = password_token(&client, &server, &creds).await;
    for _ in 0..3 {
        let r = client
            .get(format!(
                "{}/v1/private-certificates?limit=5",
                server.base_url
            ))
            .header("x-auth-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // A bad token and a bad signature are logged as refusals, without the credential.
    let forged = format!("{token}x");
    let r = client
        .get(format!("{}/v1/private-certificates", server.base_url))
        .header("x-auth-token", &forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = signed_with(
        &client,
        &server,
        &creds.access_key,
        "wrong-secret-key",
        "GET",
        "/v1/private-certificates",
        None,
    )
    .await;
    assert_eq!(r.status(), 401);
    let root = r#"{"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256", "validity": {"type": "YEAR", "value": 1},
        "distinguished_name": {"common_name": "Log Root", "country": "CN", "state": "s", "locality": "l", "organization": "o", "organizational_unit": "u"}}"#;
    let r = client
        .post(format!(
            "{}/v1/private-certificate-authorities",
            server.base_url
        ))
        .header("x-auth-token", &token)
        .header("content-type", "application/json")
        .body(root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let log = server.log();
    assert!(log.contains("request"), "the log has request lines");
    assert!(log.lines().count() > 10);
    for (what, secret) in [
        ("secret key", creds.secret_key.as_str()),
        ("password", creds.password.as_str()),
        ("token", token.as_str()),
        ("token prefix", &token[..40]),
    ] {
        assert!(!log.contains(secret), "the {what} appears in the log");
    }
    assert!(!log.contains("BEGIN PRIVATE KEY") && !log.contains("PRIVATE KEY-----"));
    assert!(
        !log.to_ascii_lowercase().contains("signature="),
        "no Authorization header in the log"
    );
    assert_eq!(server.terminate(), 0);
}

/// A PKCS#11 CA through the official SDK: CA keys made and used in a
/// SoftHSM2 token, the whole PCA lifecycle and revocation (RSA and EC CAs;
/// SM2 refused), SCM with token-wrapped keys, a restart that finds the keys,
/// and the token's key objects sensitive and not extractable.
// A plain test, not a tokio one: the environment is set while this is the
// process's only thread.
#[test]
fn the_sdk_runs_the_pca_lifecycle_with_ca_keys_in_a_softhsm_token() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = openccm_testkit::softhsm::SoftHsm::new(dir.path(), "openccm-sdk");
    // SoftHSM2 reads its configuration from the environment: the server
    // (a child) inherits it, and so does this process's own check below.
    let (name, value) = hsm.env();
    std::env::set_var(name, value);
    let data = dir.path().join("data");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--log",
        "debug",
        "--pkcs11-module",
        hsm.module.to_str().unwrap(),
        "--pkcs11-token",
        &hsm.label,
        "--pkcs11-pin-file",
        hsm.pin_file.to_str().unwrap(),
    ];
    let server = Server::start(&args, dir.path());
    let creds = Credentials::read(&data);
    // The lifecycle counts the account's CAs: it runs first.
    assert!(run_script("pca_lifecycle.py", &server, &creds).contains("pca lifecycle: ok"));
    let before = [("OPENCCM_PHASE", "before")];
    let out = run_script_with("pca_pkcs11.py", &server, &creds, &before);
    assert!(out.contains("pca pkcs11 before: ok"), "{out}");
    let deleted = field(&out, "deleted pending CA: ").to_owned();
    // SCM keys (generated CSR keys, imports) are exportable: in software,
    // wrapped by the token.
    let no_sm2 = [(
        "OPENCCM_CA_ALGORITHMS",
        "RSA2048,RSA3072,RSA4096,EC256,EC384",
    )];
    assert!(
        run_script_with("scm_lifecycle.py", &server, &creds, &no_sm2).contains("scm lifecycle: ok")
    );
    let rsa_and_ec = [("OPENCCM_CA_ALGORITHMS", "RSA2048,EC256")];
    assert!(
        run_script_with("pca_revocation.py", &server, &creds, &rsa_and_ec)
            .contains("pca revocation: ok")
    );
    assert_eq!(server.terminate(), 0);

    let server = Server::start(&args, dir.path());
    let after = [("OPENCCM_PHASE", "after")];
    let out = run_script_with("pca_pkcs11.py", &server, &creds, &after);
    assert!(out.contains("pca pkcs11 after: ok"), "{out}");
    assert_eq!(server.terminate(), 0);

    // What the token holds: the key of every CA made above but the one
    // deleted while pending (the lifecycle's four, scm_lifecycle.py's five
    // roots, pca_pkcs11.py's root and subordinate, the revocation script's
    // two), each sensitive and not
    // extractable, labelled with its owner; no certificate key.
    let keyring = openccm_custody::Keyring::load_or_create(&data.join("master.key"))
        .unwrap()
        .0;
    let config = openccm_custody::Pkcs11Config {
        module: hsm.module.clone(),
        token_label: hsm.label.clone(),
        pin: zeroize::Zeroizing::new(openccm_testkit::softhsm::PIN.to_owned()),
    };
    let store =
        openccm_custody::Pkcs11KeyStore::open(&config, std::sync::Arc::new(keyring)).unwrap();
    let keys = store.private_keys().unwrap();
    assert_eq!(keys.len(), 13, "{keys:?}");
    assert!(
        keys.iter().all(|k| k.label != format!("ca:{deleted}")),
        "{keys:?}"
    );
    for key in &keys {
        assert!(key.sensitive && !key.extractable, "{key:?}");
        assert!(key.label.starts_with("ca:"), "{key:?}");
    }
}
