//! PostgreSQL restarts under running servers (what a failover looks like
//! from OpenCCM: every connection drops, and the database answers again a
//! moment later). The servers must serve again without a restart of their
//! own, from the first request after the database is back (a read or a
//! BEGIN that meets a dead pooled connection is tried again), and hear each
//! other's changes again (their notification listener reconnects).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{post_json as post, signed, two_servers_at, OwnPostgres};
use crate::revocation::crl_serials;

fn normal(serial: &str) -> String {
    serial.to_lowercase().trim_start_matches('0').to_owned()
}

#[tokio::test]
async fn servers_serve_again_after_postgresql_restarts() {
    let pg = OwnPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, creds) = two_servers_at(dir.path(), &pg.url());
    let client = reqwest::Client::new();
    let (status, ca) = post(&client, &a, &creds, "/v1/private-certificate-authorities", &json!({
        "type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "validity": {"type": "YEAR", "value": 10},
        "distinguished_name": {"common_name": "Failover Root", "country": "CN", "state": "Guangdong",
            "locality": "Shenzhen", "organization": "Example", "organizational_unit": "IT"},
        "crl_configuration": {"enabled": true, "obs_bucket_name": "b", "valid_days": 7}})).await;
    assert_eq!(status, 200, "{ca}");
    let ca = ca["ca_id"].as_str().unwrap().to_owned();
    let (status, cert) = post(
        &client,
        &a,
        &creds,
        "/v1/private-certificates",
        &json!({
        "issuer_id": ca, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "distinguished_name": {"common_name": "www.example.com"},
        "validity": {"type": "DAY", "value": 30}}),
    )
    .await;
    assert_eq!(status, 200, "{cert}");
    let cert = cert["certificate_id"].as_str().unwrap().to_owned();
    let delta = format!("{}/pca/crl/{ca}/{ca}-delta.crl", b.base_url);
    // B has built (and keeps) the empty delta CRL.
    assert!(crl_serials(&client, &delta).await.is_empty());

    pg.pg_ctl("restart");

    // A answers at once: the read that meets a dead connection is tried
    // again, on a connection checked first.
    let shown = signed(
        &client,
        &a,
        &creds,
        "GET",
        &format!("/v1/private-certificates/{cert}"),
        None,
    )
    .await;
    assert_eq!(shown.status(), 200, "{}", a.log());
    let shown: Value = shown.json().await.unwrap();
    let serial = normal(shown["serial_number"].as_str().unwrap());
    // It issues again, and revokes.
    let (status, again) = post(
        &client,
        &a,
        &creds,
        "/v1/private-certificates",
        &json!({
        "issuer_id": ca, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "distinguished_name": {"common_name": "www.example.com"},
        "validity": {"type": "DAY", "value": 30}}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    let (status, revoked) = post(
        &client,
        &a,
        &creds,
        &format!("/v1/private-certificates/{cert}/revoke"),
        &json!({"reason": "KEY_COMPROMISE"}),
    )
    .await;
    assert_eq!(status, 204, "{revoked}");
    // B hears of it: its listener reconnected (and forgot what it kept).
    let answered = Instant::now();
    loop {
        let listed: Vec<String> = crl_serials(&client, &delta)
            .await
            .iter()
            .map(|s| normal(s))
            .collect();
        if listed.contains(&serial) {
            break;
        }
        assert!(
            answered.elapsed() < Duration::from_secs(10),
            "B's delta CRL still lists {listed:?}, not {serial}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Neither server restarted or stopped.
    assert!(a.child.try_wait().unwrap().is_none());
    assert!(b.child.try_wait().unwrap().is_none());
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
}
