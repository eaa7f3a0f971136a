//! ACME management (docs/api/acme.md): a CA's ACME settings and its
//! external account binding keys, on both stores.

use base64::Engine as _;
use openccm_custody::{KeyHandle, KeyStore as _};
use openccm_store::{CaId, DomainId};

use super::*;

async fn put(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.signed("PUT", path, Some(&body.to_string())).await
}

both_backends!(
    acme_settings_are_stored_with_defaults_and_checked,
    |app| async move {
        let root = create_root(&app, "EC256", "SHA256").await;
        let path = format!("/v1/private-certificate-authorities/{root}/acme");

        // Never set: off, with the defaults, and no directory.
        let shown = ok(&get(&app, &path).await, 200);
        assert_eq!(
            shown,
            json!({"acme": {"enabled": false, "eab_required": true, "allowed_identifiers": [],
            "challenges": ["http-01", "dns-01", "tls-alpn-01"], "max_validity_days": 90,
            "key_algorithms": ["EC256", "EC384", "RSA2048", "RSA3072", "RSA4096"]}})
        );

        // Refused: what the policy cannot hold, each with the API's 400.
        for body in [
            json!({}),
            json!({"enabled": "yes"}),
            json!({"enabled": true, "allowed_identifiers": ["not a name"]}),
            json!({"enabled": true, "allowed_identifiers": ["10.0.0.1/8"]}),
            json!({"enabled": true, "challenges": []}),
            json!({"enabled": true, "challenges": ["http-02"]}),
            json!({"enabled": true, "max_validity_days": 0}),
            json!({"enabled": true, "max_validity_days": 3651}),
            json!({"enabled": true, "key_algorithms": ["SM2"]}),
            json!({"enabled": true, "key_algorithms": ["RSA1024"]}),
            json!({"enabled": true, "allowed_identifiers": vec!["a.example"; 101]}),
        ] {
            put(&app, &path, body.clone())
                .await
                .assert_error(400, "PCA.00020001");
        }
        assert_eq!(
            ok(&get(&app, &path).await, 200),
            shown,
            "nothing refused was kept"
        );

        // On, with a policy: normalised, duplicates collapsed, the directory
        // named.
        let r = put(
        &app,
        &path,
        json!({"enabled": true, "eab_required": false,
            "allowed_identifiers": ["Example.TEST", "*.corp.example", "10.0.0.0/8", "example.test", "192.0.2.7"],
            "challenges": ["dns-01", "http-01", "dns-01"], "max_validity_days": 30,
            "key_algorithms": ["RSA2048", "EC256"]}),
    )
    .await;
        let set = ok(&r, 200);
        let expected = json!({"acme": {"enabled": true, "eab_required": false,
        "allowed_identifiers": ["example.test", "*.corp.example", "10.0.0.0/8", "192.0.2.7"],
        "challenges": ["http-01", "dns-01"], "max_validity_days": 30,
        "key_algorithms": ["RSA2048", "EC256"],
        "directory_url": format!("http://openccm.test/acme/{root}/directory")}});
        assert_eq!(set, expected);
        assert_eq!(ok(&get(&app, &path).await, 200), expected);

        // A disabled CA cannot have ACME switched on; off is always allowed.
        ok(
            &post(
                &app,
                &format!("/v1/private-certificate-authorities/{root}/disable"),
                json!({}),
            )
            .await,
            204,
        );
        // Its setting is kept, but ACME does not answer for it: no directory.
        let kept = ok(&get(&app, &path).await, 200);
        assert_eq!(kept["acme"]["enabled"], true);
        assert!(kept["acme"].get("directory_url").is_none(), "{kept}");
        put(&app, &path, json!({"enabled": true}))
            .await
            .assert_error(400, "PCA.90030001");
        let off = ok(&put(&app, &path, json!({"enabled": false})).await, 200);
        assert_eq!(off["acme"]["enabled"], false);
        assert!(off["acme"].get("directory_url").is_none());

        // The store writes nothing for a CA of another account, even when asked
        // directly (the routes load the CA first; this is the second guard).
        let other = DomainId::parse("0000000000000000000000000000beef").unwrap();
        let ca = CaId::parse(&root).unwrap();
        let mut foreign = app
            .store
            .acme_settings(&DomainId::parse(&app.admin.domain_id).unwrap(), &ca)
            .await
            .unwrap()
            .unwrap();
        foreign.domain_id = other.clone();
        foreign.enabled = true;
        assert!(!app.store.put_acme_settings(&foreign).await.unwrap());
        assert!(app
            .store
            .acme_settings(&other, &ca)
            .await
            .unwrap()
            .is_none());
        let key = openccm_store::EabKey {
            key_id: "foreign-key".to_owned(),
            ca_id: ca.clone(),
            domain_id: other.clone(),
            created_by: openccm_store::UserId::parse("0000000000000000000000000000beef").unwrap(),
            description: None,
            key_owner: "eab:foreign-key".to_owned(),
            sealed_key: vec![1, 2, 3],
            created_at: 0,
            bound_account: None,
        };
        assert!(!app.store.insert_eab_key(&key).await.unwrap());
        assert!(app.store.eab_keys(&other, &ca).await.unwrap().is_empty());
        // Unknown and malformed CA ids.
        let unknown = "00000000-0000-4000-8000-000000000000";
        put(
            &app,
            &format!("/v1/private-certificate-authorities/{unknown}/acme"),
            json!({"enabled": true}),
        )
        .await
        .assert_error(404, "PCA.10010002");
        get(&app, "/v1/private-certificate-authorities/nope/acme")
            .await
            .assert_error(400, "PCA.00020201");
    }
);

