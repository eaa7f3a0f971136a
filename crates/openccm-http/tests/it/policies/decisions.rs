//! Every operation decided by identity policies: Allow, Deny precedence,
//! wildcards, aliases and each condition key.

use openccm_testkit::both_backends;
use serde_json::json;

use super::*;
use crate::common::ok;

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
