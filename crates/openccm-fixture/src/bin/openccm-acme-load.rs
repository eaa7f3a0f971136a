//! Complete ACME issuances per second against one CA's ACME server, for the
//! benchmark (`scripts/bench`, issue 15 item 6). Not part of the product.
//!
//! One account (made with an EAB key), then `--concurrency` workers, each
//! repeating a whole issuance until `--seconds` pass: newOrder for
//! `--identifier` (an IP address: no DNS in the way), the authorization,
//! the http-01 challenge answered by this tool's own responder on
//! `--http01-port`, finalize with a CSR, and the certificate's download.
//! Every request is signed (ES256) with a nonce from the answer before, as
//! ACME clients do. A challenge answered `valid` goes straight to finalize;
//! otherwise the order is polled every 5 ms until it is ready (and again
//! while it is processing). Prints one JSON line: issuances, seconds, rate, p50/p99 latency
//! of a whole issuance (ms), and errors.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::Parser;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use serde_json::{json, Value};
use sha2::Digest as _;

#[derive(Parser)]
struct Args {
    /// The CA's ACME directory URL.
    #[arg(long)]
    directory: String,
    /// An EAB key id of the CA.
    #[arg(long)]
    eab_kid: String,
    /// Its HMAC key (base64url).
    #[arg(long)]
    eab_hmac: String,
    /// Issuances in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// How long to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The port the server's http-01 validation connects to (this tool
    /// answers there, on 127.0.0.1).
    #[arg(long)]
    http01_port: u16,
    /// The IP address ordered.
    #[arg(long, default_value = "127.0.0.1")]
    identifier: String,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn p256() -> Result<PKey<Private>, Failure> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

fn jwk(key: &PKey<Private>) -> Result<Value, Failure> {
    let ec = key.ec_key()?;
    let mut ctx = openssl::bn::BigNumContext::new()?;
    let (mut x, mut y) = (openssl::bn::BigNum::new()?, openssl::bn::BigNum::new()?);
    ec.public_key()
        .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
    Ok(
        json!({"crv": "P-256", "kty": "EC", "x": b64(&x.to_vec_padded(32)?), "y": b64(&y.to_vec_padded(32)?)}),
    )
}

fn sign(key: &PKey<Private>, protected: &Value, payload: Option<&Value>) -> Result<Value, Failure> {
    let protected = b64(protected.to_string().as_bytes());
    let payload = payload.map_or_else(String::new, |p| b64(p.to_string().as_bytes()));
    let digest = openssl::hash::hash(
        MessageDigest::sha256(),
        format!("{protected}.{payload}").as_bytes(),
    )?;
    let sig = EcdsaSig::sign(&digest, key.ec_key()?.as_ref())?;
    let mut raw = sig.r().to_vec_padded(32)?;
    raw.extend(sig.s().to_vec_padded(32)?);
    Ok(json!({"protected": protected, "payload": payload, "signature": b64(&raw)}))
}

/// A CSR of a fresh P-256 key for one IP address, DER.
fn csr(ip: &str) -> Result<Vec<u8>, Failure> {
    let key = p256()?;
    let mut builder = openssl::x509::X509ReqBuilder::new()?;
    builder.set_pubkey(&key)?;
    let mut san = openssl::x509::extension::SubjectAlternativeName::new();
    san.ip(ip);
    let ext = san.build(&builder.x509v3_context(None))?;
    let mut stack = openssl::stack::Stack::new()?;
    stack.push(ext)?;
    builder.add_extensions(&stack)?;
    builder.sign(&key, MessageDigest::sha256())?;
    Ok(builder.build().to_der()?)
}

/// One client session: the account key, its URL, and the nonce to use next.
struct Session {
    http: reqwest::Client,
    key: Arc<PKey<Private>>,
    kid: Option<String>,
    nonce: Option<String>,
    new_nonce: String,
}

impl Session {
    async fn post(
        &mut self,
        url: &str,
        payload: Option<&Value>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
        for _ in 0..3 {
            let nonce = match self.nonce.take() {
                Some(n) => n,
                None => self
                    .http
                    .head(&self.new_nonce)
                    .send()
                    .await?
                    .headers()
                    .get("replay-nonce")
                    .and_then(|v| v.to_str().ok())
                    .ok_or("no nonce")?
                    .to_owned(),
            };
            let protected = match &self.kid {
                Some(kid) => json!({"alg": "ES256", "kid": kid, "nonce": nonce, "url": url}),
                None => json!({"alg": "ES256", "jwk": jwk(&self.key)?, "nonce": nonce, "url": url}),
            };
            let body = sign(&self.key, &protected, payload)?;
            let r = self
                .http
                .post(url)
                .header("content-type", "application/jose+json")
                .body(body.to_string())
                .send()
                .await?;
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            self.nonce = headers
                .get("replay-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = r.bytes().await?.to_vec();
            if status == 400 && String::from_utf8_lossy(&bytes).contains("badNonce") {
                continue;
            }
            return Ok((status, headers, bytes));
        }
        Err("three bad nonces in a row".into())
    }

    async fn post_json(
        &mut self,
        url: &str,
        payload: Option<&Value>,
        expect: u16,
    ) -> Result<(reqwest::header::HeaderMap, Value), Failure> {
        let (status, headers, body) = self.post(url, payload).await?;
        if status != expect {
            return Err(format!("{url}: {status} {}", String::from_utf8_lossy(&body)).into());
        }
        Ok((headers, serde_json::from_slice(&body)?))
    }
}

/// One whole issuance.
async fn issue(
    session: &mut Session,
    directory: &Value,
    identifier: &str,
    csr: &str,
    thumbprint: &str,
    answers: &Mutex<HashMap<String, String>>,
) -> Result<(), Failure> {
    let new_order = directory["newOrder"].as_str().ok_or("no newOrder")?;
    let (headers, order) = session
        .post_json(
            new_order,
            Some(&json!({"identifiers": [{"type": "ip", "value": identifier}]})),
            201,
        )
        .await?;
    let order_url = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("no order location")?
        .to_owned();
    let authz_url = order["authorizations"][0]
        .as_str()
        .ok_or("no authorization")?;
    let (_, authz) = session.post_json(authz_url, None, 200).await?;
    let challenge = authz["challenges"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "http-01"))
        .ok_or("no http-01 challenge")?
        .clone();
    let token = challenge["token"].as_str().ok_or("no token")?;
    answers
        .lock()
        .map_err(|_| "poisoned")?
        .insert(token.to_owned(), format!("{token}.{thumbprint}"));
    let (_, answered) = session
        .post_json(
            challenge["url"].as_str().ok_or("no url")?,
            Some(&json!({})),
            200,
        )
        .await?;
    let finalize = order["finalize"].as_str().ok_or("no finalize")?.to_owned();
    // A challenge answered `valid` made the order (of one identifier)
    // ready; otherwise wait for it.
    if answered["status"] != "valid" {
        loop {
            let (_, current) = session.post_json(&order_url, None, 200).await?;
            match current["status"].as_str() {
                Some("ready") => break,
                Some("pending" | "processing") => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => return Err(format!("order {other:?}: {current}").into()),
            }
        }
    }
    answers.lock().map_err(|_| "poisoned")?.remove(token);
    let (_, mut done) = session
        .post_json(&finalize, Some(&json!({"csr": csr})), 200)
        .await?;
    while done["status"] == "processing" {
        tokio::time::sleep(Duration::from_millis(5)).await;
        (_, done) = session.post_json(&order_url, None, 200).await?;
    }
    let cert_url = done["certificate"].as_str().ok_or("no certificate")?;
    let (status, _, pem) = session.post(cert_url, None).await?;
    if status != 200 || !pem.starts_with(b"-----BEGIN CERTIFICATE-----") {
        return Err(format!("download: {status}").into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let answers: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let responder = {
        use axum::extract::{Path, State};
        axum::Router::new()
            .route(
                "/.well-known/acme-challenge/{token}",
                axum::routing::get(
                    |State(answers): State<Arc<Mutex<HashMap<String, String>>>>,
                     Path(token): Path<String>| async move {
                        let answer = answers.lock().ok().and_then(|a| a.get(&token).cloned());
                        answer.ok_or(axum::http::StatusCode::NOT_FOUND)
                    },
                ),
            )
            .with_state(answers.clone())
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.http01_port)).await?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, responder).await;
    });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;
    let directory: Value = http.get(&args.directory).send().await?.json().await?;
    let new_nonce = directory["newNonce"]
        .as_str()
        .ok_or("no newNonce")?
        .to_owned();
    let key = Arc::new(p256()?);
    let account_jwk = jwk(&key)?;
    let thumbprint = {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            account_jwk["x"].as_str().unwrap_or_default(),
            account_jwk["y"].as_str().unwrap_or_default()
        );
        b64(&sha2::Sha256::digest(canonical.as_bytes()))
    };
    let new_account = directory["newAccount"]
        .as_str()
        .ok_or("no newAccount")?
        .to_owned();
    let eab = {
        use hmac::Mac as _;
        let protected = b64(
            json!({"alg": "HS256", "kid": args.eab_kid, "url": new_account})
                .to_string()
                .as_bytes(),
        );
        let payload = b64(account_jwk.to_string().as_bytes());
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(&URL_SAFE_NO_PAD.decode(&args.eab_hmac)?)?;
        mac.update(format!("{protected}.{payload}").as_bytes());
        json!({"protected": protected, "payload": payload, "signature": b64(&mac.finalize().into_bytes())})
    };
    let mut first = Session {
        http: http.clone(),
        key: key.clone(),
        kid: None,
        nonce: None,
        new_nonce: new_nonce.clone(),
    };
    let (headers, _) = first
        .post_json(
            &new_account,
            Some(&json!({"termsOfServiceAgreed": true, "externalAccountBinding": eab})),
            201,
        )
        .await?;
    let kid = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("no account location")?
        .to_owned();
    let csr = b64(&csr(&args.identifier)?);

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let mut session = Session {
            http: http.clone(),
            key: key.clone(),
            kid: Some(kid.clone()),
            nonce: None,
            new_nonce: new_nonce.clone(),
        };
        let (directory, identifier, csr, thumbprint, answers, errors) = (
            directory.clone(),
            args.identifier.clone(),
            csr.clone(),
            thumbprint.clone(),
            answers.clone(),
            errors.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                match issue(
                    &mut session,
                    &directory,
                    &identifier,
                    &csr,
                    &thumbprint,
                    &answers,
                )
                .await
                {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("issuance failed: {e}");
                        }
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    // Counts far below 2^52: exact as floats.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let at = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = latencies.len() as f64 / seconds;
    println!(
        "{}",
        json!({"issuances": latencies.len(), "seconds": seconds,
               "rate": rate, "p50_ms": at(0.50), "p99_ms": at(0.99),
               "errors": errors.load(Ordering::Relaxed)})
    );
    Ok(())
}
