//! The OpenAPI description (crates/openccm-http/src/openapi.rs): served at
//! `/openapi.json`, equal to the copy kept in docs/api/openapi.json, true to
//! the router, and checked against live answers by schemathesis
//! (tests/schemathesis/) with AK/SK signing on both stores.
//!
//! `OPENCCM_BLESS=1` rewrites docs/api/openapi.json from the served one.
//! `OPENCCM_SCHEMATHESIS_EXAMPLES` and `OPENCCM_SCHEMATHESIS_SEED` lengthen
//! or vary the schemathesis run (README, "The API description").

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{pg_database, post_json, Credentials, Server};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn start(dir: &Path, database_url: Option<&str>) -> (Server, Credentials) {
    let data = dir.join("data");
    let mut args = vec!["--data-dir", data.to_str().unwrap()];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let server = Server::start(&args, dir);
    let creds = Credentials::read(&data);
    (server, creds)
}

async fn served_description(client: &reqwest::Client, server: &Server) -> String {
    let response = client
        .get(format!("{}/openapi.json", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "the description is JSON"
    );
    response.text().await.unwrap()
}

/// Every operation of the description: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_description_is_the_one_kept_in_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _creds) = start(dir.path(), None);
    let client = reqwest::Client::new();
    let served = served_description(&client, &server).await;
    let kept_path = repository().join("docs/api/openapi.json");
    if std::env::var_os("OPENCCM_BLESS").is_some() {
        std::fs::write(&kept_path, &served).unwrap();
    }
    let kept = std::fs::read_to_string(&kept_path).unwrap_or_default();
    assert!(
        kept == served,
        "docs/api/openapi.json differs from what the server describes: \
         run `OPENCCM_BLESS=1 cargo test -p openccm-server --test it openapi::the_served_description` and commit it"
    );

    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    // Every route of the PCA, SCM, IAM, revocation and health families.
    assert!(ops.len() >= 100, "{} operations", ops.len());
    let mut ids = HashSet::new();
    let mut refused_always = BTreeSet::new();
    let schemes: BTreeSet<&str> = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(schemes, BTreeSet::from(["aksk", "token"]));
    let public: BTreeSet<(String, String)> = ops
        .iter()
        .filter(|(_, _, op)| op["security"] == serde_json::json!([{}]))
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    let expected_public: BTreeSet<(String, String)> = [
        ("get", "/health"),
        ("get", "/openapi.json"),
        ("post", "/v3/auth/tokens"),
        ("get", "/pca/crl/{ca_id}/{file}"),
        ("post", "/pca/ocsp/{ca_id}"),
        ("get", "/pca/ocsp/{ca_id}/{request}"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(
        public, expected_public,
        "the routes that take no credential"
    );
    for (method, path, op) in &ops {
        let id = op["operationId"].as_str().unwrap();
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        // Each path parameter is declared, and nothing else is.
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(in_path, declared, "{method} {path}: path parameters");
        let responses = op["responses"].as_object().unwrap();
        if !responses.keys().any(|s| s.starts_with('2')) {
            refused_always.insert(format!("{method} {path}"));
        }
        if !public.contains(&(method.clone(), path.clone())) {
            assert!(
                responses.contains_key("401"),
                "{method} {path}: an authenticated route answers 401"
            );
        }
    }
    // Only the calls of Huawei Cloud's own services (billing, OBS,
    // deployment to cloud services) have no success answer here.
    let cloud_only: BTreeSet<String> = [
        "post /v1/private-certificate-authorities/order",
        "post /v1/private-certificate-authorities/agencies",
        "get /v1/private-certificate-authorities/agency",
        "get /v1/private-certificate-authorities/obs/agencies",
        "post /v1/private-certificate-authorities/obs/agencies",
        "get /v1/private-certificate-authorities/obs/buckets",
        "post /v3/scm/certificates/{certificate_id}/push",
        "post /v3/scm/certificates/{certificate_id}/batch-push",
        "post /v3/scm/certificates/{certificate_id}/deploy",
        "post /v3/scm/deployed-resources",
        "post /v3/scm/certificates/buy",
        "post /v3/scm/certificates/{certificate_id}/apply",
        "post /v3/scm/certificates/{certificate_id}/cancel-cert",
        "delete /v3/scm/certificates/{cert_id}/unsubscribe",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(
        refused_always, cloud_only,
        "operations with no success answer"
    );
    assert_eq!(server.terminate(), 0);
}

/// Each described operation reaches a handler: the router knows its method
/// and path (no `APIGW.0101` "no such API", no 405).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_described_operation_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _creds) = start(dir.path(), None);
    let client = reqwest::Client::new();
    let doc: Value = serde_json::from_str(&served_description(&client, &server).await).unwrap();
    let ops = operations(&doc);
    for (method, path, _) in &ops {
        let target: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let response = client
            .request(
                method.to_uppercase().parse().unwrap(),
                format!("{}{target}", server.base_url),
            )
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap_or_default();
        assert!(
            status != 405 && body["error_code"] != "APIGW.0101",
            "{method} {path} is described but not routed: {status} {body}"
        );
    }
    // And the converse holds for a path nobody described.
    let response = client
        .get(format!("{}/v1/no-such-api", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error_code"], "APIGW.0101");
    assert_eq!(server.terminate(), 0);
}

/// Runs schemathesis (tests/schemathesis/) against `server` with the
/// description it serves, every request signed by the official SDK's
/// signer. Path parameters named `ca_id` / `certificate_id` and the body
/// field `issuer_id` are often a real CA and certificate, so that the
/// operations behind them run past their 404.
async fn schemathesis(server: &Server, creds: &Credentials, dir: &Path, examples: &str) {
    let client = reqwest::Client::new();
    let (status, ca) = post_json(
        &client,
        server,
        creds,
        "/v1/private-certificate-authorities",
        &serde_json::json!({"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
            "distinguished_name": {"common_name": "schemathesis root", "country": "CN",
                "state": "Guangdong", "locality": "Shenzhen", "organization": "OpenCCM",
                "organizational_unit": "Tests"},
            "validity": {"type": "YEAR", "value": 5}}),
    )
    .await;
    assert_eq!(status, 200, "{ca}");
    let ca_id = ca["ca_id"].as_str().unwrap().to_owned();
    let (status, cert) = post_json(
        &client,
        server,
        creds,
        "/v1/private-certificates",
        &serde_json::json!({"issuer_id": ca_id, "distinguished_name": {"common_name": "schemathesis leaf"},
            "validity": {"type": "DAY", "value": 30}}),
    )
    .await;
    assert_eq!(status, 200, "{cert}");
    let certificate_id = cert["certificate_id"].as_str().unwrap().to_owned();

    let description = dir.join("openapi.json");
    std::fs::write(&description, served_description(&client, server).await).unwrap();
    let python = std::env::var("OPENCCM_TEST_PYTHON").expect(
        "OPENCCM_TEST_PYTHON: run the suite with scripts/test, which builds the virtualenv",
    );
    let st = Path::new(&python).with_file_name("st");
    let seed = std::env::var("OPENCCM_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".to_owned());
    let examples =
        std::env::var("OPENCCM_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| examples.to_owned());
    let out = Command::new(st)
        .current_dir(dir)
        .env(
            "SCHEMATHESIS_HOOKS",
            repository().join("tests/schemathesis/hooks.py"),
        )
        .env("OPENCCM_AK", &creds.access_key)
        .env("OPENCCM_SK", &creds.secret_key)
        .env("OPENCCM_CA_ID", &ca_id)
        .env("OPENCCM_CERTIFICATE_ID", &certificate_id)
        .env("HOME", dir)
        .args(["--config-file"])
        .arg(repository().join("tests/schemathesis/schemathesis.toml"))
        .arg("run")
        .arg(&description)
        .args(["--url", &server.base_url])
        .args([
            "--max-examples",
            &examples,
            "--seed",
            &seed,
            "--workers",
            "2",
        ])
        .arg("--no-color")
        .output()
        .expect("run schemathesis (tests/sdk/requirements.txt installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    // It ran: every operation was tested and cases passed.
    let tested = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .unwrap_or_default()
        .to_owned();
    let total = operations(
        &serde_json::from_str::<Value>(&std::fs::read_to_string(&description).unwrap()).unwrap(),
    )
    .len();
    assert_eq!(tested, total.to_string(), "operations tested:\n{stdout}");
    assert!(stdout.contains(" passed"), "{stdout}");
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
    // The signature was accepted: many authenticated calls succeeded (a
    // run whose every call got 401 would pass the checks above).
    let authenticated_successes: BTreeSet<&str> = log
        .lines()
        .filter(|l| l.contains(" user=") && l.contains("request status=2"))
        .filter_map(|l| l.split("request{").nth(1)?.split(" user=").next())
        .map(|l| l.split_once(' ').map_or(l, |(_, method_path)| method_path))
        .collect();
    assert!(
        authenticated_successes.len() >= 20,
        "few authenticated calls succeeded: {authenticated_successes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_contradiction_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (server, creds) = start(dir.path(), None);
    schemathesis(&server, &creds, dir.path(), "20").await;
    assert_eq!(server.terminate(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_contradiction_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let (server, creds) = start(dir.path(), Some(&db.url));
    schemathesis(&server, &creds, dir.path(), "10").await;
    assert_eq!(server.terminate(), 0);
}
