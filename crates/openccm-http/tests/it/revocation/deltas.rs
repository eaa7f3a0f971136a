//! Delta CRLs: OpenSSL combines them with their full CRL, and the full
//! CRL is rebuilt when the delta reaches its limit.

use super::*;

both_backends!(
    openssl_combines_a_full_crl_with_a_newer_empty_delta,
    |app| async move {
        // The full CRL lists the revoked certificate; its delta, built
        // seconds later, lists nothing new. OpenSSL must use the full CRL as
        // the complete one: with -use_deltas alone, OpenSSL 3.0 may pick the
        // newer delta as "complete" (get_crl_score only skips deltas under
        // -extended_crl), which is why the README gives both flags.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = publishing_root(&app, d, "EC256", "SHA256", "skew").await;
        let cert = issued_pem(&app, d, &ca, "EC256", "SHA256").await;
        revoke(&app, &cert, "KEY_COMPROMISE").await;
        let full = fetch_crl(&app, d, &ca, "skew.crl").await;
        assert_eq!(serials(&full), vec![serial_of(d, &cert)]);
        app.clock.advance(2_000);
        let delta = fetch_crl(&app, d, &ca, "skew-delta.crl").await;
        assert!(serials(&delta).is_empty());
        assert!(
            openccm_pki::time::from_x509(&delta.tbs_cert_list.this_update)
                > openccm_pki::time::from_x509(&full.tbs_cert_list.this_update)
        );
        std::fs::write(
            d.join("crls.pem"),
            [
                std::fs::read(d.join("skew.crl.pem")).unwrap(),
                std::fs::read(d.join("skew-delta.crl.pem")).unwrap(),
            ]
            .concat(),
        )
        .unwrap();
        let at = (app.clock.now_ms() / 1000).to_string();
        let (accepted, text) = run(
            d,
            "openssl",
            &[
                "verify",
                "-attime",
                &at,
                "-crl_check",
                "-extended_crl",
                "-use_deltas",
                "-CAfile",
                "ca.pem",
                "-CRLfile",
                "crls.pem",
                &format!("{cert}.pem"),
            ],
        );
        assert!(!accepted && text.contains("certificate revoked"), "{text}");
    }
);

/// A full CRL is not re-signed per revoke: the delta carries revocations
/// until it reaches the limit, and then the full CRL is rebuilt.
async fn the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit(
    backend: openccm_testkit::Backend,
) {
    let mut pca = openccm_app::pca::PcaSettings {
        public_url: "http://openccm.test".to_owned(),
        ..openccm_app::pca::PcaSettings::default()
    };
    pca.revocation.delta_limit = 3;
    let app = TestApp::with_all_settings(backend, openccm_http::HttpSettings::default(), pca).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = publishing_root(&app, d, "EC256", "SHA256", "limit").await;
    let first = fetch_crl(&app, d, &ca, "limit.crl").await;
    let mut certs = Vec::new();
    for _ in 0..3 {
        certs.push(issued_pem(&app, d, &ca, "EC256", "SHA256").await);
    }
    for cert in &certs[..2] {
        revoke(&app, cert, "SUPERSEDED").await;
        let full = fetch_crl(&app, d, &ca, "limit.crl").await;
        assert_eq!(full, first, "below the limit the full CRL stays");
    }
    let delta = fetch_crl(&app, d, &ca, "limit-delta.crl").await;
    assert_eq!(serials(&delta).len(), 2);
    revoke(&app, &certs[2], "SUPERSEDED").await;
    // At the limit: the stale full CRL is served while it is rebuilt.
    let mut full = fetch_crl(&app, d, &ca, "limit.crl").await;
    for _ in 0..100 {
        if serials(&full).len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        full = fetch_crl(&app, d, &ca, "limit.crl").await;
    }
    assert_eq!(serials(&full).len(), 3);
    assert!(serials(&fetch_crl(&app, d, &ca, "limit-delta.crl").await).is_empty());
}

mod the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit(
            openccm_testkit::Backend::Sqlite,
        )
        .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit(
            openccm_testkit::Backend::Postgres,
        )
        .await;
    }
}
