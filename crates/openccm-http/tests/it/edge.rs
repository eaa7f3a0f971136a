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
