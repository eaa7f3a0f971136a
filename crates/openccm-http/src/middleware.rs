//! The request pipeline: request ids and the access log (the pieces
//! tower-http's request-id and trace layers take, wired in `lib.rs`), body
//! buffering with the route's size and time limits, authentication.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use openccm_app::iam::signing::{HeaderSource, RequestParts};
use openccm_app::iam::Caller;
use openccm_app::metrics::AuthFailure;
use openccm_app::Error;
use openccm_wire::error::gateway;

use crate::error::{classify, ApiError, Service};
use crate::AppState;

/// The header that carries the request id, on requests and responses.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Assigns the request's id, 32 hex chars (a random UUID, simple form),
/// kept as tower-http's `RequestId` in the request's extensions (the
/// trace layer's span and every error body read it there) and returned in
/// `X-Request-Id` on every response.
///
/// The id is always ours: a client's `X-Request-Id` is never used (log
/// lines cannot be forged or confused) and never touched either, because
/// it may be one of the headers the client's signature covers. This is why
/// tower-http's `SetRequestIdLayer`/`PropagateRequestIdLayer` are not used:
/// they adopt a client's id, and write the id into the request's headers.
pub async fn assign_request_id(mut req: Request, next: Next) -> Response {
    let id = HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("0"));
    req.extensions_mut()
        .insert(tower_http::request_id::RequestId::new(id.clone()));
    let mut response = next.run(req).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, id);
    response
}

/// The id of a request (empty before one is assigned).
pub fn request_id_of(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<tower_http::request_id::RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The span of a request: its id, method and route path (never headers,
/// bodies or query strings), and the user once authenticated.
pub fn request_span(req: &axum::http::Request<Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = %request_id_of(req.extensions()),
        method = %req.method(),
        path = %req.uri().path(),
        user = tracing::field::Empty
    )
}

/// One log line per request: status and latency.
pub fn log_response(response: &Response, latency: Duration, span: &tracing::Span) {
    let status = response.status().as_u16();
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, latency_us = micros, "request failed");
        } else {
            tracing::info!(status, latency_us = micros, "request");
        }
    });
}

/// The request body exactly as received (signatures cover these bytes).
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

/// The authenticated caller of a protected route.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

/// How a group of routes buffers request bodies.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    /// Largest body, in bytes.
    pub max_bytes: usize,
    /// Time to receive the whole body.
    pub timeout: std::time::Duration,
    /// One permit per body being received, shared by every route.
    pub slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Bodies being received per client (`client_key`), shared by every route.
    pub per_client: std::sync::Arc<ClientSlots>,
}

/// Bodies being received per client: one client may hold at most
/// `max_per_client` of the shared slots, so that a few slow clients cannot
/// take them all.
#[derive(Debug)]
pub struct ClientSlots {
    held: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
    max_per_client: usize,
}

impl ClientSlots {
    /// At most `max_per_client` bodies per client.
    pub fn new(max_per_client: usize) -> Self {
        Self {
            held: std::sync::Mutex::default(),
            max_per_client: max_per_client.max(1),
        }
    }

    /// A slot for `client`, or `None` when it holds its share already.
    fn take(self: &std::sync::Arc<Self>, client: std::net::IpAddr) -> Option<ClientSlot> {
        let key = openccm_app::iam::lockout::client_key(client);
        let mut held = self.held.lock().ok()?;
        let count = held.entry(key).or_insert(0);
        if *count >= self.max_per_client {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            slots: self.clone(),
            key,
        })
    }
}

/// A client's slot, given back when dropped.
struct ClientSlot {
    slots: std::sync::Arc<ClientSlots>,
    key: std::net::IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut held) = self.slots.held.lock() {
            if let Some(count) = held.get_mut(&self.key) {
                *count -= 1;
                if *count == 0 {
                    held.remove(&self.key);
                }
            }
        }
    }
}

