//! PCA over HTTP: every operation and documented error, on both stores.
//! The shared helpers live here; the tests by topic in the submodules.

mod acme;
mod acme_protocol;
mod cas;
mod certificates;
mod exports;
mod settings;

use std::process::Command;

use crate::common::{get, ok, post, run};
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn dn(cn: &str) -> Value {
    json!({"common_name": cn, "country": "CN", "state": "Guangdong", "locality": "Shenzhen",
           "organization": "示例组织", "organizational_unit": "IT"})
}

async fn create_root(app: &TestApp, alg: &str, hash: &str) -> String {
    let r = post(
        app,
        "/v1/private-certificate-authorities",
        json!({"type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash,
               "distinguished_name": dn(&format!("{alg} Root")), "validity": {"type": "YEAR", "value": 10}}),
    )
    .await;
    ok(&r, 200)["ca_id"].as_str().unwrap().to_owned()
}

async fn create_sub(
    app: &TestApp,
    parent: &str,
    alg: &str,
    hash: &str,
    path_length: i64,
) -> TestResponse {
    post(
        app,
        "/v1/private-certificate-authorities",
        json!({"type": "SUBORDINATE", "key_algorithm": alg, "signature_algorithm": hash, "issuer_id": parent,
               "path_length": path_length, "distinguished_name": dn(&format!("{alg} Sub")),
               "validity": {"type": "YEAR", "value": 5}}),
    )
    .await
}

async fn issue(app: &TestApp, issuer: &str, extra: Value) -> TestResponse {
    let mut body = json!({"issuer_id": issuer, "distinguished_name": {"common_name": "www.example.com"},
                          "validity": {"type": "DAY", "value": 30}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    post(app, "/v1/private-certificates", body).await
}

/// Issues with `issue` (which must succeed) and returns the certificate id.
async fn issued(app: &TestApp, issuer: &str, extra: Value) -> String {
    ok(&issue(app, issuer, extra).await, 200)["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn openssl(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn csr(
    dir: &std::path::Path,
    keyspec: &[&str],
    subject: &str,
    extra: &[&str],
) -> String {
    let mut args = vec![
        "req", "-new", "-nodes", "-keyout", "csr.key", "-out", "csr.pem", "-subj", subject,
    ];
    args.extend_from_slice(keyspec);
    args.extend_from_slice(extra);
    openssl(dir, &args);
    std::fs::read_to_string(dir.join("csr.pem")).unwrap()
}
