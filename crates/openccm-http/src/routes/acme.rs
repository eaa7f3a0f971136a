//! The ACME server (RFC 8555) of each CA that has it on, at
//! `<public-url>/acme/<ca_id>/...`: public routes, authenticated by the
//! signed requests themselves (`openccm_app::pca::acme::server`).
//!
//! Every answer carries a fresh `Replay-Nonce`, a `Link` to the directory
//! and `Cache-Control: no-store`; errors are problem documents
//! (`application/problem+json`), never the Huawei error body. These routes
//! are the RFC's, not part of the OpenAPI description.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use openccm_app::clock::iso8601_micros;
use openccm_app::pca::acme::account::{AccountUpdate, NewAccount};
use openccm_app::pca::acme::order::{AuthzView, NewOrder, OrderView};
use openccm_app::pca::acme::problem::{Disposition, Problem, ProblemKind};
use openccm_app::pca::acme::server::{RequestSigner, SignedRequest};
use openccm_app::pca::acme::AcmeServer;
use openccm_store::{AcmeAccount, AcmeChallenge, CaId, CertId};
use openccm_wire::acme_protocol as wire;
use serde::de::DeserializeOwned;

use crate::audit::{AuditCaller, AuditErrorCode, ReadOnly};
use crate::AppState;

/// The ACME routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/acme/{ca_id}/directory", get(directory))
        .route("/acme/{ca_id}/new-nonce", get(new_nonce).head(new_nonce))
        .route("/acme/{ca_id}/new-account", post(new_account))
        .route("/acme/{ca_id}/new-order", post(new_order))
        .route("/acme/{ca_id}/revoke-cert", post(revoke_cert))
        .route("/acme/{ca_id}/key-change", post(key_change))
        .route("/acme/{ca_id}/acct/{id}", post(account))
        .route("/acme/{ca_id}/acct/{id}/orders", post(orders))
        .route("/acme/{ca_id}/order/{id}", post(order))
        .route("/acme/{ca_id}/order/{id}/finalize", post(finalize))
        .route("/acme/{ca_id}/authz/{id}", post(authz))
        .route("/acme/{ca_id}/chall/{id}/{kind}", post(challenge))
        .route("/acme/{ca_id}/cert/{id}", post(certificate))
        .route("/acme/{ca_id}/renewal-info/{id}", get(renewal_info))
}

/// What a successful ACME call answers.
struct Reply {
    status: StatusCode,
    location: Option<String>,
    links: Vec<String>,
    retry_after: Option<u64>,
    body: Body,
    /// A POST-as-GET: recorded in the audit trail only when refused.
    read_only: bool,
}

enum Body {
    Json(serde_json::Value),
    Pem(String),
    Empty,
}

impl Reply {
    fn json(status: StatusCode, body: &impl serde::Serialize) -> Self {
        Self {
            status,
            location: None,
            links: Vec::new(),
            retry_after: None,
            body: Body::Json(serde_json::to_value(body).unwrap_or_default()),
            read_only: false,
        }
    }

