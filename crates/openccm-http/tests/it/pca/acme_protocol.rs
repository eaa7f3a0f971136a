//! The ACME protocol (RFC 8555) of a CA, on both stores, with a client
//! signing real JWSs and http-01 validated against a real responder on
//! loopback: accounts with EAB, orders under the CA's policy, validation,
//! finalize, download, revocation, renewal information, and the request
//! checks (nonces, URLs, signatures).

use openccm_app::pca::acme::validate::ValidationSettings;
use openccm_testkit::acme::{self as client, AcmeClient, Http01Responder};
use openccm_testkit::Backend;

use super::*;

const PUBLIC: &str = "http://openccm.test";

/// An app whose ACME validation reaches `responder`, with an ACME-enabled
/// root CA (`policy` merged into the settings) and one EAB key.
async fn acme_app(
    backend: Backend,
    responder: &Http01Responder,
    policy: Value,
) -> (TestApp, String, (String, String)) {
    let app = TestApp::with_validation(
        backend,
        openccm_http::HttpSettings::default(),
        openccm_app::pca::PcaSettings {
            public_url: PUBLIC.to_owned(),
            ..openccm_app::pca::PcaSettings::default()
        },
        ValidationSettings {
            allow: vec!["127.0.0.0/8".to_owned()],
            http01_port: responder.port,
            ..ValidationSettings::default()
        },
    )
    .await;
    let root = create_root(&app, "EC256", "SHA256").await;
    let mut settings = json!({"enabled": true});
    if let (Some(s), Some(p)) = (settings.as_object_mut(), policy.as_object()) {
        s.extend(p.clone());
    }
    let r = app
        .signed(
            "PUT",
            &format!("/v1/private-certificate-authorities/{root}/acme"),
            Some(&settings.to_string()),
        )
        .await;
    ok(&r, 200);
    let key = ok(
        &post(
            &app,
            &format!("/v1/private-certificate-authorities/{root}/acme/eab-keys"),
            json!({}),
        )
        .await,
        201,
    );
    let eab = (
        key["key_id"].as_str().unwrap().to_owned(),
        key["hmac_key"].as_str().unwrap().to_owned(),
    );
    (app, root, eab)
}