/// Reads the whole body, up to the route's limit, before authentication and
/// the handler run: over the limit → 413; not received within the time
/// limit → 408; too many bodies being received already, in all or from this
/// client → 503 (nothing read). The bytes are kept as [`RawBody`] for
/// signature checks and put back for the extractors.
pub async fn buffer_body(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let id = request_id_of(req.extensions());
    let limit = limits.max_bytes;
    let too_large = || {
        ApiError::gateway(
            StatusCode::PAYLOAD_TOO_LARGE,
            gateway::ENTITY_TOO_LARGE,
            format!("Request entity too large: the limit is {limit} bytes."),
            &id,
        )
        .into_response()
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large();
    }
    if axum::body::HttpBody::is_end_stream(req.body()) {
        return next.run(req).await;
    }
    let client_slot = match peer_address(&req) {
        Some(client) => limits.per_client.take(client).map(Some),
        None => Some(None),
    };
    let (Some(client_slot), Ok(slot)) = (client_slot, limits.slots.clone().try_acquire_owned())
    else {
        let mut busy = ApiError::gateway(
            StatusCode::SERVICE_UNAVAILABLE,
            gateway::BUSY,
            "Too many request bodies are being received; retry shortly.",
            &id,
        )
        .into_response();
        busy.headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        return busy;
    };
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(limits.timeout, axum::body::to_bytes(body, limit)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) => {
            let over_limit = std::error::Error::source(&err).is_some_and(
                <dyn std::error::Error + 'static>::is::<http_body_util::LengthLimitError>,
            ) || err.to_string().contains("length limit");
            if over_limit {
                return too_large();
            }
            return ApiError::gateway(
                StatusCode::BAD_REQUEST,
                gateway::BAD_REQUEST,
                "The request body could not be read.",
                &id,
            )
            .into_response();
        }
        Err(_) => {
            tracing::info!(
                timeout_ms = u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
                "request body not received in time"
            );
            let mut timed_out = ApiError::gateway(
                StatusCode::REQUEST_TIMEOUT,
                gateway::BODY_TIMEOUT,
                "The request body was not received in time.",
                &id,
            )
            .into_response();
            // The rest of the body may still arrive: do not read it as the next request.
            timed_out
                .headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return timed_out;
        }
    };
    drop((slot, client_slot));
    let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
    req.extensions_mut().insert(RawBody(bytes));
    next.run(req).await
}

/// Headers by lower-case name; `host` falls back to the URI authority
/// (HTTP/2 sends `:authority` instead of `Host`).
pub struct Headers<'a> {
    map: &'a HeaderMap,
    uri: &'a Uri,
}

impl<'a> Headers<'a> {
    /// Wraps a request's headers and URI.
    pub fn new(map: &'a HeaderMap, uri: &'a Uri) -> Self {
        Self { map, uri }
    }
}

impl HeaderSource for Headers<'_> {
    fn values(&self, name: &str) -> Vec<&[u8]> {
        let values: Vec<&[u8]> = self
            .map
            .get_all(name)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect();
        if values.is_empty() && name == "host" {
            if let Some(authority) = self.uri.authority() {
                return vec![authority.as_str().as_bytes()];
            }
        }
        values
    }
}

/// The parts of a request that authentication reads. (Borrowing these
/// instead of the `Request` keeps the future `Send`: the body is not `Sync`.)
#[derive(Clone, Copy)]
pub struct AuthInput<'a> {
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Method.
    pub method: &'a http::Method,
    /// Target.
    pub uri: &'a Uri,
    /// Raw body.
    pub body: &'a [u8],
}

/// The TCP peer's address, when the server recorded it (`ConnectInfo`).
/// Only the peer counts: a forwarded-for header is the client's own claim.
pub fn peer_address(req: &Request) -> Option<std::net::IpAddr> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The buffered body of `req` (empty if none was buffered).
pub fn raw_body(req: &Request) -> RawBody {
    req.extensions()
        .get::<RawBody>()
        .cloned()
        .unwrap_or_default()
}

