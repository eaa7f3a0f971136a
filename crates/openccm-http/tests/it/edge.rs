//! The edge: Huawei error bodies everywhere, request ids, limits.

use axum::body::Body;
use axum::http::Request;
use openccm_http::HttpSettings;
use openccm_testkit::{both_backends, Backend, TestApp};

both_backends!(health_needs_no_credentials, |app| async move {
    let r = app
        .send(Request::get("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    assert_eq!(r.header("x-request-id").unwrap().len(), 32);
});

both_backends!(
    unknown_routes_answer_404_in_huawei_format,
    |app| async move {
        for target in [
            "/",
            "/nope",
            "/v1/nothing-here",
            "/v3/scm/unknown-thing/x/y",
        ] {
            let r = app
                .send(Request::get(target).body(Body::empty()).unwrap())
                .await;
            r.assert_error(404, "APIGW.0101");
            assert_eq!(r.json()["request_id"], r.header("x-request-id").unwrap());
            assert_eq!(r.header("content-type").unwrap(), "application/json");
        }
    }
);

both_backends!(
    a_wrong_method_answers_405_in_huawei_format,
    |app| async move {
        let r = app
            .send(Request::delete("/health").body(Body::empty()).unwrap())
            .await;
        r.assert_error(405, "APIGW.9405");
        let r = app
            .send(Request::put("/v3/auth/tokens").body(Body::empty()).unwrap())
            .await;
        r.assert_error(405, "APIGW.9405");
    }
);

both_backends!(
    a_signed_client_request_id_is_left_as_signed,
    |app| async move {
        // A client may send, and sign, its own X-Request-Id (the SDK signs
        // every header it sends): the id it gets is ours, and its header
        // reaches authentication untouched, so the signature verifies.
        let r = app
            .send(
                openccm_testkit::sign::SdkRequest::new(
                    "GET",
                    "/v1/private-certificate-authorities",
                    None,
                )
                .header("X-Request-Id", "client-chosen-id")
                .domain_id(&app.admin.domain_id)
                .sign(
                    openccm_testkit::sign::Scheme::HmacSha256,
                    &app.admin.access_key,
                    &app.admin.secret_key,
                    app.clock.now_ms(),
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let id = r.header("x-request-id").unwrap();
        assert!(id != "client-chosen-id" && id.len() == 32, "{id}");
    }
);

both_backends!(
    request_ids_are_unique_and_never_taken_from_the_client,
    |app| async move {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let r = app
                .send(
                    Request::get("/health")
                        .header("x-request-id", "forged-client-id")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            let id = r.header("x-request-id").unwrap();
            assert!(
                id.bytes().all(|b| b.is_ascii_hexdigit()) && id.len() == 32,
                "{id}"
            );
            assert!(seen.insert(id));
        }
    }
);

async fn oversized_body_is_413(backend: Backend) {
    let app = TestApp::with_settings(
        backend,
        HttpSettings {
            max_body_bytes: 2048,
            ..HttpSettings::default()
        },
    )
    .await;
    let big = format!("{{\"auth\": \"{}\"}}", "x".repeat(4096));
    // With Content-Length, refused up front.
    let r = app
        .send(
            Request::post("/v3/auth/tokens")
                .header("content-type", "application/json")
                .header("content-length", big.len())
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    r.assert_error(413, "APIGW.0201");
    // Chunked (no Content-Length): refused while reading.
    let stream = futures_stream(big);
    let r = app
        .send(
            Request::post("/v3/users")
                .header("content-type", "application/json")
                .body(stream)
                .unwrap(),
        )
        .await;
    r.assert_error(413, "APIGW.0201");
}

/// A body without a declared length, sent in chunks.
fn futures_stream(text: String) -> Body {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = text
        .into_bytes()
        .chunks(512)
        .map(|c| Ok(axum::body::Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_413_sqlite() {
    oversized_body_is_413(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_413_postgres() {
    oversized_body_is_413(Backend::Postgres).await;
}

/// A POST to the token route from `peer`, with `body`.
fn from_peer(peer: &str, body: Body) -> Request<Body> {
    let mut request = Request::post("/v3/auth/tokens")
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let addr: std::net::SocketAddr = format!("{peer}:5000").parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    request
}

/// A body that sends a little, then nothing until `release` is dropped.
fn stalled_body(release: tokio::sync::oneshot::Receiver<()>) -> Body {
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"auth\":"))
    });
    let stall = futures_util::stream::once(async move {
        let _ = release.await;
        Err::<axum::body::Bytes, _>(std::io::Error::other("client went away"))
    });
    Body::from_stream(futures_util::StreamExt::chain(first, stall))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_hold_every_body_slot() {
    let app = std::sync::Arc::new(
        TestApp::with_settings(
            Backend::Sqlite,
            HttpSettings {
                max_inflight_bodies: 16,
                body_timeout: std::time::Duration::from_secs(10),
                ..HttpSettings::default()
            },
        )
        .await,
    );
    // Two slow bodies from one client: its share (16 / 8).
    let mut releases = Vec::new();
    let mut held = Vec::new();
    for _ in 0..2 {
        let (release, wait) = tokio::sync::oneshot::channel();
        releases.push(release);
        let app = app.clone();
        held.push(tokio::spawn(async move {
            app.send(from_peer("192.0.2.1", stalled_body(wait))).await
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // A third from the same client (or its /64 neighbour for IPv6) is refused...
    let r = app.send(from_peer("192.0.2.1", Body::from("{}"))).await;
    r.assert_error(503, "APIGW.9503");
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    // ...another client's is read.
    let r = app.send(from_peer("192.0.2.2", Body::from("{}"))).await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    drop(releases);
    for h in held {
        assert_eq!(h.await.unwrap().status, 400, "a body that broke off");
    }
    // The client's slots are back.
    let r = app.send(from_peer("192.0.2.1", Body::from("{}"))).await;
    assert_eq!(r.status, 400);
}
