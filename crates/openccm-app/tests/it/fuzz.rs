//! Fuzzing the signature canonicaliser and the policy-document parser
//! (proptest): arbitrary input never panics, and canonical forms are stable.
//! CI runs the default 256 cases per property; a long run:
//! `PROPTEST_CASES=200000 cargo test --release -p openccm-app --test it fuzz`.

use openccm_app::iam::policy::{evaluate, Policy, RequestContext};
use openccm_app::iam::signing::{
    self, canonical_query, canonical_uri, Authorization, RequestParts,
};
use proptest::prelude::*;

use crate::sdk_vectors::Headers;

/// Strings over `alphabet`.
fn text(alphabet: &'static str, max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = alphabet.chars().collect();
    proptest::collection::vec(prop::sample::select(chars), 0..max).prop_map(String::from_iter)
}

const URL_CHARS: &str = "ab/=&%+2BFf0é ~.-_?#;:";

proptest! {
    #[test]
    fn canonical_forms_are_stable(path in text(URL_CHARS, 60), query in text(URL_CHARS, 60)) {
        let uri = canonical_uri(&path);
        prop_assert_eq!(canonical_uri(&uri), uri.clone());
        prop_assert!(uri.ends_with('/'));
        let q = canonical_query(&query);
        prop_assert_eq!(canonical_query(&q), q);
    }

    #[test]
    fn authorization_headers_never_panic(value in text("SDK-HMAC-SHA256 Access=,SignedHeaders=;Signature=ab0 \t", 120)) {
        let _ = Authorization::parse(&value);
    }

    #[test]
    fn canonical_requests_never_panic(
        path in text(URL_CHARS, 40),
        query in text(URL_CHARS, 40),
        signed in text("host;x-sdk-date;content-type;X", 40),
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        unsigned in any::<bool>(),
    ) {
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("host".into(), b"x".to_vec()),
            ("x-sdk-date".into(), b"20261205T000000Z".to_vec()),
        ];
        for (i, v) in values.into_iter().enumerate() {
            let name = ["host", "content-type", "x-sdk-date", "x"][i % 4];
            headers.push((name.into(), v));
        }
        if unsigned {
            headers.push(("x-sdk-content-sha256".into(), b"UNSIGNED-PAYLOAD".to_vec()));
        }
        let headers = Headers(headers);
        let parts = RequestParts { method: "POST", path: &path, query: &query, headers: &headers, body: &body };
        let header = format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders={signed}, Signature=00");
        if let Ok(auth) = Authorization::parse(&header) {
            if let Ok(canonical) = signing::canonical_request(&auth, &parts) {
                // A body the signature does not cover is never accepted.
                prop_assert!(!unsigned || body.is_empty());
                let _ = canonical;
            }
        }
        let _ = signing::parse_sdk_date(path.as_bytes());
        let _ = signing::has_encoded_slash(&path);
    }

    #[test]
    fn policy_text_never_panics(text in text("{}[]\":,VersionStatemtEfcAlowDyRsu*?: 5.01gpca", 300)) {
        let _ = Policy::parse(&text);
    }

    #[test]
    fn structured_policies_parse_or_refuse_and_evaluate_without_panic(
        effect in prop::sample::select(vec!["Allow", "Deny", "allow", ""]),
        actions in proptest::collection::vec(text("pca:cert*?get", 14), 0..3),
        resources in proptest::collection::vec(text("pca:*?cert:1", 14), 0..3),
        operator in prop::sample::select(vec![
            "StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase",
            "ForAnyValue:StringLike", "ForAllValues:StringEquals", "StringEqualsIfExists", "Bool", "Null",
            "NumericEquals", "",
        ]),
        key in prop::sample::select(vec!["pca:CommonName", "g:EnterpriseProjectId", "g:ResourceTag/env", "g:TagKeys", "x", ""]),
        values in proptest::collection::vec(text("ab*?.true", 10), 0..3),
        context_value in text("ab*?.true", 10),
    ) {
        let doc = serde_json::json!({"Version": "5.0", "Statement": [{
            "Effect": effect, "Action": actions, "Resource": resources,
            "Condition": {operator: {key: values}}}]});
        if let Ok(policy) = Policy::parse(&doc.to_string()) {
            let mut ctx = RequestContext::new("pca:cert:get", &[]);
            ctx.set(key, &context_value);
            ctx.set_many("g:TagKeys", vec![context_value.clone()]);
            let _ = evaluate([&policy].into_iter(), &ctx);
        }
    }
}
