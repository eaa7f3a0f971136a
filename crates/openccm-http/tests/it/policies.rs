//! IAM users, access keys, groups and identity policies over HTTP, on both
//! stores: the administration API, and a matrix of actions × policies ×
//! resources (Allow, Deny precedence, wildcards, aliases, each condition
//! key) through the real routes.

use crate::common::ok;
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::{json, Value};

const PROJECT: &str = "0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab";
const OTHER_PROJECT: &str = "7e57ab1e-0000-4c7b-9c5e-0123456789ab";

async fn admin_post(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.signed("POST", path, Some(&body.to_string())).await
}

/// An IAM user with an access key.
pub(crate) struct Member {
    user_id: String,
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

async fn detach(app: &TestApp, policy_id: &str, user: &Member) {
    let r = admin_post(
        app,
        &format!("/v5/policies/{policy_id}/detach-user"),
        json!({"user_id": user.user_id}),
    )
    .await;
    assert_eq!(r.status, 204);
}

/// An SCM certificate (issued by a private CA, imported) in `project` with `tags`.
async fn scm_cert(
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

both_backends!(
    the_administrator_manages_users_keys_groups_and_policies,
    |app| async move {
        let alice = member(&app, "alice").await;
        // The SK is shown once: listing never shows it.
        let keys = ok(
            &app.signed(
                "GET",
                &format!("/v3.0/OS-CREDENTIAL/credentials?user_id={}", alice.user_id),
                None,
            )
            .await,
            200,
        );
        assert_eq!(keys["credentials"].as_array().unwrap().len(), 1);
        assert!(keys["credentials"][0].get("secret").is_none());
        assert_eq!(keys["credentials"][0]["status"], "active");
        // A second key (rotation), then no third.
        let r = admin_post(
            &app,
            "/v3.0/OS-CREDENTIAL/credentials",
            json!({"credential": {"user_id": alice.user_id}}),
        )
        .await;
        let second = ok(&r, 201)["credential"]["access"]
            .as_str()
            .unwrap()
            .to_owned();
        admin_post(
            &app,
            "/v3.0/OS-CREDENTIAL/credentials",
            json!({"credential": {"user_id": alice.user_id}}),
        )
        .await
        .assert_error(400, "IAM.9005");
        let r = app
            .signed(
                "DELETE",
                &format!("/v3.0/OS-CREDENTIAL/credentials/{second}"),
                None,
            )
            .await;
        assert_eq!(r.status, 204);

        // IAM users are authenticated but denied by default.
        let r = alice.call(&app, "GET", "/v3/scm/certificates", None).await;
        r.assert_error(403, "SCM.9004");
        let r = alice
            .call(&app, "GET", "/v1/private-certificates", None)
            .await;
        r.assert_error(403, "PCA.90010003");
        // And they cannot administer.
        alice
            .call(&app, "GET", "/v3/users", None)
            .await
            .assert_error(403, "IAM.9004");
        alice
            .call(
                &app,
                "POST",
                "/v5/policies",
                Some(json!({"policy_name": "x", "policy_document": "{}"})),
            )
            .await
            .assert_error(403, "IAM.9004");

        // A password login gives a token that carries the same (lack of) rights.
        let r = app.send(axum::http::Request::builder().method("POST").uri("/v3/auth/tokens")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "alice", "password": "Secret-123", "domain": {"name": app.admin.domain_name}}}}}}).to_string()))
            .unwrap()).await;
        assert_eq!(r.status, 201);
        let token = r.header("x-subject-token").unwrap();
        app.with_token(&token, "GET", "/v3/scm/certificates", None)
            .await
            .assert_error(403, "SCM.9004");

        // Disabling the key locks it out at once; enabling lets it back in.
        let r = app
            .signed(
                "PUT",
                &format!("/v3.0/OS-CREDENTIAL/credentials/{}", alice.ak),
                Some(&json!({"credential": {"status": "inactive"}}).to_string()),
            )
            .await;
        assert_eq!(ok(&r, 200)["credential"]["status"], "inactive");
        alice
            .call(&app, "GET", "/v3/scm/certificates", None)
            .await
            .assert_error(401, "APIGW.0301");
        let r = app
            .signed(
                "PUT",
                &format!("/v3.0/OS-CREDENTIAL/credentials/{}", alice.ak),
                Some(&json!({"credential": {"status": "active"}}).to_string()),
            )
            .await;
        assert_eq!(r.status, 200);
        alice
            .call(&app, "GET", "/v3/scm/certificates", None)
            .await
            .assert_error(403, "SCM.9004");

        // Changing the password revokes the tokens.
        let r = app
            .signed(
                "PATCH",
                &format!("/v3/users/{}", alice.user_id),
                Some(&json!({"user": {"password": "Another-456"}}).to_string()),
            )
            .await;
        assert_eq!(r.status, 200);
        app.with_token(&token, "GET", "/v3/scm/certificates", None)
            .await
            .assert_error(401, "APIGW.0301");

        // Rules on names, passwords and documents.
        admin_post(&app, "/v3/users", json!({"user": {"name": "alice"}}))
            .await
            .assert_error(409, "IAM.9002");
        admin_post(
            &app,
            "/v3/users",
            json!({"user": {"name": "bob", "password": "short"}}),
        )
        .await
        .assert_error(400, "IAM.9001");
        admin_post(
            &app,
            "/v5/policies",
            json!({"policy_name": "bad", "policy_document": "{\"Version\": \"5.0\"}"}),
        )
        .await
        .assert_error(400, "IAM.9001");
        admin_post(&app, "/v5/policies", json!({"policy_name": "bad", "policy_document":
            json!({"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"NumericGreaterThan": {"g:X": "1"}}}]}).to_string()}))
            .await.assert_error(400, "IAM.9001");
        app.signed("GET", "/v3/users/00000000000000000000000000000000", None)
            .await
            .assert_error(404, "IAM.9003");
        app.signed("DELETE", &format!("/v3/users/{}", alice.user_id), None)
            .await;
        let users = ok(&app.signed("GET", "/v3/users", None).await, 200);
        assert_eq!(
            users["users"].as_array().unwrap().len(),
            1,
            "only the administrator is left"
        );
        alice
            .call(&app, "GET", "/v3/scm/certificates", None)
            .await
            .assert_error(401, "APIGW.0301");
        // The administrator cannot be disabled.
        let admin_id = users["users"][0]["id"].as_str().unwrap().to_owned();
        app.signed(
            "PATCH",
            &format!("/v3/users/{admin_id}"),
            Some(&json!({"user": {"enabled": false}}).to_string()),
        )
        .await
        .assert_error(400, "IAM.9007");
    }
);

both_backends!(policies_decide_every_operation, |app| async move {
    let ca = root_ca(&app, PROJECT).await;
    let prod = scm_cert(&app, &ca, "prod", PROJECT, &[("env", "prod")]).await;
    let dev = scm_cert(&app, &ca, "dev", PROJECT, &[("env", "dev")]).await;
    let elsewhere = scm_cert(&app, &ca, "elsewhere", OTHER_PROJECT, &[("env", "prod")]).await;
    let u = member(&app, "carol").await;
    let show = |id: &str| format!("/v3/scm/certificates/{id}");
    let export = |id: &str| format!("/v3/scm/certificates/{id}/export");

    // 1. Exactly "show certificates in project X tagged env=prod".
    let narrow = policy(&app, "show-prod-in-x", json!([{"Effect": "Allow", "Action": ["scm:cert:get"],
            "Condition": {"StringEquals": {"g:EnterpriseProjectId": [PROJECT], "g:ResourceTag/env": ["prod"]}}}])).await;
    attach(&app, &narrow, &u).await;
    assert_eq!(
        ok(&u.call(&app, "GET", &show(&prod), None).await, 200)["id"],
        prod
    );
    u.call(&app, "GET", &show(&dev), None)
        .await
        .assert_error(403, "SCM.9004");
    u.call(&app, "GET", &show(&elsewhere), None)
        .await
        .assert_error(403, "SCM.9004");
    u.call(&app, "POST", &export(&prod), None)
        .await
        .assert_error(403, "SCM.9004");
    u.call(&app, "GET", "/v3/scm/certificates", None)
        .await
        .assert_error(403, "SCM.9004");
    u.call(&app, "DELETE", &show(&prod), None)
        .await
        .assert_error(403, "SCM.9004");
    u.call(
        &app,
        "GET",
        &format!("/v1/private-certificate-authorities/{ca}"),
        None,
    )
    .await
    .assert_error(403, "PCA.90010003");
    // An unknown id is still unknown (404), not a disclosure.
    u.call(&app, "GET", &show("scs0000000000001"), None)
        .await
        .assert_error(404, "SCM.0021");
    detach(&app, &narrow, &u).await;
    u.call(&app, "GET", &show(&prod), None)
        .await
        .assert_error(403, "SCM.9004");

    // 2. Aliases: scm:cert:download allows export (seed 000).
    let download = policy(
        &app,
        "download",
        json!([{"Effect": "Allow", "Action": "scm:cert:download"}]),
    )
    .await;
    attach(&app, &download, &u).await;
    let e = ok(&u.call(&app, "POST", &export(&dev), None).await, 200);
    assert!(e["private_key"].as_str().unwrap().contains("PRIVATE KEY"));
    u.call(&app, "GET", &show(&dev), None)
        .await
        .assert_error(403, "SCM.9004");
    detach(&app, &download, &u).await;

    // 3. Wildcards, and an explicit Deny wins over them.
    let everything = policy(
        &app,
        "scm-all",
        json!([{"Effect": "Allow", "Action": "scm:*:*"}]),
    )
    .await;
    let no_prod = policy(
        &app,
        "no-prod",
        json!([{"Effect": "Deny", "Action": "scm:cert:*",
            "Condition": {"StringEquals": {"g:ResourceTag/env": ["prod"]}}}]),
    )
    .await;
    attach(&app, &everything, &u).await;
    ok(&u.call(&app, "GET", &show(&prod), None).await, 200);
    let list = ok(
        &u.call(&app, "GET", "/v3/scm/certificates", None).await,
        200,
    );
    assert_eq!(list["total_count"], 3);
    attach(&app, &no_prod, &u).await;
    u.call(&app, "GET", &show(&prod), None)
        .await
        .assert_error(403, "SCM.9004");
    u.call(&app, "POST", &export(&elsewhere), None)
        .await
        .assert_error(403, "SCM.9004");
    ok(&u.call(&app, "GET", &show(&dev), None).await, 200);
    // Lists show (and count) only what is visible.
    let list = ok(
        &u.call(&app, "GET", "/v3/scm/certificates", None).await,
        200,
    );
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["certificates"][0]["id"], dev);
    let by_tag = ok(
        &u.call(
            &app,
            "POST",
            "/v3/scm/resource_instances/action",
            Some(json!({"action": "count"})),
        )
        .await,
        200,
    );
    assert_eq!(by_tag["total_count"], 1);
    let all_tags = ok(&u.call(&app, "GET", "/v3/scm/tags", None).await, 200);
    assert_eq!(all_tags["tags"], json!([{"key": "env", "values": ["dev"]}]));
    detach(&app, &no_prod, &u).await;

    // 4. List visibility by project: "all" never shows more.
    detach(&app, &everything, &u).await;
    let list_x = policy(
        &app,
        "list-x",
        json!([{"Effect": "Allow", "Action": ["scm:cert:list"],
            "Condition": {"StringEquals": {"g:EnterpriseProjectId": [PROJECT]}}}]),
    )
    .await;
    attach(&app, &list_x, &u).await;
    let list = ok(
        &u.call(
            &app,
            "GET",
            "/v3/scm/certificates?enterprise_project_id=all",
            None,
        )
        .await,
        200,
    );
    assert_eq!(list["total_count"], 2);
    let list = ok(
        &u.call(
            &app,
            "GET",
            &format!("/v3/scm/certificates?enterprise_project_id={OTHER_PROJECT}"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(list["total_count"], 0);
    detach(&app, &list_x, &u).await;

    // 5. Request tags and tag keys on tag writes.
    let tag_dev = policy(&app, "tag-dev", json!([{"Effect": "Allow", "Action": ["scm:cert:createTag"],
            "Condition": {"ForAllValues:StringEquals": {"g:TagKeys": ["env", "team"]}, "StringLike": {"g:RequestTag/env": ["dev*"]}}}])).await;
    attach(&app, &tag_dev, &u).await;
    let r = u
        .call(
            &app,
            "POST",
            &format!("/v3/scm/{dev}/tags"),
            Some(json!({"tag": {"key": "env", "value": "dev-2"}})),
        )
        .await;
    ok(&r, 200);
    u.call(
        &app,
        "POST",
        &format!("/v3/scm/{dev}/tags"),
        Some(json!({"tag": {"key": "env", "value": "prod"}})),
    )
    .await
    .assert_error(403, "SCM.9004");
    u.call(&app, "POST", &format!("/v3/scm/{dev}/tags/action"),
               Some(json!({"action": "create", "tags": [{"key": "env", "value": "dev"}, {"key": "owner", "value": "x"}]})))
            .await.assert_error(403, "SCM.9004");
    u.call(
        &app,
        "POST",
        &format!("/v3/scm/{dev}/tags/action"),
        Some(json!({"action": "delete", "tags": [{"key": "env"}]})),
    )
    .await
    .assert_error(403, "SCM.9004");
    detach(&app, &tag_dev, &u).await;

    // 6. PCA: project-scoped reads and creates, the common name key.
    let pca = policy(&app, "pca-x", json!([
            {"Effect": "Allow", "Action": ["pca:cert:*", "pca:ca:get"],
             "Condition": {"StringEquals": {"g:EnterpriseProjectId": [PROJECT]}}},
            {"Effect": "Allow", "Action": ["pca:ca:issueCert"],
             "Condition": {"StringEquals": {"g:EnterpriseProjectId": [PROJECT]}, "StringLike": {"pca:CommonName": ["*.internal.example.com"]}}}])).await;
    attach(&app, &pca, &u).await;
    ok(
        &u.call(
            &app,
            "GET",
            &format!("/v1/private-certificate-authorities/{ca}"),
            None,
        )
        .await,
        200,
    );
    let issue = |cn: &str, project: &str| {
        json!({"issuer_id": ca, "key_algorithm": "EC256",
            "distinguished_name": {"common_name": cn}, "validity": {"type": "DAY", "value": 1}, "enterprise_project_id": project})
    };
    let r = u
        .call(
            &app,
            "POST",
            "/v1/private-certificates",
            Some(issue("a.internal.example.com", PROJECT)),
        )
        .await;
    let cert = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
    u.call(
        &app,
        "POST",
        "/v1/private-certificates",
        Some(issue("www.example.com", PROJECT)),
    )
    .await
    .assert_error(403, "PCA.90010003");
    // A SAN cannot escape the pattern the common name obeys.
    let mut with_san = issue("c.internal.example.com", PROJECT);
    with_san["subject_alternative_names"] = json!([{"type": "DNS", "value": "www.example.com"}]);
    u.call(&app, "POST", "/v1/private-certificates", Some(with_san))
        .await
        .assert_error(403, "PCA.90010003");
    // The issuing CA is checked in its own project: a CA of another project does not sign.
    let other_ca = root_ca(&app, "0").await;
    let mut under_other = issue("d.internal.example.com", PROJECT);
    under_other["issuer_id"] = json!(other_ca);
    u.call(&app, "POST", "/v1/private-certificates", Some(under_other))
        .await
        .assert_error(403, "PCA.90010003");
    u.call(
        &app,
        "POST",
        "/v1/private-certificates",
        Some(issue("b.internal.example.com", OTHER_PROJECT)),
    )
    .await
    .assert_error(403, "PCA.90010003");
    ok(
        &u.call(
            &app,
            "GET",
            &format!("/v1/private-certificates/{cert}"),
            None,
        )
        .await,
        200,
    );
    let list = ok(
        &u.call(&app, "GET", "/v1/private-certificates", None).await,
        200,
    );
    assert_eq!(
        list["total"], 1,
        "the certificates the admin issued in project 0 are not visible"
    );
    u.call(&app, "GET", "/v1/private-certificate-authorities", None)
        .await
        .assert_error(403, "PCA.90010003");
    u.call(
        &app,
        "POST",
        "/v1/private-certificate-authorities",
        Some(json!({"type": "ROOT"})),
    )
    .await
    .assert_error(403, "PCA.90010003");

    // 7. Importing a certificate for a CSR made here takes the CSR's key:
    //    that needs the right to read it.
    let r = admin_post(
        &app,
        "/v3/scm/csr",
        json!({"name": "adm", "domain_name": "adm.example.com",
        "private_key_algo": "EC_P256", "usage": "PERSONAL"}),
    )
    .await;
    let csr_id = ok(&r, 201)["id"].as_str().unwrap().to_owned();
    let csr_pem = ok(
        &app.signed("GET", &format!("/v3/scm/csr/{csr_id}"), None)
            .await,
        200,
    )["csr"]
        .clone();
    let r = admin_post(
        &app,
        "/v1/private-certificates/csr",
        json!({"issuer_id": ca, "csr": csr_pem,
        "validity": {"type": "DAY", "value": 1}}),
    )
    .await;
    let for_csr = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
    let pem = ok(
        &admin_post(
            &app,
            &format!("/v1/private-certificates/{for_csr}/export"),
            json!({"is_compressed": "false", "type": "OTHER"}),
        )
        .await,
        200,
    );
    detach(&app, &pca, &u).await;
    let upload_export = policy(
        &app,
        "upload-export",
        json!([{"Effect": "Allow",
        "Action": ["scm:cert:upload", "scm:cert:export", "scm:cert:get"]}]),
    )
    .await;
    attach(&app, &upload_export, &u).await;
    let body = json!({"name": "steal", "certificate": pem["certificate"], "certificate_chain": pem["certificate_chain"]});
    u.call(
        &app,
        "POST",
        "/v3/scm/certificates/import",
        Some(body.clone()),
    )
    .await
    .assert_error(403, "SCM.9004");
    let csr_key = policy(
        &app,
        "csr-key",
        json!([{"Effect": "Allow", "Action": ["scm::getCsrPrivateKey"]}]),
    )
    .await;
    attach(&app, &csr_key, &u).await;
    ok(
        &u.call(&app, "POST", "/v3/scm/certificates/import", Some(body))
            .await,
        200,
    );
    detach(&app, &upload_export, &u).await;
    detach(&app, &csr_key, &u).await;
    attach(&app, &pca, &u).await;

    // 8. Groups: a policy attached to a group applies to its members.
    detach(&app, &pca, &u).await;
    let r = admin_post(&app, "/v3/groups", json!({"group": {"name": "readers"}})).await;
    let group = ok(&r, 201)["group"]["id"].as_str().unwrap().to_owned();
    let r = app
        .signed(
            "PUT",
            &format!("/v3/groups/{group}/users/{}", u.user_id),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = admin_post(
        &app,
        &format!("/v5/policies/{narrow}/attach-group"),
        json!({"group_id": group}),
    )
    .await;
    assert_eq!(r.status, 204);
    ok(&u.call(&app, "GET", &show(&prod), None).await, 200);
    let r = app
        .signed(
            "DELETE",
            &format!("/v3/groups/{group}/users/{}", u.user_id),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    u.call(&app, "GET", &show(&prod), None)
        .await
        .assert_error(403, "SCM.9004");
});

both_backends!(
    tags_on_private_cas_and_certificates_decide_access,
    |app| async move {
        const PROJECT: &str = "0";
        let certs = "/v1/private-certificates";
        let ca = root_ca(&app, PROJECT).await;
        let other_ca = root_ca(&app, "7d1c3a52-0f0e-4a4c-9a57-0123456789ab").await;
        let issue = |cn: &'static str| {
            let (app, ca) = (&app, ca.clone());
            async move {
                let r = admin_post(app, "/v1/private-certificates", json!({"issuer_id": ca,
                "distinguished_name": {"common_name": cn}, "validity": {"type": "DAY", "value": 30}})).await;
                ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned()
            }
        };
        let prod = issue("prod.example.com").await;
        let dev = issue("dev.example.com").await;
        let r = admin_post(
            &app,
            &format!("{certs}/{prod}/tags"),
            json!({"tag": {"key": "env", "value": "prod"}}),
        )
        .await;
        assert_eq!(r.status, 204);
        let r = admin_post(
            &app,
            &format!("/v1/private-certificate-authorities/{ca}/tags"),
            json!({"tag": {"key": "env", "value": "prod"}}),
        )
        .await;
        assert_eq!(r.status, 204);

        let u = member(&app, "tag-reader").await;
        let prod_only = policy(&app, "pca-prod-only", json!([{"Effect": "Allow",
        "Action": ["pca:cert:get", "pca:cert:list", "pca:ca:get", "pca:ca:list", "pca:cert:listTags"],
        "Condition": {"StringEquals": {"g:ResourceTag/env": ["prod"]}}}])).await;
        attach(&app, &prod_only, &u).await;
        ok(
            &u.call(&app, "GET", &format!("{certs}/{prod}"), None).await,
            200,
        );
        u.call(&app, "GET", &format!("{certs}/{dev}"), None)
            .await
            .assert_error(403, "PCA.90010003");
        ok(
            &u.call(
                &app,
                "GET",
                &format!("/v1/private-certificate-authorities/{ca}"),
                None,
            )
            .await,
            200,
        );
        u.call(
            &app,
            "GET",
            &format!("/v1/private-certificate-authorities/{other_ca}"),
            None,
        )
        .await
        .assert_error(403, "PCA.90010003");
        // Lists, tag queries and the account's keys show only what the tags allow.
        let list = ok(&u.call(&app, "GET", certs, None).await, 200);
        assert_eq!(list["total"], 1, "{list}");
        assert_eq!(list["certificates"][0]["certificate_id"], prod);
        let found = ok(
            &u.call(
                &app,
                "POST",
                &format!("{certs}/resource-instances/filter"),
                Some(json!({})),
            )
            .await,
            200,
        );
        assert_eq!(found["total_count"], 1);
        assert_eq!(found["resources"][0]["resource_id"], prod);
        let keys = ok(
            &u.call(&app, "GET", &format!("{certs}/tags"), None).await,
            200,
        );
        assert_eq!(keys["tags"], json!([{"key": "env", "values": ["prod"]}]));
        // Tagging needs its own action, and a request tag condition binds it.
        u.call(
            &app,
            "POST",
            &format!("{certs}/{prod}/tags"),
            Some(json!({"tag": {"key": "team", "value": "web"}})),
        )
        .await
        .assert_error(403, "PCA.90010003");
        let tag_dev = policy(
            &app,
            "pca-tag-dev",
            json!([{"Effect": "Allow", "Action": "pca:cert:createTag",
        "Condition": {"StringEquals": {"g:RequestTag/env": ["dev"]}}}]),
        )
        .await;
        attach(&app, &tag_dev, &u).await;
        let r = u
            .call(
                &app,
                "POST",
                &format!("{certs}/{dev}/tags"),
                Some(json!({"tag": {"key": "env", "value": "dev"}})),
            )
            .await;
        assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
        u.call(
            &app,
            "POST",
            &format!("{certs}/{dev}/tags"),
            Some(json!({"tag": {"key": "env", "value": "prod"}})),
        )
        .await
        .assert_error(403, "PCA.90010003");
        // Retagging moves a certificate out of reach.
        let r = admin_post(
            &app,
            &format!("{certs}/{prod}/tags"),
            json!({"tag": {"key": "env", "value": "retired"}}),
        )
        .await;
        assert_eq!(r.status, 204);
        u.call(&app, "GET", &format!("{certs}/{prod}"), None)
            .await
            .assert_error(403, "PCA.90010003");

        // Removing a tag by its key alone is judged by the value it would remove.
        let guard = policy(
            &app,
            "pca-untag-but-prod",
            json!([
            {"Effect": "Allow", "Action": "pca:cert:deleteTag"},
            {"Effect": "Deny", "Action": "pca:cert:deleteTag",
             "Condition": {"StringEquals": {"g:RequestTag/env": ["prod"]}}}]),
        )
        .await;
        attach(&app, &guard, &u).await;
        let r = admin_post(
            &app,
            &format!("{certs}/{dev}/tags"),
            json!({"tag": {"key": "env", "value": "prod"}}),
        )
        .await;
        assert_eq!(r.status, 204);
        let untag = json!({"tags": [{"key": "env"}]});
        u.call(
            &app,
            "DELETE",
            &format!("{certs}/{dev}/tags/delete"),
            Some(untag.clone()),
        )
        .await
        .assert_error(403, "PCA.90010003");
        let tags = ok(
            &app.signed("GET", &format!("{certs}/{dev}/tags"), None)
                .await,
            200,
        );
        assert_eq!(tags["tags"], json!([{"key": "env", "value": "prod"}]));
        let r = admin_post(
            &app,
            &format!("{certs}/{dev}/tags"),
            json!({"tag": {"key": "env", "value": "dev"}}),
        )
        .await;
        assert_eq!(r.status, 204);
        let r = u
            .call(
                &app,
                "DELETE",
                &format!("{certs}/{dev}/tags/delete"),
                Some(untag),
            )
            .await;
        assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
        let tags = ok(
            &app.signed("GET", &format!("{certs}/{dev}/tags"), None)
                .await,
            200,
        );
        assert_eq!(tags["tags"], json!([]));
    }
);
