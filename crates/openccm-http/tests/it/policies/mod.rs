//! IAM users, access keys, groups and identity policies over HTTP, on both
//! stores: the administration API (`admin.rs`), a matrix of actions ×
//! policies × resources (Allow, Deny precedence, wildcards, aliases, each
//! condition key) through the real routes (`decisions.rs`), and tag
//! conditions on private CAs and certificates (`tags.rs`). The helpers they
//! share are here.

mod admin;
mod decisions;
mod tags;

use crate::common::ok;
use openccm_testkit::{TestApp, TestResponse};
use serde_json::{json, Value};

pub(super) const PROJECT: &str = "0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab";
pub(super) const OTHER_PROJECT: &str = "7e57ab1e-0000-4c7b-9c5e-0123456789ab";

pub(super) async fn admin_post(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.signed("POST", path, Some(&body.to_string())).await
}

/// An IAM user with an access key.
pub(crate) struct Member {
    pub(crate) user_id: String,
    ak: String,
    sk: String,
    domain_id: String,
}

impl Member {
    pub(crate) async fn call(
        &self,
        app: &TestApp,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        let body = body.map(|b| b.to_string());
        app.signed_as(
            &self.ak,
            &self.sk,
            &self.domain_id,
            method,
            path,
            body.as_deref(),
        )
        .await
    }
}

pub(crate) async fn member(app: &TestApp, name: &str) -> Member {
    let r = admin_post(
        app,
        "/v3/users",
        json!({"user": {"name": name, "password": "Secret-123"}}),
    )
    .await;
    let user = ok(&r, 201)["user"].clone();
    assert_eq!(user["is_root_user"], false);
    let user_id = user["id"].as_str().unwrap().to_owned();
    let r = admin_post(
        app,
        "/v3.0/OS-CREDENTIAL/credentials",
        json!({"credential": {"user_id": user_id, "description": "test"}}),
    )
    .await;
    let cred = ok(&r, 201)["credential"].clone();
    Member {
        user_id,
        ak: cred["access"].as_str().unwrap().to_owned(),
        sk: cred["secret"].as_str().unwrap().to_owned(),
        domain_id: app.admin.domain_id.clone(),
    }
}

pub(crate) async fn policy(app: &TestApp, name: &str, statements: Value) -> String {
    let document = json!({"Version": "5.0", "Statement": statements}).to_string();
    let r = admin_post(
        app,
        "/v5/policies",
        json!({"policy_name": name, "policy_document": document}),
    )
    .await;
    ok(&r, 200)["policy"]["policy_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn attach(app: &TestApp, policy_id: &str, user: &Member) {
    let r = admin_post(
        app,
        &format!("/v5/policies/{policy_id}/attach-user"),
        json!({"user_id": user.user_id}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
}

pub(super) async fn detach(app: &TestApp, policy_id: &str, user: &Member) {
    let r = admin_post(
        app,
        &format!("/v5/policies/{policy_id}/detach-user"),
        json!({"user_id": user.user_id}),
    )
    .await;
    assert_eq!(r.status, 204);
}

/// An SCM certificate (issued by a private CA, imported) in `project` with `tags`.
pub(super) async fn scm_cert(
    app: &TestApp,
    ca: &str,
    name: &str,
    project: &str,
    tags: &[(&str, &str)],
) -> String {
    let r = admin_post(app, "/v1/private-certificates", json!({"issuer_id": ca, "key_algorithm": "EC256",
        "distinguished_name": {"common_name": format!("{name}.example.com")}, "validity": {"type": "DAY", "value": 30}})).await;
    let id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
    let e = ok(
        &admin_post(
            app,
            &format!("/v1/private-certificates/{id}/export"),
            json!({"is_compressed": "false", "type": "OTHER"}),
        )
        .await,
        200,
    );
    let r = admin_post(app, "/v3/scm/certificates/import", json!({"name": name, "certificate": e["certificate"],
        "certificate_chain": e["certificate_chain"], "private_key": e["private_key"], "enterprise_project_id": project})).await;
    let scm_id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
    if !tags.is_empty() {
        let tags: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        ok(
            &admin_post(
                app,
                &format!("/v3/scm/{scm_id}/tags/action"),
                json!({"action": "create", "tags": tags}),
            )
            .await,
            200,
        );
    }
    scm_id
}

pub(crate) async fn root_ca(app: &TestApp, project: &str) -> String {
    let r = admin_post(app, "/v1/private-certificate-authorities", json!({"type": "ROOT", "key_algorithm": "EC256",
        "signature_algorithm": "SHA256", "enterprise_project_id": project,
        "distinguished_name": {"common_name": format!("Root {project}"), "country": "CN", "state": "GD", "locality": "SZ",
                               "organization": "O", "organizational_unit": "U"},
        "validity": {"type": "YEAR", "value": 5}})).await;
    ok(&r, 200)["ca_id"].as_str().unwrap().to_owned()
}