both_backends!(
    eab_keys_are_sealed_shown_once_and_deleted,
    |app| async move {
        let root = create_root(&app, "EC256", "SHA256").await;
        let keys = format!("/v1/private-certificate-authorities/{root}/acme/eab-keys");

        let r = post(&app, &keys, json!({"description": "web servers"})).await;
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        let created = ok(&r, 201);
        let key_id = created["key_id"].as_str().unwrap().to_owned();
        let hmac_key = created["hmac_key"].as_str().unwrap().to_owned();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        assert_eq!(b64.decode(&key_id).unwrap().len(), 16, "{key_id}");
        let hmac = b64.decode(&hmac_key).unwrap();
        assert_eq!(hmac.len(), 32);
        assert_eq!(created["description"], "web servers");
        app.clock.advance(1_000);
        let second = ok(&post(&app, &keys, json!({})).await, 201);
        assert_ne!(second["key_id"], created["key_id"]);
        assert_ne!(second["hmac_key"], created["hmac_key"]);
        assert_eq!(second["description"], Value::Null);

        // Listed oldest first, never with the HMAC key.
        let r = get(&app, &keys).await;
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert!(
            !text.contains(&hmac_key) && !text.contains("hmac_key"),
            "{text}"
        );
        let listed = ok(&r, 200);
        assert_eq!(listed["eab_keys"][0]["key_id"], key_id.as_str());
        assert_eq!(listed["eab_keys"][0]["bound"], false);
        assert_eq!(listed["eab_keys"][1]["key_id"], second["key_id"]);

        // Sealed at rest: the stored blob is not the key, and opens to it.
        let domain = DomainId::parse(&app.admin.domain_id).unwrap();
        let stored = app
            .store
            .eab_keys(&domain, &CaId::parse(&root).unwrap())
            .await
            .unwrap();
        let row = stored.iter().find(|k| k.key_id == key_id).unwrap();
        assert!(!row
            .sealed_key
            .windows(hmac.len())
            .any(|w| w == hmac.as_slice()));
        assert_eq!(row.key_owner, format!("eab:{key_id}"));
        let opened = app
            .custody
            .imported(&KeyHandle {
                owner: row.key_owner.clone(),
                sealed: row.sealed_key.clone(),
            })
            .unwrap();
        assert_eq!(opened.as_slice(), hmac.as_slice());
        let users = ok(&get(&app, "/v3/users").await, 200);
        let admin = users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == app.admin.user_name.as_str())
            .unwrap();
        assert_eq!(row.created_by.as_str(), admin["id"].as_str().unwrap());

        // Refused: a description too long or with control characters.
        for description in ["x".repeat(256), "line\nbreak".to_owned()] {
            post(&app, &keys, json!({"description": description}))
                .await
                .assert_error(400, "PCA.00020001");
        }

        // Deleted once; then gone.
        let one = format!("{keys}/{key_id}");
        assert_eq!(app.signed("DELETE", &one, None).await.status, 204);
        app.signed("DELETE", &one, None)
            .await
            .assert_error(404, "PCA.10010002");
        let listed = ok(&get(&app, &keys).await, 200);
        assert_eq!(listed["eab_keys"].as_array().unwrap().len(), 1);
    }
);