    /// Marks a POST-as-GET's answer.
    fn read(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    fn located(mut self, url: String) -> Self {
        self.location = Some(url);
        self
    }
}

type AcmeAnswer = Result<Reply, Problem>;

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

/// Who signed a request, for the audit trail: the CA's account, and the
/// ACME account (or, for a request signed by a bare key, its thumbprint).
fn audit_caller(request: &SignedRequest) -> AuditCaller {
    AuditCaller {
        domain_id: request.ca.record.domain_id.to_string(),
        user_id: match &request.signer {
            RequestSigner::Account(account) => format!("acme:{}", account.account_id),
            RequestSigner::Key(key) => format!("acme-key:{}", key.thumbprint()),
        },
    }
}

/// Sends `answer` with the headers every ACME answer carries, and what the
/// audit trail records of it (`who` signed it, when known).
fn respond(
    server: &AcmeServer,
    ca_id: &str,
    answer: AcmeAnswer,
    who: Option<AuditCaller>,
) -> Response {
    let nonce = server.new_nonce();
    let index = format!(
        "<{}/acme/{ca_id}/directory>;rel=\"index\"",
        server.public_url()
    );
    let mut response = match answer {
        Ok(reply) => {
            let mut response = match reply.body {
                Body::Json(value) => (reply.status, axum::Json(value)).into_response(),
                Body::Pem(text) => (
                    reply.status,
                    [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
                    text,
                )
                    .into_response(),
                Body::Empty => reply.status.into_response(),
            };
            let headers = response.headers_mut();
            if let Some(location) = reply.location.as_deref().and_then(header_value) {
                headers.insert(header::LOCATION, location);
            }
            for link in reply.links {
                if let Some(value) = header_value(&link) {
                    headers.append(header::LINK, value);
                }
            }
            if let Some(seconds) = reply.retry_after {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            if reply.read_only {
                response.extensions_mut().insert(ReadOnly);
            }
            response
        }
        Err(problem) => {
            let mut response = problem_response(&problem);
            response
                .extensions_mut()
                .insert(AuditErrorCode(problem.kind.name().to_owned()));
            response
        }
    };
    if let Some(who) = who {
        response.extensions_mut().insert(who);
    }
    let headers = response.headers_mut();
    if let Some(value) = header_value(&nonce) {
        headers.insert("replay-nonce", value);
    }
    if let Some(value) = header_value(&index) {
        headers.append(header::LINK, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The HTTP status of a problem.
fn problem_status(problem: &Problem) -> StatusCode {
    match &problem.disposition {
        Disposition::Missing => return StatusCode::NOT_FOUND,
        Disposition::Conflict(_) => return StatusCode::CONFLICT,
        Disposition::UnsupportedMediaType => return StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Disposition::Usual => {}
    }
    match problem.kind {
        ProblemKind::Unauthorized
        | ProblemKind::OrderNotReady
        | ProblemKind::UserActionRequired => StatusCode::FORBIDDEN,
        ProblemKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ProblemKind::ServerInternal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn problem_body(problem: &Problem, status: Option<u16>) -> wire::ProblemBody {
    wire::ProblemBody {
        kind: problem.kind.urn(),
        detail: problem.detail.clone(),
        status,
        subproblems: problem
            .subproblems
            .iter()
            .map(|s| wire::SubproblemBody {
                kind: s.kind.urn(),
                detail: s.detail.clone(),
                identifier: wire::Identifier {
                    kind: s.identifier.0.clone(),
                    value: s.identifier.1.clone(),
                },
            })
            .collect(),
        algorithms: (problem.kind == ProblemKind::BadSignatureAlgorithm).then(|| {
            ["ES256", "ES384", "RS256", "EdDSA"]
                .map(str::to_owned)
                .to_vec()
        }),
    }
}

fn problem_response(problem: &Problem) -> Response {
    let status = problem_status(problem);
    let body =
        serde_json::to_vec(&problem_body(problem, Some(status.as_u16()))).unwrap_or_default();
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body,
    )
        .into_response();
    if let Disposition::Conflict(location) = &problem.disposition {
        if let Some(value) = header_value(location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}

fn parse_ca(ca_id: &str) -> Result<CaId, Problem> {
    CaId::parse(ca_id).ok_or_else(|| Problem::not_found("no ACME server"))
}

/// Checks a POST: `application/jose+json`, then the JWS (signature,
/// nonce, URL) for the very URL asked.
async fn signed(
    state: &AppState,
    ca_id: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<SignedRequest, Problem> {
    let ca = parse_ca(ca_id)?;
    let jose = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().map(str::trim) == Some("application/jose+json"));
    if !jose {
        return Err(Problem {
            disposition: Disposition::UnsupportedMediaType,
            ..Problem::malformed("ACME requests are application/jose+json")
        });
    }
    if uri.query().is_some() {
        return Err(Problem::malformed("ACME URLs take no query"));
    }
    let url = format!("{}{}", state.acme.public_url(), uri.path());
    state.acme.verify(&ca, &url, body).await
}

/// Answers a signed POST: checks it ([`signed`]), runs `work` on it, and
/// sends the answer with what every ACME answer carries and who signed it
/// for the audit trail.
async fn signed_call(
    state: &AppState,
    ca_id: &str,
    (uri, headers, body): (&Uri, &HeaderMap, &Bytes),
    work: impl AsyncFnOnce(&SignedRequest) -> AcmeAnswer,
) -> Response {
    let mut who = None;
    let answer = async {
        let request = signed(state, ca_id, uri, headers, body).await?;
        who = Some(audit_caller(&request));
        work(&request).await
    }
    .await;
    respond(&state.acme, ca_id, answer, who)
}

/// The payload as `T`; an empty payload (POST-as-GET) is `None`.
fn payload<T: DeserializeOwned>(request: &SignedRequest) -> Result<Option<T>, Problem> {
    if request.payload().is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(request.payload())
        .map(Some)
        .map_err(|e| Problem::malformed(format!("the payload: {e}")))
}

fn required<T: DeserializeOwned>(request: &SignedRequest) -> Result<T, Problem> {
    payload(request)?.ok_or_else(|| Problem::malformed("this request needs a payload"))
}

/// A POST-as-GET must have an empty payload (RFC 8555 §6.3).
fn post_as_get(request: &SignedRequest) -> Result<(), Problem> {
    if request.payload().is_empty() {
        Ok(())
    } else {
        Err(Problem::malformed(
            "this is a POST-as-GET: the payload must be empty",
        ))
    }
}

fn time(ms: i64) -> String {
    iso8601_micros(ms)
}

fn account_body(server: &AcmeServer, account: &AcmeAccount) -> wire::AccountBody {
    wire::AccountBody {
        status: account.status.as_str().to_owned(),
        contact: account.contact.clone(),
        orders: format!("{}/orders", server.account_url(account)),
        key: serde_json::from_str(&account.jwk).unwrap_or_default(),
    }
}

fn order_reply(server: &AcmeServer, view: &OrderView, status: StatusCode) -> Reply {
    let base = server.base_url(&view.order.ca_id);
    let order = &view.order;
    let body = wire::OrderBody {
        status: view.state.as_str().to_owned(),
        expires: time(order.expires_at),
        identifiers: order
            .identifiers
            .iter()
            .map(|id| wire::Identifier {
                kind: id.kind.as_str().to_owned(),
                value: id.value.clone(),
            })
            .collect(),
        not_before: order.not_before.map(time),
        not_after: order.not_after.map(time),
        error: view.error.as_ref().map(|p| problem_body(p, None)),
        authorizations: view
            .authz_ids
            .iter()
            .map(|id| format!("{base}/authz/{id}"))
            .collect(),
        finalize: format!("{base}/order/{}/finalize", order.order_id),
        certificate: order
            .certificate_id
            .as_ref()
            .map(|id| format!("{base}/cert/{id}")),
        replaces: order.replaces.clone(),
    };
    let mut reply = Reply::json(status, &body).located(format!("{base}/order/{}", order.order_id));
    if view.state == openccm_app::pca::acme::order::OrderState::Processing {
        reply.retry_after = Some(1);
    }
    reply
}

fn authz_body(server: &AcmeServer, view: &AuthzView) -> wire::AuthzBody {
    let base = server.base_url(&view.authz.ca_id);
    let a = &view.authz;
    wire::AuthzBody {
        status: view.status.as_str().to_owned(),
        expires: time(a.expires_at),
        identifier: wire::Identifier {
            kind: a.identifier.kind.as_str().to_owned(),
            value: a.identifier.value.clone(),
        },
        challenges: a
            .challenges
            .iter()
            .map(|c| challenge_body(&base, view, *c))
            .collect(),
        wildcard: a.wildcard,
    }
}

fn challenge_body(base: &str, view: &AuthzView, challenge: AcmeChallenge) -> wire::ChallengeBody {
    let a = &view.authz;
    let attempted = a.attempted == Some(challenge);
    wire::ChallengeBody {
        kind: challenge.as_str().to_owned(),
        url: format!("{base}/chall/{}/{}", a.authz_id, challenge.as_str()),
        status: view.challenge_status(challenge).to_owned(),
        token: a.token.clone(),
        validated: a.validated_at.filter(|_| attempted).map(time),
        error: a
            .error
            .as_ref()
            .filter(|_| attempted)
            .map(|e| problem_body(&Problem::from_stored(e), None)),
    }
}

fn b64url(text: &str, what: &str) -> Result<Vec<u8>, Problem> {
    openccm_pki::jws::b64url_decode(text, what)
        .map_err(|_| Problem::malformed(format!("{what} is not base64url")))
}

async fn directory(State(state): State<AppState>, Path(ca_id): Path<String>) -> Response {
    let answer = async {
        let directory = state.acme.directory(&parse_ca(&ca_id)?).await?;
        let base = &directory.base;
        Ok(Reply::json(
            StatusCode::OK,
            &wire::DirectoryBody {
                new_nonce: format!("{base}/new-nonce"),
                new_account: format!("{base}/new-account"),
                new_order: format!("{base}/new-order"),
                revoke_cert: format!("{base}/revoke-cert"),
                key_change: format!("{base}/key-change"),
                renewal_info: format!("{base}/renewal-info"),
                meta: wire::DirectoryMeta {
                    external_account_required: directory.external_account_required,
                },
            },
        ))
    }
    .await;
    respond(&state.acme, &ca_id, answer, None)
}

async fn new_nonce(
    State(state): State<AppState>,
    Path(ca_id): Path<String>,
    method: axum::http::Method,
) -> Response {
    let answer = async {
        state.acme.acme_ca(&parse_ca(&ca_id)?).await?;
        Ok(Reply {
            // RFC 8555 §7.2: 200 to HEAD, 204 to GET.
            status: if method == axum::http::Method::HEAD {
                StatusCode::OK
            } else {
                StatusCode::NO_CONTENT
            },
            location: None,
            links: Vec::new(),
            retry_after: None,
            body: Body::Empty,
            read_only: false,
        })
    }
    .await;
    respond(&state.acme, &ca_id, answer, None)
}

/// The arguments of every signed route.
type Signed = (State<AppState>, Uri, HeaderMap, Bytes);

async fn new_account(
    Path(ca_id): Path<String>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let p: wire::NewAccountPayload = payload(request)?.unwrap_or_default();
            let (account, created) = state
                .acme
                .new_account(
                    request,
                    NewAccount {
                        contact: p.contact,
                        only_return_existing: p.only_return_existing.unwrap_or(false),
                        external_account_binding: p.external_account_binding,
                    },
                )
                .await?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(Reply::json(status, &account_body(&state.acme, &account))
                .located(state.acme.account_url(&account)))
        },
    )
    .await
}

async fn account(
    Path((ca_id, id)): Path<(String, String)>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let update = payload::<wire::AccountUpdatePayload>(request)?.map(|p| AccountUpdate {
                contact: p.contact,
                status: p.status,
            });
            let looked = update.is_none();
            let account = state.acme.update_account(request, &id, update).await?;
            Ok(
                Reply::json(StatusCode::OK, &account_body(&state.acme, &account))
                    .located(state.acme.account_url(&account))
                    .read(looked),
            )
        },
    )
    .await
}

async fn orders(
    Path((ca_id, id)): Path<(String, String)>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            post_as_get(request)?;
            let ids = state.acme.orders(request, &id).await?;
            let base = state.acme.base_url(&request.ca.record.ca_id);
            Ok(Reply::json(
                StatusCode::OK,
                &wire::OrdersBody {
                    orders: ids.iter().map(|o| format!("{base}/order/{o}")).collect(),
                },
            )
            .read(true))
        },
    )
    .await
}

async fn key_change(
    Path(ca_id): Path<String>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let inner: serde_json::Value = required(request)?;
            let account = state.acme.change_key(request, &inner).await?;
            Ok(
                Reply::json(StatusCode::OK, &account_body(&state.acme, &account))
                    .located(state.acme.account_url(&account)),
            )
        },
    )
    .await
}

async fn new_order(
    Path(ca_id): Path<String>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let p: wire::NewOrderPayload = required(request)?;
            let parse_time = |t: Option<String>| {
                t.map(|t| {
                    openccm_app::clock::parse_time_ms(&t)
                        .map_err(|e| Problem::malformed(format!("notBefore/notAfter: {e}")))
                })
                .transpose()
            };
            let view = state
                .acme
                .new_order(
                    request,
                    NewOrder {
                        identifiers: p
                            .identifiers
                            .into_iter()
                            .map(|i| (i.kind, i.value))
                            .collect(),
                        not_before: parse_time(p.not_before)?,
                        not_after: parse_time(p.not_after)?,
                        replaces: p.replaces,
                    },
                )
                .await?;
            Ok(order_reply(&state.acme, &view, StatusCode::CREATED))
        },
    )
    .await
}

