//! CRL and OCSP settings, and tags on CAs and certificates.

use super::*;

both_backends!(
    crl_and_ocsp_settings_are_stored_and_used,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let root = create_root(&app, "EC256", "SHA256").await;
        let path = format!("/v1/private-certificate-authorities/{root}");
        post(
            &app,
            &format!("{path}/crl/enable"),
            json!({"valid_days": 7}),
        )
        .await
        .assert_error(400, "PCA.00020001");
        post(
            &app,
            &format!("{path}/crl/enable"),
            json!({"obs_bucket_name": "b", "valid_days": 31}),
        )
        .await
        .assert_error(400, "PCA.00020001");
        ok(
            &post(
                &app,
                &format!("{path}/crl/enable"),
                json!({"obs_bucket_name": "crl-bucket", "valid_days": 7, "crl_name": "root-crl"}),
            )
            .await,
            204,
        );
        ok(
            &post(
                &app,
                &format!("{path}/ocsp/switch"),
                json!({"ocsp_switch": true}),
            )
            .await,
            204,
        );
        post(&app, &format!("{path}/ocsp/switch"), json!({}))
            .await
            .assert_error(400, "PCA.00020001");
        let ca = ok(&get(&app, &path).await, 200);
        assert_eq!(ca["crl_configuration"]["enabled"], true);
        assert_eq!(ca["crl_configuration"]["valid_days"], 7);
        assert_eq!(ca["crl_configuration"]["obs_bucket_name"], "crl-bucket");
        let url = format!("http://openccm.test/pca/crl/{root}/root-crl.crl");
        assert_eq!(ca["crl_configuration"]["crl_dis_point"], url);
        let id = issued(&app, &root, json!({})).await;
        let exported = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{id}/export"),
                json!({"is_compressed": "false", "type": "OTHER"}),
            )
            .await,
            200,
        );
        std::fs::write(
            d.join("leaf.pem"),
            exported["certificate"].as_str().unwrap(),
        )
        .unwrap();
        let text = openssl(d, &["x509", "-in", "leaf.pem", "-noout", "-text"]);
        assert!(text.contains(&format!("URI:{url}")), "{text}");
        assert!(
            text.contains(&format!("OCSP - URI:http://openccm.test/pca/ocsp/{root}")),
            "{text}"
        );
        ok(
            &app.signed("POST", &format!("{path}/crl/disable"), None)
                .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &path).await, 200)["crl_configuration"]["enabled"],
            false
        );
        // Revoking CAs: never a root; a subordinate for good.
        post(&app, &format!("{path}/revoke"), json!({}))
            .await
            .assert_error(400, "PCA.90030001");
        let sub = ok(&create_sub(&app, &root, "EC256", "SHA256", 0).await, 200)["ca_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sub_path = format!("/v1/private-certificate-authorities/{sub}");
        ok(
            &post(
                &app,
                &format!("{sub_path}/revoke"),
                json!({"reason": "SUPERSEDED"}),
            )
            .await,
            204,
        );
        assert_eq!(ok(&get(&app, &sub_path).await, 200)["status"], "REVOKED");
        app.signed("POST", &format!("{sub_path}/enable"), None)
            .await
            .assert_error(400, "PCA.90030001");
        issue(&app, &sub, json!({}))
            .await
            .assert_error(400, "PCA.90030001");
        ok(&app.signed("DELETE", &sub_path, None).await, 204);
        ok(
            &app.signed("POST", &format!("{sub_path}/restore"), None)
                .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &sub_path).await, 200)["status"],
            "REVOKED",
            "restoring never un-revokes"
        );
        // Cloud-only operations say so.
        post(&app, "/v1/private-certificate-authorities/order", json!({}))
            .await
            .assert_error(400, "PCA.90020005");
        get(&app, "/v1/private-certificate-authorities/obs/buckets")
            .await
            .assert_error(400, "PCA.90020005");
        let console = ok(&get(&app, "/v1/pca/config/console").await, 200);
        assert_eq!(console["is_support_sm2"], true);
    }
);

async fn delete_with(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.signed("DELETE", path, Some(&body.to_string())).await
}

fn resource_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