both_backends!(
    a_pending_ca_with_acme_rows_is_still_deleted,
    |app| async move {
        // A pending CA: ACME cannot be on, but settings and keys can be made.
        let r = post(
        &app,
        "/v1/private-certificate-authorities",
        json!({"type": "SUBORDINATE", "key_algorithm": "EC256", "distinguished_name": dn("Pending")}),
    )
    .await;
        let ca = ok(&r, 200)["ca_id"].as_str().unwrap().to_owned();
        let path = format!("/v1/private-certificate-authorities/{ca}");
        put(&app, &format!("{path}/acme"), json!({"enabled": true}))
            .await
            .assert_error(400, "PCA.90030001");
        ok(
            &put(&app, &format!("{path}/acme"), json!({"enabled": false})).await,
            200,
        );
        ok(
            &post(&app, &format!("{path}/acme/eab-keys"), json!({})).await,
            201,
        );
        // Deleting it takes them along.
        assert_eq!(app.signed("DELETE", &path, None).await.status, 204);
        get(&app, &path).await.assert_error(404, "PCA.10010002");
        let domain = DomainId::parse(&app.admin.domain_id).unwrap();
        let ca = CaId::parse(&ca).unwrap();
        assert!(app
            .store
            .acme_settings(&domain, &ca)
            .await
            .unwrap()
            .is_none());
        assert!(app.store.eab_keys(&domain, &ca).await.unwrap().is_empty());
    }
);

both_backends!(acme_calls_follow_identity_policies, |app| async move {
    use crate::policies::{attach, member, policy};
    let root = create_root(&app, "EC256", "SHA256").await;
    let path = format!("/v1/private-certificate-authorities/{root}/acme");
    let key = ok(
        &post(&app, &format!("{path}/eab-keys"), json!({})).await,
        201,
    )["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = member(&app, "acme-reader").await;
    let p = policy(
        &app,
        "acme-read",
        json!([{"Effect": "Allow", "Action": ["pca:ca:get"]}]),
    )
    .await;
    attach(&app, &p, &reader).await;
    assert_eq!(reader.call(&app, "GET", &path, None).await.status, 200);
    for (method, target, body) in [
        ("PUT", path.clone(), Some(json!({"enabled": true}))),
        ("POST", format!("{path}/eab-keys"), Some(json!({}))),
        ("GET", format!("{path}/eab-keys"), None),
        ("DELETE", format!("{path}/eab-keys/{key}"), None),
    ] {
        reader
            .call(&app, method, &target, body)
            .await
            .assert_error(403, "PCA.90010003");
    }
    // Each action opens its own call.
    let operator = member(&app, "acme-operator").await;
    let p = policy(
        &app,
        "acme-operate",
        json!([{"Effect": "Allow", "Action": ["pca:acme:configure", "pca:acme:createEab",
            "pca:acme:listEab", "pca:acme:deleteEab"]}]),
    )
    .await;
    attach(&app, &p, &operator).await;
    let r = operator
        .call(&app, "PUT", &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!(ok(&r, 200)["acme"]["enabled"], true);
    let made = ok(
        &operator
            .call(&app, "POST", &format!("{path}/eab-keys"), Some(json!({})))
            .await,
        201,
    );
    let listed = ok(
        &operator
            .call(&app, "GET", &format!("{path}/eab-keys"), None)
            .await,
        200,
    );
    assert_eq!(listed["eab_keys"].as_array().unwrap().len(), 2);
    let r = operator
        .call(
            &app,
            "DELETE",
            &format!("{path}/eab-keys/{}", made["key_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    // And none other: showing the settings is pca:ca:get.
    operator
        .call(&app, "GET", &path, None)
        .await
        .assert_error(403, "PCA.90010003");
});