async fn order(
    Path((ca_id, id)): Path<(String, String)>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            post_as_get(request)?;
            let view = state.acme.order(request, &id).await?;
            Ok(order_reply(&state.acme, &view, StatusCode::OK).read(true))
        },
    )
    .await
}

async fn finalize(
    Path((ca_id, id)): Path<(String, String)>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let p: wire::FinalizePayload = required(request)?;
            let csr =
                b64url(&p.csr, "csr").map_err(|e| Problem::new(ProblemKind::BadCsr, e.detail))?;
            let view = state.acme.finalize(request, &id, &csr).await?;
            Ok(order_reply(&state.acme, &view, StatusCode::OK))
        },
    )
    .await
}

async fn authz(
    Path((ca_id, id)): Path<(String, String)>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let deactivate = match payload::<wire::AuthzUpdatePayload>(request)? {
                None => false,
                Some(p) => match p.status.as_deref() {
                    Some("deactivated") => true,
                    None => false,
                    Some(_) => {
                        return Err(Problem::malformed(
                            "an authorization's status can only be set to deactivated",
                        ))
                    }
                },
            };
            let view = state.acme.authz(request, &id, deactivate).await?;
            let mut reply =
                Reply::json(StatusCode::OK, &authz_body(&state.acme, &view)).read(!deactivate);
            if view.authz.processing {
                reply.retry_after = Some(1);
            }
            Ok(reply)
        },
    )
    .await
}

