//! The administration API: users, access keys, groups, policies.

use openccm_testkit::both_backends;
use serde_json::json;

use super::*;
use crate::common::ok;

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
