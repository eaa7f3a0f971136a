//! Recording calls in the audit trail (`openccm_app::audit`): every call
//! that is not a read (any method but GET and HEAD: exports included), and
//! every call refused with 401 or 403, once its response is ready and before
//! it is sent.
//!
//! Handlers and the authentication layer leave what the trail needs in the
//! response's extensions: [`AuditCaller`] (who), [`AuditResource`] (the id a
//! create returned); [`crate::error::ApiError`] leaves its error code. Only
//! ids, the route template, the status and the code are recorded: never a
//! header, a query string or a body.

use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use openccm_app::iam::Caller;
use openccm_store::AuditEvent;

use crate::middleware::{peer_address, RequestId};
use crate::AppState;

/// Who made the call (set by authentication and by the token route).
#[derive(Debug, Clone)]
pub struct AuditCaller {
    /// Account id.
    pub domain_id: String,
    /// User id.
    pub user_id: String,
}

impl From<&Caller> for AuditCaller {
    fn from(caller: &Caller) -> Self {
        Self {
            domain_id: caller.domain_id.to_string(),
            user_id: caller.user_id.to_string(),
        }
    }
}

/// The error code of a refused call (set by `ApiError`).
#[derive(Debug, Clone)]
pub struct AuditErrorCode(pub String);

/// The resource a call created (its path names none yet).
#[derive(Debug, Clone)]
pub struct AuditResource(pub String);

/// `response` with the id of the resource it created, for the audit trail.
pub fn created(resource: impl Into<String>, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .extensions_mut()
        .insert(AuditResource(resource.into()));
    response
}

/// Route layer: records the call once the inner layers have answered.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let source = peer_address(&req)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    let params =
        <RawPathParams as axum::extract::FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .await
            .ok()
            .map(|params| {
                params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .unwrap_or_default();
    let response = next.run(Request::from_parts(parts, body)).await;
    let status = response.status();
    let denied = status.as_u16() == 401 || status.as_u16() == 403;
    if matches!(method, Method::GET | Method::HEAD) && !denied {
        return response;
    }
    let caller = response.extensions().get::<AuditCaller>();
    let resource_id = match response.extensions().get::<AuditResource>() {
        Some(created) if params.is_empty() => created.0.clone(),
        Some(created) => format!("{params}&created={}", created.0),
        None => params,
    };
    let result = match response.extensions().get::<AuditErrorCode>() {
        Some(code) => format!("{} {}", status.as_u16(), code.0),
        None => status.as_u16().to_string(),
    };
    let event = AuditEvent {
        at: state.iam.clock().now_ms(),
        domain_id: caller.map(|c| c.domain_id.clone()).unwrap_or_default(),
        user_id: caller.map(|c| c.user_id.clone()).unwrap_or_default(),
        source,
        action: format!("{method} {route}"),
        resource_id,
        result,
        request_id,
    };
    if let Err(err) = state.audit.record(event).await {
        // The call happened: its answer still goes out, and the failure is loud.
        tracing::error!(error = %err, "the call could not be recorded in the audit trail");
    }
    response
}
