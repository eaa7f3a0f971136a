//! A small ACME client for tests (RFC 8555 requests signed with ES256 by an
//! OpenSSL P-256 key), and an http-01 responder on loopback.
//!
//! The client sends through a [`TestApp`]'s router, so it signs URLs under
//! the app's public URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use serde_json::{json, Value};
use sha2::Digest as _;

use crate::{TestApp, TestResponse};

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A P-256 key.
///
/// # Panics
/// When OpenSSL fails.
pub fn p256_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
    PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey")
}

/// The public JWK of a P-256 key.
///
/// # Panics
/// When the key is not a P-256 key.
pub fn jwk_of(key: &PKey<Private>) -> Value {
    let ec = key.ec_key().expect("EC key");
    let mut ctx = openssl::bn::BigNumContext::new().expect("ctx");
    let (mut x, mut y) = (
        openssl::bn::BigNum::new().expect("bn"),
        openssl::bn::BigNum::new().expect("bn"),
    );
    ec.public_key()
        .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)
        .expect("coordinates");
    json!({"crv": "P-256", "kty": "EC",
           "x": b64(&x.to_vec_padded(32).expect("x")), "y": b64(&y.to_vec_padded(32).expect("y"))})
}

/// The RFC 7638 thumbprint of a P-256 JWK.
pub fn thumbprint(jwk: &Value) -> String {
    let canonical = format!(
        r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["crv"].as_str().unwrap_or_default(),
        jwk["x"].as_str().unwrap_or_default(),
        jwk["y"].as_str().unwrap_or_default()
    );
    b64(&sha2::Sha256::digest(canonical.as_bytes()))
}

/// A flattened JWS of `payload` (`None`: empty, a POST-as-GET) under
/// `protected`, signed ES256 by `key`.
///
/// # Panics
/// When OpenSSL fails.
pub fn jws(key: &PKey<Private>, protected: &Value, payload: Option<&Value>) -> Value {
    let protected = b64(protected.to_string().as_bytes());
    let payload = payload.map_or_else(String::new, |p| b64(p.to_string().as_bytes()));
    let input = format!("{protected}.{payload}");
    let digest = openssl::hash::hash(MessageDigest::sha256(), input.as_bytes()).expect("hash");
    let sig = EcdsaSig::sign(&digest, key.ec_key().expect("EC").as_ref()).expect("sign");
    let mut raw = sig.r().to_vec_padded(32).expect("r");
    raw.extend(sig.s().to_vec_padded(32).expect("s"));
    json!({"protected": protected, "payload": payload, "signature": b64(&raw)})
}

/// An HS256 external account binding of `account_jwk` for `url`.
///
/// # Panics
/// When the HMAC key is not base64url.
pub fn eab(key_id: &str, hmac_key: &str, account_jwk: &Value, url: &str) -> Value {
    use hmac::Mac as _;
    let protected = b64(json!({"alg": "HS256", "kid": key_id, "url": url})
        .to_string()
        .as_bytes());
    let payload = b64(account_jwk.to_string().as_bytes());
    let secret = URL_SAFE_NO_PAD.decode(hmac_key).expect("hmac key");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).expect("mac");
    mac.update(format!("{protected}.{payload}").as_bytes());
    json!({"protected": protected, "payload": payload,
           "signature": b64(&mac.finalize().into_bytes())})
}

/// A DER CSR of `key` for DNS names and IP addresses (`common_name`
/// optional).
///
/// # Panics
/// When OpenSSL fails.
pub fn csr(key: &PKey<Private>, common_name: Option<&str>, names: &[&str]) -> Vec<u8> {
    let mut builder = openssl::x509::X509ReqBuilder::new().expect("req");
    let mut name = openssl::x509::X509NameBuilder::new().expect("name");
    if let Some(cn) = common_name {
        name.append_entry_by_nid(Nid::COMMONNAME, cn).expect("cn");
    }
    builder.set_subject_name(&name.build()).expect("subject");
    builder.set_pubkey(key).expect("key");
    if !names.is_empty() {
        let mut san = openssl::x509::extension::SubjectAlternativeName::new();
        for n in names {
            if n.parse::<std::net::IpAddr>().is_ok() {
                san.ip(n);
            } else {
                san.dns(n);
            }
        }
        let context = builder.x509v3_context(None);
        let ext = san.build(&context).expect("san");
        let mut stack = openssl::stack::Stack::new().expect("stack");
        stack.push(ext).expect("push");
        builder.add_extensions(&stack).expect("extensions");
    }
    builder.sign(key, MessageDigest::sha256()).expect("sign");
    builder.build().to_der().expect("der")
}

/// An ACME client of one CA's server, with one account key.
pub struct AcmeClient<'a> {
    app: &'a TestApp,
    /// `<public-url>/acme/<ca_id>`.
    pub base: String,
    /// The account key.
    pub key: PKey<Private>,
    /// The account URL, once known.
    pub kid: Option<String>,
    nonce: Option<String>,
}

