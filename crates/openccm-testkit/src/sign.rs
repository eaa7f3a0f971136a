//! An SDK-style request signer for tests.
//!
//! It reproduces what huaweicloudsdkcore's `Signer` does (headers it adds,
//! canonical request, string to sign) so Rust tests can send requests the
//! way the official SDK does. The verifier is checked independently against
//! requests captured from the real SDK (openccm-app's vector tests) and by the
//! Python SDK interop tests.

use axum::body::Body;
use axum::http::Request;
use hmac::{Hmac, Mac};
use openccm_app::iam::signing::{canonical_query, canonical_uri, SigningAlgorithm};
use sha2::Sha256;
use sm3::Sm3;

/// The HMAC schemes.
#[derive(Debug, Clone, Copy)]
pub enum Scheme {
    /// `SDK-HMAC-SHA256`.
    HmacSha256,
    /// `SDK-HMAC-SM3`.
    HmacSm3,
}

/// A request being built.
#[derive(Debug, Clone)]
pub struct SdkRequest {
    method: String,
    target: String,
    body: Option<String>,
    headers: Vec<(String, String)>,
}

/// `YYYYMMDDTHHMMSSZ` for epoch ms.
pub fn sdk_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl SdkRequest {
    /// A request like the SDK's: `Content-Type: application/json` always,
    /// `Host` and `User-Agent` set.
    pub fn new(method: &str, target: &str, body: Option<&str>) -> Self {
        Self {
            method: method.to_owned(),
            target: target.to_owned(),
            body: body.map(str::to_owned),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Host".into(), "openccm.test".into()),
                (
                    "User-Agent".into(),
                    "huaweicloud-usdk-python/3.0; openccm-testkit".into(),
                ),
            ],
        }
    }

    /// Sets `Host` (it is signed: it must be what the HTTP client sends).
    #[must_use]
    pub fn host(mut self, host: &str) -> Self {
        for (n, v) in &mut self.headers {
            if n == "Host" {
                host.clone_into(v);
            }
        }
        self
    }

    /// The headers to send, `X-Sdk-Date` and `Authorization` included, for
    /// HTTP clients other than the in-process router.
    pub fn signed_headers(&self, ak: &str, sk: &str, now_ms: i64) -> Vec<(String, String)> {
        let request = self.clone().sign(Scheme::HmacSha256, ak, sk, now_ms);
        request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Adds `X-Domain-Id`.
    #[must_use]
    pub fn domain_id(mut self, id: &str) -> Self {
        self.headers.push(("X-Domain-Id".into(), id.to_owned()));
        self
    }

    /// Sets any header, replacing one of the same name (signed like the SDK
    /// signs its own headers).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Removes a header (e.g. the `Content-Type` the SDK always sets).
    #[must_use]
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The canonical request and string to sign, as the SDK computes them.
    pub fn string_to_sign(&self, scheme: Scheme, date: &str) -> (String, String) {
        let algorithm = match scheme {
            Scheme::HmacSha256 => SigningAlgorithm::HmacSha256,
            Scheme::HmacSm3 => SigningAlgorithm::HmacSm3,
        };
        let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        headers.push(("x-sdk-date".into(), date.to_owned()));
        headers.sort();
        let signed: Vec<&str> = headers
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !n.contains('_'))
            .collect();
        let canonical_headers: String = headers
            .iter()
            .filter(|(n, _)| !n.contains('_'))
            .map(|(n, v)| format!("{n}:{v}\n"))
            .collect();
        let body = self.body.as_deref().unwrap_or("");
        // Like the SDK: a payload-hash header on a non-empty body is used literally.
        let payload_hash = self
            .headers
            .iter()
            .find(|(n, _)| {
                n.eq_ignore_ascii_case("x-sdk-content-sha256")
                    || n.eq_ignore_ascii_case("x-sdk-content-sm3")
            })
            .filter(|_| !body.is_empty())
            .map_or_else(|| algorithm.hash_hex(body.as_bytes()), |(_, v)| v.clone());
        let canonical = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method.to_ascii_uppercase(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers,
            signed.join(";"),
            payload_hash
        );
        let sts = format!(
            "{}\n{}\n{}",
            algorithm.scheme(),
            date,
            algorithm.hash_hex(canonical.as_bytes())
        );
        (signed.join(";"), sts)
    }

    /// Signs with AK/SK at `now_ms` and builds the request.
    ///
    /// # Panics
    /// When the request cannot be built.
    pub fn sign(self, scheme: Scheme, ak: &str, sk: &str, now_ms: i64) -> Request<Body> {
        let date = sdk_date(now_ms);
        self.sign_with_date(scheme, ak, sk, &date)
    }

    /// Signs with an explicit `X-Sdk-Date`.
    ///
    /// # Panics
    /// When the request cannot be built.
    pub fn sign_with_date(self, scheme: Scheme, ak: &str, sk: &str, date: &str) -> Request<Body> {
        let (signed, sts) = self.string_to_sign(scheme, date);
        let signature = match scheme {
            Scheme::HmacSha256 => {
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(sk.as_bytes()).expect("hmac key");
                mac.update(sts.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Scheme::HmacSm3 => {
                let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(sk.as_bytes()).expect("hmac key");
                mac.update(sts.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
        };
        let scheme_name = match scheme {
            Scheme::HmacSha256 => "SDK-HMAC-SHA256",
            Scheme::HmacSm3 => "SDK-HMAC-SM3",
        };
        let mut builder = Request::builder()
            .method(self.method.as_str())
            .uri(self.target.as_str());
        for (n, v) in &self.headers {
            builder = builder.header(n.as_str(), v.as_str());
        }
        builder = builder.header("X-Sdk-Date", date).header(
            "Authorization",
            format!("{scheme_name} Access={ak}, SignedHeaders={signed}, Signature={signature}"),
        );
        builder
            .body(self.body.map_or_else(Body::empty, Body::from))
            .expect("request")
    }
}