async fn challenge(
    Path((ca_id, id, kind)): Path<(String, String, String)>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let challenge =
                AcmeChallenge::parse(&kind).ok_or_else(|| Problem::not_found("the challenge"))?;
            // `{}` (any object) answers the challenge; an empty payload looks.
            let respond_now =
                payload::<serde_json::Map<String, serde_json::Value>>(request)?.is_some();
            let view = state
                .acme
                .challenge(request, &id, challenge, respond_now)
                .await?;
            let base = state.acme.base_url(&request.ca.record.ca_id);
            let mut reply = Reply::json(StatusCode::OK, &challenge_body(&base, &view, challenge))
                .read(!respond_now);
            reply.links.push(format!("<{base}/authz/{id}>;rel=\"up\""));
            if view.authz.processing {
                reply.retry_after = Some(1);
            }
            Ok(reply)
        },
    )
    .await
}

async fn certificate(
    Path((ca_id, id)): Path<(String, String)>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            post_as_get(request)?;
            let cert_id =
                CertId::parse(&id).ok_or_else(|| Problem::not_found("the certificate"))?;
            let chain = state.acme.certificate(request, &cert_id).await?;
            let mut pem = String::new();
            for der in &chain.chain {
                pem.push_str(
                    &openccm_pki::pem::encode("CERTIFICATE", der, openccm_pki::pem::Eol::LF)
                        .map_err(|e| Problem::from(openccm_app::Error::from(e)))?,
                );
            }
            Ok(Reply {
                status: StatusCode::OK,
                location: None,
                links: Vec::new(),
                retry_after: None,
                body: Body::Pem(pem),
                read_only: true,
            })
        },
    )
    .await
}

