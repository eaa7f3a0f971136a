//! Helpers every module of the HTTP suite uses.

use std::path::Path;
use std::process::Command;

use openccm_testkit::{TestApp, TestResponse};
use serde_json::Value;

/// A POST signed as the administrator, with a JSON body.
pub async fn post(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.signed("POST", path, Some(&body.to_string())).await
}

/// A GET signed as the administrator.
pub async fn get(app: &TestApp, path: &str) -> TestResponse {
    app.signed("GET", path, None).await
}

/// `GET /v3/auth/tokens` validating `token` with itself.
pub async fn validate_token(app: &TestApp, token: &str) -> TestResponse {
    app.send(
        axum::http::Request::get("/v3/auth/tokens")
            .header("x-auth-token", token)
            .header("x-subject-token", token)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
}

/// Asserts the status; the body as JSON (`Null` when empty).
pub fn ok(r: &TestResponse, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

/// Runs `program` in `dir`: whether it succeeded, and its stdout and stderr.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