/// Asserts a problem document of `kind` with `status`; returns it.
fn problem(r: &TestResponse, status: u16, kind: &str) -> Value {
    assert_eq!(
        r.status,
        status,
        "status; body {:?}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let body = r.json();
    assert_eq!(
        body["type"],
        format!("urn:ietf:params:acme:error:{kind}"),
        "{body}"
    );
    assert!(r.header("replay-nonce").is_some(), "errors carry a nonce");
    body
}

/// Polls an authorization until it is no longer pending.
async fn settled(acme: &mut AcmeClient<'_>, authz_url: &str) -> Value {
    for _ in 0..100 {
        let r = acme.post(authz_url, None).await;
        let body = ok(&r, 200);
        if body["status"] != "pending" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the authorization stayed pending");
}

/// Places an order for `names`, validates each by http-01 through the
/// responder, and returns the order's URL and body once ready.
async fn ready_order(
    acme: &mut AcmeClient<'_>,
    responder: &Http01Responder,
    names: &[&str],
) -> (String, Value) {
    let identifiers: Vec<Value> = names
        .iter()
        .map(|n| {
            let kind = if n.parse::<std::net::IpAddr>().is_ok() {
                "ip"
            } else {
                "dns"
            };
            json!({"type": kind, "value": n})
        })
        .collect();
    let r = acme
        .post(
            &format!("{}/new-order", acme.base),
            Some(&json!({"identifiers": identifiers})),
        )
        .await;
    let order = ok(&r, 201);
    let order_url = r.header("location").expect("order location");
    assert_eq!(order["status"], "pending");
    for authz_url in order["authorizations"].as_array().unwrap() {
        let authz_url = authz_url.as_str().unwrap();
        let authz = ok(&acme.post(authz_url, None).await, 200);
        let challenge = authz["challenges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "http-01")
            .expect("an http-01 challenge")
            .clone();
        let token = challenge["token"].as_str().unwrap();
        responder.set(token, &acme.key_authorization(token));
        let r = acme
            .post(challenge["url"].as_str().unwrap(), Some(&json!({})))
            .await;
        let answered = ok(&r, 200);
        assert!(
            matches!(answered["status"].as_str(), Some("processing" | "valid")),
            "{answered}"
        );
        assert!(r
            .headers
            .get_all("link")
            .iter()
            .any(|l| l.to_str().unwrap().contains("rel=\"up\"")));
        let done = settled(acme, authz_url).await;
        assert_eq!(done["status"], "valid", "{done}");
    }
    let order = ok(&acme.post(&order_url, None).await, 200);
    assert_eq!(order["status"], "ready", "{order}");
    (order_url, order)
}

async fn acme_issues_revokes_and_advises_renewal(backend: Backend) {
    let responder = Http01Responder::start().await;
    let (app, root, (key_id, hmac)) = acme_app(
        backend,
        &responder,
        json!({"allowed_identifiers": ["127.0.0.0/8"]}),
    )
    .await;
    let mut acme = AcmeClient::new(&app, PUBLIC, &root);

    // The directory: public, every endpoint, EAB required.
    let dir = acme.get(&format!("{}/directory", acme.base)).await;
    let dir = ok(&dir, 200);
    assert_eq!(dir["newAccount"], format!("{}/new-account", acme.base));
    assert_eq!(dir["renewalInfo"], format!("{}/renewal-info", acme.base));
    assert_eq!(dir["meta"]["externalAccountRequired"], true);

    // No EAB: refused. A wrong MAC: refused. The right one: created; again:
    // the same account, 200.
    problem(
        &acme.new_account(None).await,
        400,
        "externalAccountRequired",
    );
    problem(
        &acme
            .new_account(Some((
                &key_id,
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )))
            .await,
        403,
        "unauthorized",
    );
    let r = acme.new_account(Some((&key_id, &hmac))).await;
    let account = ok(&r, 201);
    assert_eq!(account["status"], "valid");
    assert_eq!(account["contact"], json!(["mailto:ops@example.test"]));
    let kid = acme.kid.clone().expect("account URL");
    acme.kid = None;
    let again = acme.new_account(None).await;
    ok(&again, 200);
    assert_eq!(again.header("location").as_deref(), Some(kid.as_str()));
    // The key is bound: another ACME key cannot use it.
    let mut other = AcmeClient::new(&app, PUBLIC, &root);
    problem(
        &other.new_account(Some((&key_id, &hmac))).await,
        403,
        "unauthorized",
    );
    let listed = ok(
        &get(
            &app,
            &format!("/v1/private-certificate-authorities/{root}/acme/eab-keys"),
        )
        .await,
        200,
    );
    assert_eq!(listed["eab_keys"][0]["bound"], true);

    // An order, validated by http-01, finalized with a CSR that names the
    // order's identifier, and the certificate downloaded with its chain.
    let (order_url, order) = ready_order(&mut acme, &responder, &["127.0.0.1"]).await;
    let finalize = order["finalize"].as_str().unwrap().to_owned();
    // A CSR asking for other names: badCSR; the order stays ready.
    let leaf_key = client::p256_key();
    let wrong = client::csr(&leaf_key, None, &["127.0.0.2"]);
    problem(
        &acme
            .post(&finalize, Some(&json!({"csr": client::b64(&wrong)})))
            .await,
        400,
        "badCSR",
    );
    let good = client::csr(&leaf_key, None, &["127.0.0.1"]);
    let r = acme
        .post(&finalize, Some(&json!({"csr": client::b64(&good)})))
        .await;
    let issued = ok(&r, 200);
    assert_eq!(issued["status"], "valid", "{issued}");
    let cert_url = issued["certificate"].as_str().unwrap().to_owned();
    // Finalizing twice: not ready any more.
    problem(
        &acme
            .post(&finalize, Some(&json!({"csr": client::b64(&good)})))
            .await,
        403,
        "orderNotReady",
    );
    let r = acme.post(&cert_url, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/pem-certificate-chain")
    );
    let pem = String::from_utf8(r.body.clone()).unwrap();
    let chain = openssl::x509::X509::stack_from_pem(pem.as_bytes()).unwrap();
    assert_eq!(chain.len(), 2, "the certificate and its root");
    let leaf = &chain[0];
    assert!(leaf.verify(&chain[1].public_key().unwrap()).unwrap());
    assert!(leaf.public_key().unwrap().public_eq(&leaf_key));
    let sans: Vec<Vec<u8>> = leaf
        .subject_alt_names()
        .unwrap()
        .iter()
        .filter_map(|n| n.ipaddress().map(<[u8]>::to_vec))
        .collect();
    assert_eq!(sans, vec![vec![127, 0, 0, 1]]);

    // The certificate is a PCA certificate of the CA's account.
    let cert_id = cert_url.rsplit('/').next().unwrap();
    let shown = ok(
        &get(&app, &format!("/v1/private-certificates/{cert_id}")).await,
        200,
    );
    assert_eq!(shown["gen_mode"], "CSR");
    assert_eq!(shown["issuer_id"], root.as_str());
    assert_eq!(shown["status"], "ISSUED");

    // The order is listed under the account.
    let orders = ok(&acme.post(&format!("{kid}/orders"), None).await, 200);
    assert_eq!(orders["orders"], json!([order_url]));

    // Renewal information: within the certificate's lifetime.
    let serial = leaf.serial_number().to_bn().unwrap().to_vec();
    let aki = leaf.authority_key_id().unwrap().as_slice().to_vec();
    let ari = format!(
        "{}/renewal-info/{}.{}",
        acme.base,
        client::b64(&aki),
        client::b64(&serial)
    );
    let r = acme.get(&ari).await;
    let window = ok(&r, 200);
    assert!(r.header("retry-after").is_some());
    let start =
        openccm_app::clock::parse_time_ms(window["suggestedWindow"]["start"].as_str().unwrap())
            .unwrap();
    let end = openccm_app::clock::parse_time_ms(window["suggestedWindow"]["end"].as_str().unwrap())
        .unwrap();
    let not_before = shown["not_before"].as_i64().unwrap();
    let not_after = shown["not_after"].as_i64().unwrap();
    assert!(
        not_before < start && start < end && end < not_after,
        "{window}"
    );

    // An order that renews it names it (RFC 9773 §5); the id must be of a
    // certificate of this CA that this account ordered.
    let ari_id = ari.rsplit('/').next().unwrap().to_owned();
    let renewal =
        json!({"identifiers": [{"type": "ip", "value": "127.0.0.1"}], "replaces": ari_id});
    let r = acme
        .post(&format!("{}/new-order", acme.base), Some(&renewal))
        .await;
    assert_eq!(ok(&r, 201)["replaces"], ari_id.as_str());
    let bogus =
        json!({"identifiers": [{"type": "ip", "value": "127.0.0.1"}], "replaces": "AAAA.AAAA"});
    problem(
        &acme
            .post(&format!("{}/new-order", acme.base), Some(&bogus))
            .await,
        400,
        "malformed",
    );

    // Revocation by another account: refused. By the certificate's key:
    // done, and visible to the PCA API. Again: alreadyRevoked.
    let der = leaf.to_der().unwrap();
    let revoke = format!("{}/revoke-cert", acme.base);
    let mut stranger = AcmeClient::new(&app, PUBLIC, &root);
    let stranger_key = app
        .signed(
            "POST",
            &format!("/v1/private-certificate-authorities/{root}/acme/eab-keys"),
            Some("{}"),
        )
        .await
        .json();
    ok(
        &stranger
            .new_account(Some((
                stranger_key["key_id"].as_str().unwrap(),
                stranger_key["hmac_key"].as_str().unwrap(),
            )))
            .await,
        201,
    );
    problem(
        &stranger
            .post(&revoke, Some(&json!({"certificate": client::b64(&der)})))
            .await,
        403,
        "unauthorized",
    );
    // Another account cannot see the order or the certificate either, nor
    // claim to renew it.
    problem(
        &stranger
            .post(&format!("{}/new-order", acme.base), Some(&renewal))
            .await,
        403,
        "unauthorized",
    );
    problem(&stranger.post(&order_url, None).await, 404, "malformed");
    problem(&stranger.post(&cert_url, None).await, 404, "malformed");
    problem(
        &stranger
            .post(
                &revoke,
                Some(&json!({"certificate": client::b64(&der), "reason": 7})),
            )
            .await,
        400,
        "badRevocationReason",
    );
    let mut by_key = AcmeClient::new(&app, PUBLIC, &root);
    by_key.key = leaf_key.clone();
    let r = by_key
        .post(
            &revoke,
            Some(&json!({"certificate": client::b64(&der), "reason": 1})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    let shown = ok(
        &get(&app, &format!("/v1/private-certificates/{cert_id}")).await,
        200,
    );
    assert_eq!(shown["status"], "REVOKED");
    problem(
        &acme
            .post(&revoke, Some(&json!({"certificate": client::b64(&der)})))
            .await,
        400,
        "alreadyRevoked",
    );
    // ACME calls are in the audit trail, under the CA's account and the
    // ACME account (or the key) that signed them; refusals with their type.
    let mut events = Vec::new();
    for _ in 0..50 {
        events = app.store.audit_events(0, 10_000).await.unwrap();
        if events
            .iter()
            .any(|e| e.event.action.ends_with("/revoke-cert") && e.event.result == "200")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let finalized = events
        .iter()
        .find(|e| {
            e.event.action == "POST /acme/{ca_id}/order/{id}/finalize" && e.event.result == "200"
        })
        .expect("the finalize is audited");
    assert_eq!(finalized.event.domain_id, app.admin.domain_id);
    assert_eq!(
        finalized.event.user_id,
        format!("acme:{}", kid.rsplit('/').next().unwrap())
    );
    assert!(events
        .iter()
        .any(|e| e.event.action.ends_with("/revoke-cert")
            && e.event.user_id.starts_with("acme-key:")
            && e.event.result == "200"));
    assert!(events
        .iter()
        .any(|e| e.event.result == "400 alreadyRevoked"));
    // Reads sent as POST-as-GET are recorded like GETs: only when refused.
    assert!(!events
        .iter()
        .any(|e| e.event.action == "POST /acme/{ca_id}/cert/{id}" && e.event.result == "200"));

    // A revoked certificate should be replaced now.
    let window = ok(&acme.get(&ari).await, 200);
    let end = openccm_app::clock::parse_time_ms(window["suggestedWindow"]["end"].as_str().unwrap())
        .unwrap();
    assert!(end <= app.clock.now_ms(), "{window}");
}
both_backends!(acme_issues_revokes_and_advises_renewal);

async fn acme_refuses_what_the_policy_and_the_protocol_forbid(backend: Backend) {
    let responder = Http01Responder::start().await;
    let (app, root, (key_id, hmac)) = acme_app(
        backend,
        &responder,
        json!({"allowed_identifiers": ["*.corp.test", "127.0.0.0/8"], "challenges": ["http-01"],
               "key_algorithms": ["EC256"]}),
    )
    .await;
    let mut acme = AcmeClient::new(&app, PUBLIC, &root);
    ok(&acme.new_account(Some((&key_id, &hmac))).await, 201);
    let new_order = format!("{}/new-order", acme.base);

    // Outside the policy: rejectedIdentifier, one subproblem per name.
    let body = problem(
        &acme
            .post(
                &new_order,
                Some(&json!({"identifiers": [
                    {"type": "dns", "value": "www.other.test"},
                    {"type": "dns", "value": "a.corp.test"},
                    {"type": "ip", "value": "10.0.0.1"}]})),
            )
            .await,
        400,
        "rejectedIdentifier",
    );
    let subproblems = body["subproblems"].as_array().unwrap();
    assert_eq!(subproblems.len(), 2, "{body}");
    assert_eq!(subproblems[0]["identifier"]["value"], "www.other.test");
    // A wildcard needs dns-01, which this CA does not offer.
    problem(
        &acme
            .post(
                &new_order,
                Some(&json!({"identifiers": [{"type": "dns", "value": "*.corp.test"}]})),
            )
            .await,
        400,
        "rejectedIdentifier",
    );
    problem(
        &acme
            .post(
                &new_order,
                Some(&json!({"identifiers": [{"type": "email", "value": "a@corp.test"}]})),
            )
            .await,
        400,
        "unsupportedIdentifier",
    );

    // A pending order cannot be finalized; an RSA key is outside the
    // policy.
    let r = acme
        .post(
            &new_order,
            Some(&json!({"identifiers": [{"type": "ip", "value": "127.0.0.1"}]})),
        )
        .await;
    let pending = ok(&r, 201);
    let finalize = pending["finalize"].as_str().unwrap().to_owned();
    let csr = client::csr(&client::p256_key(), None, &["127.0.0.1"]);
    problem(
        &acme
            .post(&finalize, Some(&json!({"csr": client::b64(&csr)})))
            .await,
        403,
        "orderNotReady",
    );
    let (_, order) = ready_order(&mut acme, &responder, &["127.0.0.1"]).await;
    let rsa = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let rsa_csr = client::csr(&rsa, None, &["127.0.0.1"]);
    let body = problem(
        &acme
            .post(
                order["finalize"].as_str().unwrap(),
                Some(&json!({"csr": client::b64(&rsa_csr)})),
            )
            .await,
        400,
        "badCSR",
    );
    assert!(
        body["detail"].as_str().unwrap().contains("RSA2048"),
        "{body}"
    );

    // Failed validations: the authorization and the order are invalid.
    // The responder answers 404 for a token it was not given; nothing
    // listens on 127.0.0.3.
    for (address, kind) in [
        ("127.0.0.1", "incorrectResponse"),
        ("127.0.0.3", "connection"),
    ] {
        let r = acme
            .post(
                &new_order,
                Some(&json!({"identifiers": [{"type": "ip", "value": address}]})),
            )
            .await;
        let order = ok(&r, 201);
        let order_url = r.header("location").unwrap();
        let authz_url = order["authorizations"][0].as_str().unwrap().to_owned();
        let authz = ok(&acme.post(&authz_url, None).await, 200);
        let challenge = authz["challenges"][0]["url"].as_str().unwrap().to_owned();
        ok(&acme.post(&challenge, Some(&json!({}))).await, 200);
        let done = settled(&mut acme, &authz_url).await;
        assert_eq!(done["status"], "invalid");
        assert_eq!(
            done["challenges"][0]["error"]["type"],
            format!("urn:ietf:params:acme:error:{kind}"),
            "{done}"
        );
        let order = ok(&acme.post(&order_url, None).await, 200);
        assert_eq!(order["status"], "invalid");
    }

    // The account's own key as the certificate's: badCSR.
    let (_, order) = ready_order(&mut acme, &responder, &["127.0.0.1"]).await;
    let own = client::csr(&acme.key, None, &["127.0.0.1"]);
    let body = problem(
        &acme
            .post(
                order["finalize"].as_str().unwrap(),
                Some(&json!({"csr": client::b64(&own)})),
            )
            .await,
        400,
        "badCSR",
    );
    assert!(
        body["detail"].as_str().unwrap().contains("account"),
        "{body}"
    );

    // Work a crash cut short: a validation, then an issuance, left
    // `processing` by a server that is gone, show invalid once stale.
    let r = acme
        .post(
            &new_order,
            Some(&json!({"identifiers": [{"type": "ip", "value": "127.0.0.1"}]})),
        )
        .await;
    let order_url = r.header("location").unwrap();
    let authz_url = ok(&r, 201)["authorizations"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let ca = openccm_store::CaId::parse(&root).unwrap();
    let authz_id = authz_url.rsplit('/').next().unwrap();
    let mut stuck = app.store.acme_authz(&ca, authz_id).await.unwrap().unwrap();
    stuck.attempted = Some(openccm_store::AcmeChallenge::Http01);
    stuck.processing = true;
    stuck.updated_at = app.clock.now_ms();
    assert!(app
        .store
        .update_acme_authz(&stuck, (openccm_store::AcmeAuthzStatus::Pending, false))
        .await
        .unwrap());
    assert_eq!(
        ok(&acme.post(&authz_url, None).await, 200)["status"],
        "pending"
    );
    app.clock.advance(3 * 60_000);
    let authz = ok(&acme.post(&authz_url, None).await, 200);
    assert_eq!(authz["status"], "invalid", "{authz}");
    assert_eq!(authz["challenges"][0]["status"], "invalid", "{authz}");
    assert_eq!(
        ok(&acme.post(&order_url, None).await, 200)["status"],
        "invalid"
    );
    let (order_url, _) = ready_order(&mut acme, &responder, &["127.0.0.1"]).await;
    let order_id = order_url.rsplit('/').next().unwrap();
    let mut stuck = app.store.acme_order(&ca, order_id).await.unwrap().unwrap();
    stuck.status = openccm_store::AcmeOrderStatus::Processing;
    stuck.updated_at = app.clock.now_ms();
    assert!(app
        .store
        .update_acme_order(&stuck, openccm_store::AcmeOrderStatus::Pending)
        .await
        .unwrap());
    assert_eq!(
        ok(&acme.post(&order_url, None).await, 200)["status"],
        "processing"
    );
    app.clock.advance(6 * 60_000);
    let order = ok(&acme.post(&order_url, None).await, 200);
    assert_eq!(order["status"], "invalid", "{order}");

    // The request checks.
    let url = format!("{}/new-order", acme.base);
    let payload = json!({"identifiers": [{"type": "ip", "value": "127.0.0.1"}]});
    // A nonce used twice.
    let nonce = acme.fresh_nonce().await;
    let signed = client::jws(&acme.key, &acme.header(&url, &nonce), Some(&payload));
    ok(&acme.send(&url, &signed).await, 201);
    problem(&acme.send(&url, &signed).await, 400, "badNonce");
    // A nonce past its lifetime (30 minutes).
    let nonce = acme.fresh_nonce().await;
    app.clock.advance(31 * 60_000);
    let late = client::jws(&acme.key, &acme.header(&url, &nonce), Some(&payload));
    problem(&acme.send(&url, &late).await, 400, "badNonce");
    // An algorithm requests are not signed with: the accepted ones listed.
    let nonce = acme.fresh_nonce().await;
    let mut header = acme.header(&url, &nonce);
    header["alg"] = json!("HS256");
    let hs = client::jws(&acme.key, &header, Some(&payload));
    let body = problem(&acme.send(&url, &hs).await, 400, "badSignatureAlgorithm");
    assert_eq!(
        body["algorithms"],
        json!(["ES256", "ES384", "RS256", "EdDSA"])
    );
    // A nonce not of ours.
    let forged = client::jws(&acme.key, &acme.header(&url, "bm90LW91cnM"), Some(&payload));
    problem(&acme.send(&url, &forged).await, 400, "badNonce");
    // Signed for another URL.
    let nonce = acme.fresh_nonce().await;
    let elsewhere = client::jws(
        &acme.key,
        &acme.header(&format!("{}/new-account", acme.base), &nonce),
        Some(&payload),
    );
    problem(&acme.send(&url, &elsewhere).await, 403, "unauthorized");
    // Signed by another key than the account's.
    let nonce = acme.fresh_nonce().await;
    let impostor = client::jws(
        &client::p256_key(),
        &acme.header(&url, &nonce),
        Some(&payload),
    );
    problem(&acme.send(&url, &impostor).await, 400, "malformed");
    // An unknown account.
    let nonce = acme.fresh_nonce().await;
    let mut header = acme.header(&url, &nonce);
    header["kid"] = json!(format!("{}/acct/nobody", acme.base));
    let unknown = client::jws(&acme.key, &header, Some(&payload));
    problem(&acme.send(&url, &unknown).await, 400, "accountDoesNotExist");
    // Not JOSE.
    let r = app
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri(format!("/acme/{root}/new-order"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(payload.to_string()))
                .unwrap(),
        )
        .await;
    problem(&r, 415, "malformed");
    // A CA without ACME has no server.
    let plain = create_root(&app, "EC256", "SHA256").await;
    problem(
        &acme.get(&format!("{PUBLIC}/acme/{plain}/directory")).await,
        404,
        "malformed",
    );
}
both_backends!(acme_refuses_what_the_policy_and_the_protocol_forbid);

async fn acme_accounts_update_roll_keys_and_end(backend: Backend) {
    let responder = Http01Responder::start().await;
    let (app, root, (key_id, hmac)) = acme_app(backend, &responder, json!({})).await;
    let mut acme = AcmeClient::new(&app, PUBLIC, &root);
    ok(&acme.new_account(Some((&key_id, &hmac))).await, 201);
    let kid = acme.kid.clone().unwrap();

    // Contacts: replaced; a non-mailto one refused.
    let updated = ok(
        &acme
            .post(&kid, Some(&json!({"contact": ["mailto:new@example.test"]})))
            .await,
        200,
    );
    assert_eq!(updated["contact"], json!(["mailto:new@example.test"]));
    problem(
        &acme
            .post(&kid, Some(&json!({"contact": ["tel:+15555550100"]})))
            .await,
        400,
        "unsupportedContact",
    );

    // The account object sent back whole (certbot does): no change.
    ok(
        &acme
            .post(
                &kid,
                Some(&json!({"status": "valid", "contact": ["mailto:new@example.test"]})),
            )
            .await,
        200,
    );
    // A change written for a key the account no longer has changes
    // nothing (a request verified just before a key rollover).
    let ca = openccm_store::CaId::parse(&root).unwrap();
    let stored = app
        .store
        .acme_account(&ca, kid.rsplit('/').next().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut stale = stored.clone();
    stale.contact = vec!["mailto:stale@example.test".to_owned()];
    assert_eq!(
        app.store
            .update_acme_account(&stale, "not-the-thumbprint")
            .await
            .unwrap(),
        None
    );

    // Key rollover: the inner JWS by the new key names the account and
    // its old key; afterwards only the new key signs for the account.
    let url = format!("{}/key-change", acme.base);
    let new_key = client::p256_key();
    let inner = client::jws(
        &new_key,
        &json!({"alg": "ES256", "jwk": client::jwk_of(&new_key), "url": url}),
        Some(&json!({"account": kid, "oldKey": client::jwk_of(&acme.key)})),
    );
    let old_key = acme.key.clone();
    ok(&acme.post(&url, Some(&inner)).await, 200);
    problem(&acme.post(&kid, None).await, 400, "malformed");
    acme.key = new_key;
    ok(&acme.post(&kid, None).await, 200);
    // The old key can start a new account now only with a new EAB key.
    let mut old = AcmeClient::new(&app, PUBLIC, &root);
    old.key = old_key;
    problem(&old.new_account(None).await, 400, "externalAccountRequired");

    // Deleting the EAB key deactivates the account it bound.
    let r = app
        .signed(
            "DELETE",
            &format!("/v1/private-certificate-authorities/{root}/acme/eab-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    problem(&acme.post(&kid, None).await, 403, "unauthorized");

    // Deactivation by the holder: for good.
    let key = ok(
        &post(
            &app,
            &format!("/v1/private-certificate-authorities/{root}/acme/eab-keys"),
            json!({}),
        )
        .await,
        201,
    );
    let mut second = AcmeClient::new(&app, PUBLIC, &root);
    ok(
        &second
            .new_account(Some((
                key["key_id"].as_str().unwrap(),
                key["hmac_key"].as_str().unwrap(),
            )))
            .await,
        201,
    );
    let second_kid = second.kid.clone().unwrap();
    let gone = ok(
        &second
            .post(&second_kid, Some(&json!({"status": "deactivated"})))
            .await,
        200,
    );
    assert_eq!(gone["status"], "deactivated");
    problem(
        &second
            .post(
                &format!("{}/new-order", second.base),
                Some(&json!({"identifiers": [{"type": "dns", "value": "a.test"}]})),
            )
            .await,
        403,
        "unauthorized",
    );
}
both_backends!(acme_accounts_update_roll_keys_and_end);

async fn acme_accounts_without_eab_stop_when_the_ca_requires_it(backend: Backend) {
    let responder = Http01Responder::start().await;
    let (app, root, _) = acme_app(backend, &responder, json!({"eab_required": false})).await;
    let mut acme = AcmeClient::new(&app, PUBLIC, &root);
    let dir = ok(&acme.get(&format!("{}/directory", acme.base)).await, 200);
    assert_eq!(dir["meta"]["externalAccountRequired"], false);
    ok(&acme.new_account(None).await, 201);
    let kid = acme.kid.clone().unwrap();
    ok(&acme.post(&kid, None).await, 200);
    let r = app
        .signed(
            "PUT",
            &format!("/v1/private-certificate-authorities/{root}/acme"),
            Some(&json!({"enabled": true, "eab_required": true}).to_string()),
        )
        .await;
    ok(&r, 200);
    let body = problem(&acme.post(&kid, None).await, 403, "unauthorized");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("external account binding"),
        "{body}"
    );
}
both_backends!(acme_accounts_without_eab_stop_when_the_ca_requires_it);