async fn revoke_cert(
    Path(ca_id): Path<String>,
    (State(state), uri, headers, body): Signed,
) -> Response {
    signed_call(
        &state,
        &ca_id,
        (&uri, &headers, &body),
        async |request: &SignedRequest| {
            let p: wire::RevokePayload = required(request)?;
            let der = b64url(&p.certificate, "certificate")?;
            state.acme.revoke(request, &der, p.reason).await?;
            Ok(Reply {
                status: StatusCode::OK,
                location: None,
                links: Vec::new(),
                retry_after: None,
                body: Body::Empty,
                read_only: false,
            })
        },
    )
    .await
}

async fn renewal_info(
    State(state): State<AppState>,
    Path((ca_id, id)): Path<(String, String)>,
) -> Response {
    let answer = async {
        let window = state.acme.renewal_info(&parse_ca(&ca_id)?, &id).await?;
        let mut reply = Reply::json(
            StatusCode::OK,
            &wire::RenewalInfoBody {
                suggested_window: wire::Window {
                    start: time(window.start),
                    end: time(window.end),
                },
            },
        );
        reply.retry_after = Some(openccm_app::pca::acme::revoke::RENEWAL_INFO_RETRY_SECONDS);
        Ok(reply)
    }
    .await;
    respond(&state.acme, &ca_id, answer, None)
}
