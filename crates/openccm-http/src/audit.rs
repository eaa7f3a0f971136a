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

use crate::middleware::peer_address;
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

/// A call that only read, though not sent as a GET (ACME's POST-as-GET):
/// not recorded (its handler sets this on success only).
#[derive(Debug, Clone, Copy)]
pub struct ReadOnly;

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

/// The longest field recorded, in characters (longer ones are cut, marked
/// with `…`): a client cannot make the trail store its 64 KiB URI.
const MAX_FIELD_CHARS: usize = 256;

/// `text` as it may enter the trail: control characters (a NUL that
/// PostgreSQL would refuse, a newline that would forge a line) escaped as
/// `\u{..}`, and at most [`MAX_FIELD_CHARS`] characters.
fn field(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_FIELD_CHARS));
    for (n, c) in text.chars().enumerate() {
        if n == MAX_FIELD_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Route layer: records the call once the inner layers have answered.
///
/// A call that may change something runs, with its recording, as a task of
/// its own: a client that goes away mid-call cancels neither, so a change
/// that commits is recorded even if its answer is never read. The task is
/// tracked (`Services::calls`): shutdown lets it finish before the store
/// closes. A read (GET, HEAD) changes nothing, and stays on the
/// connection's task.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return run_and_record(state, req, next).await;
    }
    let calls = state.calls.clone();
    let task = calls.spawn(tracing::Instrument::instrument(
        run_and_record(state, req, next),
        tracing::Span::current(),
    ));
    match task.await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "a call's task failed");
            crate::error::panic_response(Box::new(()))
        }
    }
}

async fn run_and_record(state: AppState, req: Request, next: Next) -> Response {
    // What the event needs from the request, taken before it is consumed
    // and formatted only if the call is recorded (most reads are not).
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let source = peer_address(&req);
    let request_id = crate::middleware::request_id_of(req.extensions());
    let (mut parts, body) = req.into_parts();
    let params =
        <RawPathParams as axum::extract::FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .await
            .ok();
    let uri = parts.uri.clone();
    let response = next.run(Request::from_parts(parts, body)).await;
    let status = response.status();
    let denied = status.as_u16() == 401 || status.as_u16() == 403;
    let read = matches!(method, Method::GET | Method::HEAD)
        || response.extensions().get::<ReadOnly>().is_some();
    if read && !denied {
        return response;
    }
    let params = params
        .map(|params| {
            params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default();
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
    let route = route.as_ref().map_or(uri.path(), MatchedPath::as_str);
    let event = AuditEvent {
        at: state.iam.clock().now_ms(),
        domain_id: caller.map(|c| c.domain_id.clone()).unwrap_or_default(),
        user_id: caller.map(|c| c.user_id.clone()).unwrap_or_default(),
        source: source.map(|a| a.to_string()).unwrap_or_default(),
        action: field(&format!("{method} {route}")),
        resource_id: field(&resource_id),
        result,
        request_id,
    };
    if let Err(err) = state.audit.record(event).await {
        // The call happened: its answer still goes out, and the failure is loud.
        tracing::error!(error = %err, "the call could not be recorded in the audit trail");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_escaped_and_bounded() {
        assert_eq!(field("ca_id=a\0b\nc"), "ca_id=a\\u{0}b\\u{a}c");
        let long = "x".repeat(10_000);
        assert_eq!(field(&long).chars().count(), MAX_FIELD_CHARS + 1);
        assert_eq!(field("示例"), "示例");
    }
}
