//! Issuance limits: bounded CSR alternative names, `pca:CommonName` over
//! every name a certificate carries, and subordinate CAs from a CSR whose
//! path length and name constraints a policy can require.

use openccm_testkit::{both_backends, TestApp};
use serde_json::{json, Value};

use crate::common::{ok, post, run};
use crate::pca::{csr, openssl};
use crate::policies::{attach, member, policy, root_ca};

const EC: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

fn by_csr(ca: &str, csr: &str, extra: Value) -> Value {
    let mut body = json!({"issuer_id": ca, "csr": csr, "validity": {"type": "DAY", "value": 30}});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

both_backends!(
    a_csr_asks_for_at_most_twenty_alternative_names,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let ca = root_ca(&app, "0").await;
        let names = |n: usize| {
            let list: Vec<String> = (0..n).map(|i| format!("DNS:h{i}.example.com")).collect();
            format!("subjectAltName={}", list.join(","))
        };
        let twenty = csr(
            dir.path(),
            EC,
            "/CN=many.example.com",
            &["-addext", &names(20)],
        );
        ok(
            &post(
                &app,
                "/v1/private-certificates/csr",
                by_csr(&ca, &twenty, json!({})),
            )
            .await,
            200,
        );
        let more = csr(
            dir.path(),
            EC,
            "/CN=many.example.com",
            &["-addext", &names(21)],
        );
        let msg = post(
            &app,
            "/v1/private-certificates/csr",
            by_csr(&ca, &more, json!({})),
        )
        .await
        .assert_error(400, "PCA.90020002");
        assert!(msg.contains("more than 20"), "{msg}");
    }
);

both_backends!(
    a_common_name_condition_covers_every_name_of_every_type,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let ca = root_ca(&app, "0").await;
        let u = member(&app, "issuer").await;
        let only_internal = policy(
            &app,
            "internal-names",
            json!([
            {"Effect": "Allow", "Action": ["pca:ca:issueCert", "pca:ca:issueCertByCsr"],
             "Condition": {"StringLike": {"pca:CommonName": ["*.internal.example.com"]}}}]),
        )
        .await;
        attach(&app, &only_internal, &u).await;
        let issue = |sans: Value| {
            json!({"issuer_id": ca, "key_algorithm": "EC256",
                "distinguished_name": {"common_name": "a.internal.example.com"},
                "subject_alternative_names": sans, "validity": {"type": "DAY", "value": 1}})
        };
        let r = u
            .call(
                &app,
                "POST",
                "/v1/private-certificates",
                Some(issue(
                    json!([{"type": "DNS", "value": "b.internal.example.com"}]),
                )),
            )
            .await;
        ok(&r, 200);
        for (kind, value) in [
            ("IP", "192.0.2.1"),
            ("EMAIL", "ops@evil.test"),
            ("URI", "https://evil.test/x"),
        ] {
            u.call(
                &app,
                "POST",
                "/v1/private-certificates",
                Some(issue(json!([{"type": kind, "value": value}]))),
            )
            .await
            .assert_error(403, "PCA.90010003");
        }
        // The same through a CSR.
        let good = csr(
            dir.path(),
            EC,
            "/CN=c.internal.example.com",
            &["-addext", "subjectAltName=DNS:d.internal.example.com"],
        );
        ok(
            &u.call(
                &app,
                "POST",
                "/v1/private-certificates/csr",
                Some(by_csr(&ca, &good, json!({}))),
            )
            .await,
            200,
        );
        for san in [
            "IP:192.0.2.1",
            "email:ops@evil.test",
            "URI:https://evil.test/x",
        ] {
            let bad = csr(
                dir.path(),
                EC,
                "/CN=c.internal.example.com",
                &["-addext", &format!("subjectAltName={san}")],
            );
            u.call(
                &app,
                "POST",
                "/v1/private-certificates/csr",
                Some(by_csr(&ca, &bad, json!({}))),
            )
            .await
            .assert_error(403, "PCA.90010003");
        }
    }
);

/// The exported certificate of CA `id`, as `openssl x509 -text`.
async fn ca_text(app: &TestApp, dir: &std::path::Path, id: &str) -> String {
    let exported = ok(
        &post(
            app,
            &format!("/v1/private-certificate-authorities/{id}/export"),
            json!({}),
        )
        .await,
        200,
    );
    std::fs::write(
        dir.join("ca.pem"),
        exported["certificate"].as_str().unwrap(),
    )
    .unwrap();
    openssl(dir, &["x509", "-in", "ca.pem", "-noout", "-text"])
}