both_backends!(
    cas_and_certificates_carry_tags_and_filter_by_them,
    |app| async move {
        let cas = "/v1/private-certificate-authorities";
        let certs = "/v1/private-certificates";
        let ca = create_root(&app, "EC256", "SHA256").await;
        let other_ca = create_root(&app, "EC384", "SHA384").await;
        let a = issued(
            &app,
            &ca,
            json!({"distinguished_name": {"common_name": "tagged-a.example.com"}}),
        )
        .await;
        let b = issued(
            &app,
            &ca,
            json!({"distinguished_name": {"common_name": "tagged-b.example.com"}}),
        )
        .await;
        let c = issued(
            &app,
            &ca,
            json!({"distinguished_name": {"common_name": "plain-c.example.com"}}),
        )
        .await;

        // One tag, then a batch; one value per key, the later one wins.
        let r = post(
            &app,
            &format!("{cas}/{ca}/tags"),
            json!({"tag": {"key": "env", "value": "prod"}}),
        )
        .await;
        assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
        assert!(r.body.is_empty());
        ok(&post(&app, &format!("{cas}/{ca}/tags/create"),
        json!({"tags": [{"key": "team", "value": "pki"}, {"key": "env", "value": "staging"}]})).await, 204);
        let tags = ok(&get(&app, &format!("{cas}/{ca}/tags")).await, 200);
        assert_eq!(
            tags["tags"],
            json!([{"key": "env", "value": "staging"}, {"key": "team", "value": "pki"}])
        );
        assert_eq!(
            ok(&get(&app, &format!("{cas}/{other_ca}/tags")).await, 200)["tags"],
            json!([])
        );

        ok(
            &post(
                &app,
                &format!("{certs}/{a}/tags"),
                json!({"tag": {"key": "env", "value": "prod"}}),
            )
            .await,
            204,
        );
        ok(
            &post(
                &app,
                &format!("{certs}/{a}/tags/create"),
                json!({"tags": [{"key": "team", "value": "web"}]}),
            )
            .await,
            204,
        );
        ok(&post(&app, &format!("{certs}/{b}/tags/create"),
        json!({"tags": [{"key": "env", "value": "dev"}, {"key": "owner", "value": "ops@example.com"}]})).await, 204);
        assert_eq!(
            ok(&get(&app, &format!("{certs}/{a}/tags")).await, 200)["tags"],
            json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "web"}])
        );

        // The account's keys: CA tags and certificate tags are apart.
        assert_eq!(
            ok(&get(&app, &format!("{cas}/tags")).await, 200)["tags"],
            json!([{"key": "env", "values": ["staging"]}, {"key": "team", "values": ["pki"]}])
        );
        assert_eq!(
            ok(&get(&app, &format!("{certs}/tags")).await, 200)["tags"],
            json!([{"key": "env", "values": ["dev", "prod"]}, {"key": "owner", "values": ["ops@example.com"]},
               {"key": "team", "values": ["web"]}])
        );

        // Filter: keys ANDed, values of one key ORed, no values = any value.
        let filter = |body: Value| {
            let app = &app;
            async move {
                ok(
                    &post(app, &format!("{certs}/resource-instances/filter"), body).await,
                    200,
                )
            }
        };
        let r = filter(json!({"tags": [{"key": "env", "values": ["prod"]}]})).await;
        assert_eq!(resource_ids(&r), vec![a.clone()]);
        assert_eq!(r["total_count"], 1);
        let found = &r["resources"][0];
        assert_eq!(found["resource_name"], "tagged-a.example.com");
        assert_eq!(
            found["tags"],
            json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "web"}])
        );
        // The detail is the certificate as ShowCertificate shows it.
        let shown = ok(&get(&app, &format!("{certs}/{a}")).await, 200);
        assert_eq!(found["resource_detail"], shown);
        let r = filter(json!({"tags": [{"key": "env", "values": []}]})).await;
        assert_eq!(resource_ids(&r), sorted(vec![a.clone(), b.clone()]));
        let r = filter(json!({"tags": [{"key": "env", "values": ["prod", "dev"]}, {"key": "owner", "values": []}]})).await;
        assert_eq!(resource_ids(&r), vec![b.clone()]);
        let r = filter(json!({})).await;
        assert_eq!(
            resource_ids(&r),
            sorted(vec![a.clone(), b.clone(), c.clone()])
        );
        assert_eq!(
            r["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["resource_id"] == c.as_str())
                .unwrap()["tags"],
            json!([])
        );
        let r = filter(json!({"matches": [{"key": "resource_name", "value": "tagged"}]})).await;
        assert_eq!(resource_ids(&r), sorted(vec![a.clone(), b.clone()]));
        let r = filter(json!({"limit": 10, "offset": 2})).await;
        assert_eq!(r["total_count"], 3);
        assert_eq!(r["resources"].as_array().unwrap().len(), 1);
        let r = ok(
            &post(
                &app,
                &format!("{certs}/resource-instances/count"),
                json!({"tags": [{"key": "env", "values": []}], "limit": 10, "offset": 5}),
            )
            .await,
            200,
        );
        assert_eq!(r, json!({"total_count": 2}));

        let r = ok(
            &post(
                &app,
                &format!("{cas}/resource-instances/filter"),
                json!({"tags": [{"key": "team", "values": ["pki"]}]}),
            )
            .await,
            200,
        );
        assert_eq!(resource_ids(&r), vec![ca.clone()]);
        assert_eq!(
            r["resources"][0]["resource_detail"],
            ok(&get(&app, &format!("{cas}/{ca}")).await, 200)
        );
        assert_eq!(r["resources"][0]["resource_name"], "EC256 Root");
        let r = ok(
            &post(&app, &format!("{cas}/resource-instances/count"), json!({})).await,
            200,
        );
        assert_eq!(r["total_count"], 2);

        // Batch delete: by key and value, or by key alone.
        ok(
            &delete_with(
                &app,
                &format!("{cas}/{ca}/tags/delete"),
                json!({"tags": [{"key": "env", "value": "other"}, {"key": "team"}]}),
            )
            .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &format!("{cas}/{ca}/tags")).await, 200)["tags"],
            json!([{"key": "env", "value": "staging"}]),
            "a value that differs removes nothing"
        );
        ok(
            &delete_with(
                &app,
                &format!("{cas}/{ca}/tags/delete"),
                json!({"tags": [{"key": "env", "value": "staging"}]}),
            )
            .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &format!("{cas}/{ca}/tags")).await, 200)["tags"],
            json!([])
        );

        // A deleted certificate's tags go with it.
        ok(
            &app.signed("DELETE", &format!("{certs}/{b}"), None).await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &format!("{certs}/tags")).await, 200)["tags"],
            json!([{"key": "env", "values": ["prod"]}, {"key": "team", "values": ["web"]}])
        );
        post(
            &app,
            &format!("{certs}/{b}/tags"),
            json!({"tag": {"key": "k", "value": "v"}}),
        )
        .await
        .assert_error(404, "PCA.10010002");

        // At most 20 tags on one resource; nothing of a refused batch is kept.
        let twenty: Vec<Value> = (0..19)
            .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
            .collect();
        ok(
            &post(
                &app,
                &format!("{certs}/{c}/tags/create"),
                json!({"tags": twenty}),
            )
            .await,
            204,
        );
        ok(
            &post(
                &app,
                &format!("{certs}/{c}/tags"),
                json!({"tag": {"key": "k19", "value": "v"}}),
            )
            .await,
            204,
        );
        post(
            &app,
            &format!("{certs}/{c}/tags/create"),
            json!({"tags": [{"key": "k20", "value": "v"}, {"key": "k0", "value": "w"}]}),
        )
        .await
        .assert_error(400, "PCA.90020006");
        let tags = ok(&get(&app, &format!("{certs}/{c}/tags")).await, 200);
        assert_eq!(tags["tags"].as_array().unwrap().len(), 20);
        assert!(tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["value"] == "v"));

        // Documented errors.
        let missing_ca = "9f0f3a2e-1111-4c3b-8d55-4b2b0f1e2d3c";
        let missing_cert = "9f0f3a2e-2222-4c3b-8d55-4b2b0f1e2d3c";
        for (path, body, status, code) in [
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"key": "bad/key", "value": "v"}}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"key": "_sys_x", "value": "v"}}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"key": "k", "value": "a*b"}}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"value": "v"}}),
                400,
                "PCA.90020006",
            ),
            (format!("{cas}/{ca}/tags"), json!({}), 400, "PCA.90020006"),
            (
                format!("{cas}/{ca}/tags/create"),
                json!({"tags": []}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags/create"),
                json!({"tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{missing_ca}/tags"),
                json!({"tag": {"key": "k", "value": "v"}}),
                404,
                "PCA.10010002",
            ),
            (
                format!("{cas}/not-a-uuid/tags"),
                json!({"tag": {"key": "k", "value": "v"}}),
                400,
                "PCA.00020201",
            ),
            (
                format!("{certs}/{missing_cert}/tags/create"),
                json!({"tags": [{"key": "k", "value": "v"}]}),
                404,
                "PCA.10010002",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"limit": 15}),
                400,
                "PCA.00020001",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"tags": [{"values": ["x"]}]}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"tags": [{"key": "env", "values": []}, {"key": "env", "values": ["x"]}]}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"matches": [{"key": "serial", "value": "x"}]}),
                400,
                "PCA.00020001",
            ),
            (
                format!("{cas}/resource-instances/count"),
                json!({"tags": "env"}),
                400,
                "PCA.00020001",
            ),
        ] {
            post(&app, &path, body).await.assert_error(status, code);
        }
        get(&app, &format!("{cas}/{missing_ca}/tags"))
            .await
            .assert_error(404, "PCA.10010002");
        delete_with(
            &app,
            &format!("{certs}/{c}/tags/delete"),
            json!({"tags": []}),
        )
        .await
        .assert_error(400, "PCA.90020006");

        // A CA whose scheduled deletion has passed is gone, its tags with it.
        let has_doomed = |v: &Value| {
            v["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["key"] == "doomed")
        };
        ok(
            &post(
                &app,
                &format!("{cas}/{other_ca}/tags"),
                json!({"tag": {"key": "doomed", "value": "yes"}}),
            )
            .await,
            204,
        );
        assert!(has_doomed(&ok(
            &get(&app, &format!("{cas}/tags")).await,
            200
        )));
        ok(
            &app.signed("POST", &format!("{cas}/{other_ca}/disable"), None)
                .await,
            204,
        );
        ok(
            &app.signed("DELETE", &format!("{cas}/{other_ca}?pending_days=7"), None)
                .await,
            204,
        );
        assert!(
            has_doomed(&ok(&get(&app, &format!("{cas}/tags")).await, 200)),
            "still restorable"
        );
        app.clock.advance(8 * DAY);
        assert!(!has_doomed(&ok(
            &get(&app, &format!("{cas}/tags")).await,
            200
        )));
        let r = ok(
            &post(&app, &format!("{cas}/resource-instances/count"), json!({})).await,
            200,
        );
        assert_eq!(r["total_count"], 1);
    }
);
