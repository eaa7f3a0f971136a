//! Fuzzing the HTTP edge (proptest): arbitrary JSON, shaped like what each
//! route takes, never gets a 500, and every answer is JSON in the API's own
//! error format or a success. On SQLite only: the store is not what is being
//! fuzzed here. CI runs the default 256 cases; a long run:
//! `PROPTEST_CASES=20000 cargo test --release -p openccm-http --test it fuzz`.

use openccm_testkit::{Backend, TestApp};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const ROUTES: &[&str] = &[
    "/v1/private-certificate-authorities",
    "/v1/private-certificates",
    "/v1/private-certificates/csr",
    "/v1/private-certificates/csr/parse",
    "/v3/scm/certificates/import",
    "/v3/scm/csr",
    "/v5/policies",
    "/v3/users",
    "/v3.0/OS-CREDENTIAL/credentials",
    "/v3.0/OS-CREDENTIAL/securitytokens",
    "/v3/auth/tokens",
];

const KEYS: &[&str] = &[
    "type",
    "key_algorithm",
    "signature_algorithm",
    "distinguished_name",
    "common_name",
    "country",
    "organization",
    "validity",
    "value",
    "issuer_id",
    "csr",
    "certificate",
    "certificate_chain",
    "private_key",
    "name",
    "password",
    "policy_name",
    "policy_document",
    "auth",
    "identity",
    "methods",
    "token",
    "duration_seconds",
    "subject_alternative_names",
    "path_length",
    "user",
    "credential",
    "user_id",
    "enterprise_project_id",
    "sans",
    "domain_name",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "ROOT",
            "SUBORDINATE",
            "EC256",
            "SM2",
            "RSA2048",
            "SHA256",
            "YEAR",
            "DAY",
            "DNS",
            "IP",
            "INTERMEDIATE_CA",
            "token",
            "password",
            "hw_ak_sk",
            "x",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "{\"Version\": \"5.0\", \"Statement\": []}",
            "é\u{0}\u{202e}",
            "99999999999999999999",
        ])
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..6).prop_map(
                |pairs| {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect::<Map<_, _>>(),
                    )
                }
            ),
        ]
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn app() -> &'static TestApp {
    static APP: std::sync::OnceLock<TestApp> = std::sync::OnceLock::new();
    APP.get_or_init(|| runtime().block_on(TestApp::new(Backend::Sqlite)))
}

proptest! {
    #[test]
    fn no_body_makes_a_route_fail_internally(
        route in prop::sample::select(ROUTES.to_vec()),
        body in json_value(),
        raw in proptest::collection::vec(any::<u8>(), 0..64),
        as_raw in any::<bool>(),
    ) {
        let app = app();
        let text = if as_raw {
            String::from_utf8_lossy(&raw).into_owned()
        } else {
            body.to_string()
        };
        let r = runtime().block_on(app.signed("POST", route, Some(&text)));
        prop_assert!(r.status < 500, "{route} {text}: {} {}", r.status, String::from_utf8_lossy(&r.body));
        if !r.body.is_empty() {
            let answer: Value = serde_json::from_slice(&r.body).expect("JSON answer");
            if r.status >= 400 {
                prop_assert!(
                    answer.get("error_code").is_some() || answer.get("error").is_some(),
                    "{route}: {answer}"
                );
            }
        }
    }
}

#[test]
fn the_fuzzed_routes_exist() {
    // A typo in ROUTES would fuzz the 404 page only.
    for route in ROUTES {
        let r = runtime().block_on(app().signed("POST", route, Some(&json!({}).to_string())));
        assert_ne!(r.status, 404, "{route}");
    }
}