both_backends!(
    a_policy_can_require_path_length_and_name_constraints_of_a_subordinate,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let root = root_ca(&app, "0").await;
        let u = member(&app, "subordinates").await;
        let constrained = policy(&app, "constrained-subordinates", json!([
            {"Effect": "Allow", "Action": ["pca:ca:issueCertByCsr"],
             "Condition": {"StringEquals": {"pca:PathLength": ["0"]},
                           "ForAllValues:StringLike": {"pca:PermittedDnsName": ["example.com", ".example.com", "*.example.com"]}}}])).await;
        attach(&app, &constrained, &u).await;
        let sub_csr = |extra: &[&str]| csr(dir.path(), EC, "/CN=Team CA/O=Example", extra);
        let intermediate = |csr: &str, path_length: i64| {
            by_csr(
                &root,
                csr,
                json!({"type": "INTERMEDIATE_CA", "path_length": path_length}),
            )
        };
        let constraints = [
            "-addext",
            "nameConstraints=critical,permitted;DNS:example.com",
        ];
        // Constrained to example.com, path length 0: allowed, and carried.
        let r = u
            .call(
                &app,
                "POST",
                "/v1/private-certificates/csr",
                Some(intermediate(&sub_csr(&constraints), 0)),
            )
            .await;
        let sub = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let text = ca_text(&app, dir.path(), &sub).await;
        assert!(text.contains("X509v3 Name Constraints: critical"), "{text}");
        assert!(text.contains("DNS:example.com"), "{text}");
        assert!(text.contains("pathlen:0"), "{text}");
        let python = std::env::var("OPENCCM_TEST_PYTHON")
            .expect("OPENCCM_TEST_PYTHON (scripts/test sets it)");
        let linter = std::path::Path::new(&python).with_file_name("lint_pkix_cert");
        let (_, report) = run(
            dir.path(),
            linter.to_str().unwrap(),
            &["lint", "--document-format", "PEM", "ca.pem"],
        );
        assert!(
            !report.contains("(ERROR)") && !report.contains("(FATAL)"),
            "pkilint:\n{report}"
        );
        // No constraints, other names, or a longer path: refused.
        let refused = [
            intermediate(&sub_csr(&[]), 0),
            intermediate(
                &sub_csr(&[
                    "-addext",
                    "nameConstraints=critical,permitted;DNS:evil.test",
                ]),
                0,
            ),
            intermediate(&sub_csr(&constraints), 1),
        ];
        for body in refused {
            u.call(&app, "POST", "/v1/private-certificates/csr", Some(body))
                .await
                .assert_error(403, "PCA.90010003");
        }
        // Malformed constraints are a CSR error, whoever asks.
        let empty_base = sub_csr(&["-addext", "nameConstraints=critical,permitted;IP:192.0.2.0/255.255.255.0,excluded;otherName:1.2.3.4;UTF8:x"]);
        post(
            &app,
            "/v1/private-certificates/csr",
            intermediate(&empty_base, 0),
        )
        .await
        .assert_error(400, "PCA.90020002");
        // The administrator, bound by no policy, may issue without constraints.
        let r = post(
            &app,
            "/v1/private-certificates/csr",
            intermediate(&sub_csr(&[]), 0),
        )
        .await;
        let free = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        assert!(!ca_text(&app, dir.path(), &free)
            .await
            .contains("Name Constraints"));
    }
);

both_backends!(no_spelling_of_a_name_escapes_a_deny, |app| async move {
    let dir = tempfile::tempdir().unwrap();
    let ca = root_ca(&app, "0").await;
    let u = member(&app, "speller").await;
    let rules = policy(&app, "no-secrets", json!([
            {"Effect": "Allow", "Action": ["pca:ca:issueCertByCsr"]},
            {"Effect": "Deny", "Action": ["pca:ca:issueCertByCsr"],
             "Condition": {"StringLike": {"pca:CommonName": ["*.secret.example.com", "192.0.2.*"]}}}])).await;
    attach(&app, &rules, &u).await;
    let issue = |subject: &str, extra: &[&str]| {
        let csr = csr(dir.path(), EC, subject, extra);
        by_csr(&ca, &csr, json!({}))
    };
    let r = u
        .call(
            &app,
            "POST",
            "/v1/private-certificates/csr",
            Some(issue("/CN=www.example.com", &[])),
        )
        .await;
    ok(&r, 200);
    let spellings = [
        issue("/CN=DB.SECRET.EXAMPLE.COM", &[]),
        issue(
            "/CN=www.example.com",
            &["-addext", "subjectAltName=DNS:Db.Secret.Example.Com"],
        ),
        issue(
            "/CN=www.example.com",
            &["-addext", "subjectAltName=IP:::ffff:192.0.2.7"],
        ),
    ];
    for body in spellings {
        u.call(&app, "POST", "/v1/private-certificates/csr", Some(body))
            .await
            .assert_error(403, "PCA.90010003");
    }
});

both_backends!(a_mixed_case_pattern_still_denies, |app| async move {
    let dir = tempfile::tempdir().unwrap();
    let ca = root_ca(&app, "0").await;
    let u = member(&app, "mixed").await;
    let rules = policy(
        &app,
        "mixed-case",
        json!([
            {"Effect": "Allow", "Action": ["pca:ca:issueCertByCsr"]},
            {"Effect": "Deny", "Action": ["pca:ca:issueCertByCsr"],
             "Condition": {"StringLike": {"pca:CommonName": ["*.Corp.Example.com"]}}}]),
    )
    .await;
    attach(&app, &rules, &u).await;
    for subject in [
        "/CN=db.corp.example.com",
        "/CN=DB.CORP.EXAMPLE.COM.",
        "/CN=Db.Corp.Example.Com",
    ] {
        let csr = csr(dir.path(), EC, subject, &[]);
        u.call(
            &app,
            "POST",
            "/v1/private-certificates/csr",
            Some(by_csr(&ca, &csr, json!({}))),
        )
        .await
        .assert_error(403, "PCA.90010003");
    }
});