impl<'a> AcmeClient<'a> {
    /// A client of `ca_id`'s ACME server on `app`, with a new key.
    pub fn new(app: &'a TestApp, public_url: &str, ca_id: &str) -> Self {
        Self {
            app,
            base: format!("{public_url}/acme/{ca_id}"),
            key: p256_key(),
            kid: None,
            nonce: None,
        }
    }

    /// The path of a URL under the public URL.
    fn path(&self, url: &str) -> String {
        let scheme_end = url.find("://").map_or(0, |i| i + 3);
        url[scheme_end..]
            .find('/')
            .map_or_else(|| "/".to_owned(), |i| url[scheme_end + i..].to_owned())
    }

    /// `GET` of a URL.
    pub async fn get(&self, url: &str) -> TestResponse {
        let request = Request::builder()
            .method("GET")
            .uri(self.path(url))
            .body(Body::empty())
            .expect("request");
        self.app.send(request).await
    }

    /// A fresh nonce from newNonce.
    ///
    /// # Panics
    /// When the server gives none.
    pub async fn fresh_nonce(&self) -> String {
        let request = Request::builder()
            .method("HEAD")
            .uri(self.path(&format!("{}/new-nonce", self.base)))
            .body(Body::empty())
            .expect("request");
        let r = self.app.send(request).await;
        r.header("replay-nonce").expect("a nonce")
    }

    /// Sends a JWS body to `url` as `application/jose+json`, keeping the
    /// answer's nonce.
    pub async fn send(&mut self, url: &str, body: &Value) -> TestResponse {
        let request = Request::builder()
            .method("POST")
            .uri(self.path(url))
            .header("content-type", "application/jose+json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let r = self.app.send(request).await;
        if let Some(nonce) = r.header("replay-nonce") {
            self.nonce = Some(nonce);
        }
        r
    }

    /// The protected header for `url` with `nonce`: the kid once known,
    /// else the JWK.
    pub fn header(&self, url: &str, nonce: &str) -> Value {
        match &self.kid {
            Some(kid) => json!({"alg": "ES256", "kid": kid, "nonce": nonce, "url": url}),
            None => json!({"alg": "ES256", "jwk": jwk_of(&self.key), "nonce": nonce, "url": url}),
        }
    }

    /// A nonce: the last answer's, else a fresh one.
    pub async fn nonce(&mut self) -> String {
        match self.nonce.take() {
            Some(n) => n,
            None => self.fresh_nonce().await,
        }
    }

    /// Signs and sends `payload` (`None`: POST-as-GET) to `url`.
    pub async fn post(&mut self, url: &str, payload: Option<&Value>) -> TestResponse {
        let nonce = self.nonce().await;
        let body = jws(&self.key, &self.header(url, &nonce), payload);
        self.send(url, &body).await
    }

    /// newAccount with an optional EAB `(key_id, hmac_key)`; keeps the
    /// account URL on success.
    pub async fn new_account(&mut self, binding: Option<(&str, &str)>) -> TestResponse {
        let url = format!("{}/new-account", self.base);
        let mut payload =
            json!({"termsOfServiceAgreed": true, "contact": ["mailto:ops@example.test"]});
        if let Some((key_id, hmac)) = binding {
            payload["externalAccountBinding"] = eab(key_id, hmac, &jwk_of(&self.key), &url);
        }
        let saved = self.kid.take();
        let r = self.post(&url, Some(&payload)).await;
        self.kid = r.header("location").or(saved);
        r
    }

    /// The key authorization of a token.
    pub fn key_authorization(&self, token: &str) -> String {
        format!("{token}.{}", thumbprint(&jwk_of(&self.key)))
    }
}

/// Serves http-01 answers on a loopback port.
pub struct Http01Responder {
    /// The port.
    pub port: u16,
    answers: Arc<Mutex<HashMap<String, String>>>,
}

impl Http01Responder {
    /// Starts a responder.
    ///
    /// # Panics
    /// When it cannot listen.
    pub async fn start() -> Self {
        use axum::extract::{Path, State};
        let answers: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let app = axum::Router::new()
            .route(
                "/.well-known/acme-challenge/{token}",
                axum::routing::get(
                    |State(answers): State<Arc<Mutex<HashMap<String, String>>>>,
                     Path(token): Path<String>| async move {
                        let found = answers.lock().expect("lock").get(&token).cloned();
                        match found {
                            Some(answer) => (axum::http::StatusCode::OK, answer),
                            None => (axum::http::StatusCode::NOT_FOUND, String::new()),
                        }
                    },
                ),
            )
            .with_state(answers.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listen");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { port, answers }
    }

    /// Answers `token` with `key_authorization`.
    ///
    /// # Panics
    /// When the lock is poisoned.
    pub fn set(&self, token: &str, key_authorization: &str) {
        self.answers
            .lock()
            .expect("lock")
            .insert(token.to_owned(), key_authorization.to_owned());
    }
}
