//! Tag conditions on private CAs and certificates.

use openccm_testkit::both_backends;
use serde_json::json;

use super::*;
use crate::common::ok;

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
        // So do the OpenCCM list extensions, alone or together (each takes
        // another path to its total and page in the store).
        for q in [
            format!("issuer_id={ca}"),
            "tag_key=env".to_owned(),
            "key_algorithm=EC256".to_owned(),
            format!("expires_before={}", app.clock.now_ms() + 31 * 86_400_000),
            format!("issuer_id={ca}&tag_key=env&status=ISSUED"),
        ] {
            let list = ok(
                &u.call(&app, "GET", &format!("{certs}?{q}"), None).await,
                200,
            );
            assert_eq!(list["total"], 1, "{q}: {list}");
            assert_eq!(list["certificates"][0]["certificate_id"], prod, "{q}");
        }
        let none = ok(
            &u.call(
                &app,
                "GET",
                &format!("{certs}?tag_key=env&tag_value=dev"),
                None,
            )
            .await,
            200,
        );
        assert_eq!(none["total"], 0, "{none}");
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