/// Authenticates a request by `X-Auth-Token`, AK/SK signature or console
/// session.
///
/// # Errors
/// The application error, for the edge to map.
pub async fn caller_of(state: &AppState, input: AuthInput<'_>) -> Result<Caller, Error> {
    if let Some(token) = input.headers.get("x-auth-token") {
        return token_caller(state, token).await;
    }
    if input.headers.contains_key(http::header::AUTHORIZATION) {
        return signed_caller(state, input).await;
    }
    if let Some(token) = crate::console::session_token(state, input.headers) {
        return console_caller(state, input.headers, token).await;
    }
    openccm_app::metrics::auth_failure(AuthFailure::MissingCredentials);
    Err(Error::Unauthenticated(
        "Incorrect IAM authentication information: x-auth-token not found".into(),
    ))
}

/// Authenticates a console session's call: its cookie's token, if the
/// call carries the session's anti-forgery value (`crate::console`).
async fn console_caller(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
) -> Result<Caller, Error> {
    let presented = headers
        .get(crate::console::CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if crate::console::cross_site(headers) || !state.iam.console_csrf_matches(token, presented) {
        openccm_app::metrics::auth_failure(AuthFailure::BadToken);
        return Err(Error::Unauthenticated(
            crate::console::bad_csrf().to_owned(),
        ));
    }
    state.iam.authenticate_console_session(token).await
}

/// Authenticates the bearer token `token` (an `X-Auth-Token` value).
///
/// # Errors
/// `Unauthenticated` when it is not a valid token.
pub async fn token_caller(state: &AppState, token: &HeaderValue) -> Result<Caller, Error> {
    let token = token.to_str().map_err(|_| {
        openccm_app::metrics::auth_failure(AuthFailure::BadToken);
        Error::Unauthenticated(
            "Incorrect IAM authentication information: decrypt token fail".into(),
        )
    })?;
    state.iam.authenticate_token(token).await
}

/// Authenticates a request by its AK/SK signature alone (`X-Auth-Token`, if
/// also present, is not looked at).
///
/// # Errors
/// `Unauthenticated` without a valid `Authorization` header.
pub async fn signed_caller(state: &AppState, input: AuthInput<'_>) -> Result<Caller, Error> {
    let headers = input.headers;
    let Some(authorization) = headers.get(http::header::AUTHORIZATION) else {
        openccm_app::metrics::auth_failure(AuthFailure::MissingCredentials);
        return Err(Error::Unauthenticated(
            "Incorrect IAM authentication information: Authorization not found".into(),
        ));
    };
    let authorization = authorization.to_str().map_err(|_| {
        openccm_app::metrics::auth_failure(AuthFailure::MalformedSignature);
        Error::Unauthenticated(
            "Incorrect IAM authentication information: malformed Authorization header".into(),
        )
    })?;
    let source = Headers::new(headers, input.uri);
    let parts = RequestParts {
        method: input.method.as_str(),
        path: input.uri.path(),
        query: input.uri.query().unwrap_or(""),
        headers: &source,
        body: input.body,
    };
    state.iam.authenticate_signed(authorization, &parts).await
}

/// Route layer of protected routes: nothing below runs unauthenticated.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let body = raw_body(&req);
    let (parts, request_body) = req.into_parts();
    let input = AuthInput {
        headers: &parts.headers,
        method: &parts.method,
        uri: &parts.uri,
        body: &body.0,
    };
    let outcome = caller_of(&state, input).await;
    req = Request::from_parts(parts, request_body);
    match outcome {
        Ok(caller) => {
            tracing::Span::current().record("user", caller.user_id.as_str());
            let who = crate::audit::AuditCaller::from(&caller);
            req.extensions_mut().insert(Authenticated(caller));
            let mut response = next.run(req).await;
            response.extensions_mut().insert(who);
            response
        }
        Err(err) => {
            let id = request_id_of(req.extensions());
            let (status, code, msg) = classify(Service::Gateway, &err);
            if let Error::Internal(detail) = &err {
                tracing::error!(error = %detail, "authentication failed internally");
            } else {
                tracing::info!(reason = %msg, "authentication refused");
            }
            ApiError::gateway(status, code, msg, &id).into_response()
        }
    }
}
