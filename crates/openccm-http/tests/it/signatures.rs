//! A signature covers the request it came with, and only that one: no body
//! outside it, no second request that canonicalises the same way.

use axum::body::Body;
use axum::http::{Request, Uri};
use openccm_testkit::sign::{Scheme, SdkRequest};
use openccm_testkit::{both_backends, TestApp};

fn sign(app: &TestApp, request: SdkRequest) -> Request<Body> {
    request.domain_id(&app.admin.domain_id).sign(
        Scheme::HmacSha256,
        &app.admin.access_key,
        &app.admin.secret_key,
        app.clock.now_ms(),
    )
}

both_backends!(
    an_unsigned_payload_is_refused_whatever_the_content_type,
    |app| async move {
        let path = "/v1/private-certificate-authorities";
        let body = r#"{"type": "ROOT"}"#;
        let content_types = [
            Some("application/merge-patch+json"),
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            None,
        ];
        for content_type in content_types {
            let mut request = SdkRequest::new("POST", path, Some(body))
                .header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD");
            request = match content_type {
                Some(ct) => request.header("Content-Type", ct),
                None => request.without_header("Content-Type"),
            };
            let r = app.send(sign(&app, request)).await;
            let msg = r.assert_error(401, "APIGW.0301");
            assert!(msg.contains("payload hash"), "{content_type:?}: {msg}");
        }
        // Duplicated: the signature names one Content-Type, a second follows.
        let request = SdkRequest::new("POST", path, Some(body))
            .header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
            .header("Content-Type", "text/plain");
        let mut request = sign(&app, request);
        request
            .headers_mut()
            .append("content-type", "application/json".parse().unwrap());
        app.send(request).await.assert_error(401, "APIGW.0301");
        // An empty body may say UNSIGNED-PAYLOAD: there is nothing to swap.
        let request =
            SdkRequest::new("GET", path, None).header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD");
        assert_eq!(app.send(sign(&app, request)).await.status, 200);
    }
);

both_backends!(
    one_signature_does_not_cover_a_differently_decoded_query,
    |app| async move {
        let signed_for = "/v1/private-certificate-authorities?name=a%2Bb";
        let ok = app
            .send(sign(&app, SdkRequest::new("GET", signed_for, None)))
            .await;
        assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
        // `a+b` reaches the handler as "a b": a different request.
        let mut replayed = sign(&app, SdkRequest::new("GET", signed_for, None));
        *replayed.uri_mut() = Uri::from_static("/v1/private-certificate-authorities?name=a+b");
        app.send(replayed).await.assert_error(401, "APIGW.0301");
    }
);

both_backends!(
    an_encoded_slash_in_a_signed_path_is_refused,
    |app| async move {
        let r = app
            .send(sign(
                &app,
                SdkRequest::new("GET", "/v1/private-certificates/a%2Fb", None),
            ))
            .await;
        let msg = r.assert_error(401, "APIGW.0301");
        assert!(msg.contains("encoded '/'"), "{msg}");
    }
);
